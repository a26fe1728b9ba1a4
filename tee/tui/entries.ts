// One pending trusted-UI entry, runtime side: the client's command waits while the provider's
// events are queued and delivered to the TA one at a time (never while the TA is running), with
// the runtime's timer as the last event. Whatever ends it — the TA's final reply, an abort by the
// client, the TA's death — resolves the pending command exactly once.
import { TuiEventKind, openOnDisplay, touchPoint, type TuiDisplay, type TuiScreen, type UiProviders } from './provider.ts';
import { recordBoundary, recording } from '../abi/recorder.ts';

/** What delivering one event gave: null while the TA keeps the entry pending. */
export type Deliver<R> = (kind: number, position: number) => R | null;

export class PendingEntry<R> {
  private readonly queue: [number, number][] = [];
  private display: TuiDisplay | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private scheduled = false;
  done = false;

  constructor(
    readonly ta: string,
    readonly session: number,
    private readonly deliver: Deliver<R>,
    private readonly resolve: (r: R) => void,
  ) {}

  /** Shows the screen and arms the timer. */
  start(ui: UiProviders, screen: TuiScreen, timeoutMs: number): void {
    const push = (kind: number, position = 0) => this.push(kind, position);
    this.display = openOnDisplay(ui, screen, {
      touch: (p) => push(TuiEventKind.TUI_EVENT_TOUCH, p >>> 0),
      touchAt: (x, y) => push(TuiEventKind.TUI_EVENT_TOUCH_AT, touchPoint(x, y)),
      ok: () => push(TuiEventKind.TUI_EVENT_OK),
      clear: () => push(TuiEventKind.TUI_EVENT_CLEAR),
      cancel: () => push(TuiEventKind.TUI_EVENT_CANCEL),
    });
    this.timer = setTimeout(() => push(TuiEventKind.TUI_EVENT_TIMEOUT), timeoutMs);
  }

  update(screen: TuiScreen): void {
    this.display?.show(screen);
  }

  push(kind: number, position = 0): void {
    if (this.done) return;
    this.queue.push([kind, position]);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.done) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  /** Delivers queued events in order until the TA finishes. */
  drain(): void {
    while (!this.done && this.queue.length) {
      const [kind, position] = this.queue.shift()!;
      if (recording()) recordBoundary({ channel: 'tui-event', ta: this.ta, numbers: [this.session, kind, position] });
      const r = this.deliver(kind, position);
      if (r !== null) this.finish(r);
    }
  }

  /** Delivers an abort now (session closing): the TA ends the entry with its own outcome. */
  abortNow(fallback: R): void {
    if (this.done) return;
    this.queue.length = 0;
    const r = this.deliver(TuiEventKind.TUI_EVENT_ABORT, 0);
    this.finish(r ?? fallback);
  }

  finish(r: R): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    try { this.display?.close(); } catch { /* a provider failure must not lose the answer */ }
    this.display = null;
    this.resolve(r);
  }
}
