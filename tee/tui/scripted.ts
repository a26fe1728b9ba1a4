// Scripted trusted-UI providers for tests and the demo: a simulated person who reads the
// simulated display and touches the keys for a PIN. It finds a digit the way a person does —
// by reading the keys the TA drew (./eyes.ts matches the pixels against the glyph shapes) and
// touching the middle of the right one; in the accessible variant, by listening to the layout
// the TEE's audio path speaks and counting keys from the top left — never by asking the TA.
// Screens without pixels (the conformance kit's probe) are read by their labels.
import { TuiMode, type AudioOut, type TuiDisplay, type TuiScreen, type TuiSink, type UiProvider } from './provider.ts';
import { hasPixels, readKeys } from './eyes.ts';

/** One step of a person at the keypad. `digits` touches the key of each digit in turn. */
export type Action =
  | { digits: string }
  | { touch: number }
  | { touchAt: [number, number] }
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
      if (typeof a === 'string') steps.push({ run: () => this.press(a, sink), wait: 0 });
      else if ('touch' in a) steps.push({ run: () => sink.touch(a.touch), wait: 0 });
      else if ('touchAt' in a) steps.push({ run: () => sink.touchAt(a.touchAt[0], a.touchAt[1]), wait: 0 });
      else if ('wait' in a) steps.push({ run: () => undefined, wait: a.wait });
      else for (const d of a.digits) steps.push({ run: () => this.press(d, sink), wait: 0 });
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

  /** What the person has heard on the TEE's audio path (accessible mode), latest last. */
  readonly heard: string[] = [];
  /** The person's ears: pass as UiProviders.audio. */
  readonly ears: AudioOut = { say: (text) => { this.heard.push(text); } };

  /** Presses a digit key, or the OK / CLEAR / CANCEL key: on a drawn keypad by touching the
   * middle of the key that reads (or was said to be) it; on a labelled screen by its label, and
   * the function keys by the provider's own buttons. */
  private press(what: string, sink: TuiSink): void {
    const screen = this.display.current;
    const fn = what === 'ok' || what === 'clear' || what === 'cancel';
    if (screen && hasPixels(screen)) {
      const key = this.listening(screen) ? this.byEar(screen, what) : readKeys(screen).find((k) => k.text === what.toUpperCase());
      if (key) { sink.touchAt(key.x, key.y); return; }
      if (!fn) throw new Error('the simulated person cannot find that key on the screen');
      // a screen without such a key: the display's own button
    }
    if (what === 'ok') sink.ok();
    else if (what === 'clear') sink.clear();
    else if (what === 'cancel') sink.cancel();
    else sink.touch(this.find(what));
  }

  private listening(screen: TuiScreen): boolean {
    return this.opts.sense === 'listen' || screen.mode === TuiMode.TUI_MODE_ACCESSIBLE;
  }

  /** The key that the spoken layout put `what` on: the digit words in the order said, the keys
   * counted from the top left row by row; then clear, OK and cancel, as the guidance says. */
  private byEar(screen: TuiScreen, what: string): { x: number; y: number } | undefined {
    const said = this.heard.filter((w) => SPOKEN.includes(w)).slice(-10);
    const keys = screen.keys
      .map((k) => ({ x: (k.x ?? 0) + ((k.width ?? 0) >> 1), y: (k.y ?? 0) + ((k.height ?? 0) >> 1) }))
      .sort((a, b) => a.y - b.y || a.x - b.x);
    const i = what === 'clear' ? 10 : what === 'ok' ? 11 : what === 'cancel' ? 12 : said.indexOf(SPOKEN[+what]);
    return i >= 0 && said.length === 10 ? keys[i] : undefined;
  }

  /** The position of the key labelled (or said to be) this digit on a screen without pixels. */
  private find(digit: string): number {
    const screen = this.display.current;
    const listen = !!screen && this.listening(screen);
    const key = screen?.keys.find((k) => (listen ? k.speech === SPOKEN[+digit] : k.label === digit));
    if (!key) throw new Error(`the simulated person cannot find the key for a digit on the screen`);
    return key.position ?? 0;
  }
}

/** The accessible variant: the person cannot read the screen and finds keys by what the TEE's
 * audio path says (wire `ears` as UiProviders.audio). The runtime routes TUI_MODE_ACCESSIBLE
 * screens to it. */
export class ScriptedAccessibleUiProvider extends ScriptedUiProvider {
  constructor(opts: Omit<ScriptedOptions, 'sense'> = {}) {
    super({ ...opts, sense: 'listen' });
  }
}

/** The words the pinpad TA says for each digit. */
export const SPOKEN = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
