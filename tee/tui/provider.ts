// Trusted UI providers (docs/trusted-ui.md): the TEE-side display and touch path. A TA hands the
// runtime a screen (tui_begin); the runtime gives it to a provider, which draws it and reports
// what the person does — a touched key position, OK, clear, cancel — and nothing else. A provider
// never learns what a position means beyond the label the TA asked it to draw, and never talks
// to the REE. The runtime owns the timer, the event queue and the pending client command.
import { trusttap } from '../../proto/gen/ts/trusttap.js';

export type TuiScreen = trusttap.tee.v1.TuiScreen;
export const TuiEventKind = trusttap.tee.v1.TuiEventKind;
export const TuiMode = trusttap.tee.v1.TuiMode;

/** What a provider reports for the entry it is showing. Calls after close() are ignored. */
export interface TuiSink {
  touch(position: number): void;
  ok(): void;
  clear(): void;
  cancel(): void;
}

/** One entry on the display. */
export interface TuiDisplay {
  /** The TA replaced the screen (tui_update): digits entered, a notice. */
  show(screen: TuiScreen): void;
  /** The entry is over: clear the display, stop reporting. */
  close(): void;
}

export interface UiProvider {
  /** A TA began an entry: draw `screen` and report through `sink` until close(). */
  open(screen: TuiScreen, sink: TuiSink): TuiDisplay;
}

/** The providers a runtime offers; the TA's screen mode picks one (TUI_MODE_ACCESSIBLE → the
 * accessible provider when there is one, else the standard one draws it). */
export interface UiProviders {
  standard: UiProvider;
  accessible?: UiProvider;
}

export function decodeScreen(bytes: Uint8Array): TuiScreen | null {
  try {
    return trusttap.tee.v1.TuiScreen.decode(bytes);
  } catch {
    return null;
  }
}
