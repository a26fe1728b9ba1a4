// Scripted trusted-UI providers for tests and the demo: a simulated person who reads the
// simulated display and touches the keys for a PIN. It finds a digit the way a person does —
// by looking for the key labelled with it on the screen the TA drew (or, in the accessible
// variant, by listening to each key's spoken label) — never by asking the TA.
import { TuiMode, type TuiDisplay, type TuiScreen, type TuiSink, type UiProvider } from './provider.ts';

/** One step of a person at the keypad. `digits` touches the key of each digit in turn. */
export type Action =
  | { digits: string }
  | { touch: number }
  | { wait: number }
  | 'ok' | 'clear' | 'cancel';

/** What one person does at one entry; an empty list does nothing (the entry times out). */
export type Person = Action[];

export const enterPin = (pin: string): Person => [{ digits: pin }, 'ok'];

/** The display as a person sees it: the latest screen, plus every screen shown. */
export class SimulatedDisplay {
  current: TuiScreen | null = null;
  readonly history: TuiScreen[] = [];
  show(s: TuiScreen): void {
    this.current = s;
    this.history.push(s);
  }
}

export interface ScriptedOptions {
  /** Delay between steps (default 0: next macrotask). */
  stepDelayMs?: number;
  /** How the person finds a digit: 'look' reads labels (standard), 'listen' reads speech. */
  sense?: 'look' | 'listen';
}

export class ScriptedUiProvider implements UiProvider {
  private readonly queue: Person[] = [];
  /** Every entry's first screen, in order (layout randomness tests read these). */
  readonly opened: TuiScreen[] = [];
  readonly display = new SimulatedDisplay();
  /** Entries closed so far. */
  closed = 0;
  /** What went wrong for the simulated person (a digit not on the screen). */
  readonly errors: string[] = [];

  constructor(private readonly opts: ScriptedOptions = {}) {}

  /** The next entries are done by these people, one each. */
  enqueue(...people: Person[]): this {
    this.queue.push(...people);
    return this;
  }

  get pending(): number {
    return this.queue.length;
  }

  open(screen: TuiScreen, sink: TuiSink): TuiDisplay {
    this.opened.push(screen);
    this.display.show(screen);
    const person = this.queue.shift() ?? [];
    let live = true;
    const steps: { run: () => void; wait: number }[] = [];
    for (const a of person) {
      if (typeof a === 'string') steps.push({ run: () => (a === 'ok' ? sink.ok() : a === 'clear' ? sink.clear() : sink.cancel()), wait: 0 });
      else if ('touch' in a) steps.push({ run: () => sink.touch(a.touch), wait: 0 });
      else if ('wait' in a) steps.push({ run: () => undefined, wait: a.wait });
      else for (const d of a.digits) steps.push({ run: () => sink.touch(this.find(d)), wait: 0 });
    }
    let i = 0;
    const next = () => {
      if (!live || i >= steps.length) return;
      const step = steps[i++];
      setTimeout(() => {
        if (!live) return;
        try {
          step.run();
        } catch (e) {
          this.errors.push((e as Error).message); // the person gives up; the entry times out
          return;
        }
        next();
      }, step.wait + (this.opts.stepDelayMs ?? 0));
    };
    next();
    return {
      show: (s) => this.display.show(s),
      close: () => { live = false; this.closed++; this.display.current = null; },
    };
  }

  /** The position of the key showing (or saying) this digit on the current screen. */
  private find(digit: string): number {
    const screen = this.display.current;
    const listen = this.opts.sense === 'listen' || screen?.mode === TuiMode.TUI_MODE_ACCESSIBLE;
    const key = screen?.keys.find((k) => (listen ? k.speech === SPOKEN[+digit] : k.label === digit));
    if (!key) throw new Error(`the simulated person cannot find the key for a digit on the screen`);
    return key.position ?? 0;
  }
}

/** The accessible variant: the person cannot read the screen and finds keys by their spoken
 * labels (large-key layout, audio feedback). The runtime routes TUI_MODE_ACCESSIBLE screens to it. */
export class ScriptedAccessibleUiProvider extends ScriptedUiProvider {
  constructor(opts: Omit<ScriptedOptions, 'sense'> = {}) {
    super({ ...opts, sense: 'listen' });
  }
}

/** The words the pinpad TA puts in TuiKey.speech for each digit. */
export const SPOKEN = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
