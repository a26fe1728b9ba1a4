// Trusted UI providers (docs/trusted-ui.md): the TEE-side display and touch path. A TA hands the
// runtime a screen (tui_begin); the runtime gives it to a provider, which draws it and reports
// what the person does — where a finger touched (or a key position), OK, clear, cancel — and
// nothing else. The pinpad draws its own keys (TuiScreen.pixels, no labels), so a provider is
// not told which digit a key is; spoken guidance goes to the TEE's audio output, never to the
// display provider. No provider talks to the REE. The runtime owns the timer, the event queue
// and the pending client command.
import { trusttap } from '../../proto/gen/ts/trusttap.js';

export type TuiScreen = trusttap.tee.v1.TuiScreen;
export const TuiEventKind = trusttap.tee.v1.TuiEventKind;
export const TuiMode = trusttap.tee.v1.TuiMode;

/** What a provider reports for the entry it is showing. Calls after close() are ignored. */
export interface TuiSink {
  /** A key touched by its TuiKey.position (screens without pixels). */
  touch(position: number): void;
  /** A touch at (x, y) on the screen's pixels (TUI_EVENT_TOUCH_AT); 0..65535 each. */
  touchAt(x: number, y: number): void;
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
  /** The TEE's own audio output (a headphone path the TEE owns while an entry is shown): it says
   * TuiScreen.speech. Without it the speech is dropped. */
  audio?: AudioOut;
}

/** The TEE-owned audio path: what it is told to say reaches the person, not the REE or the display. */
export interface AudioOut {
  say(text: string): void;
}

/** TUI_EVENT_TOUCH_AT's position: y << 16 | x. */
export const touchPoint = (x: number, y: number): number => (((y & 0xffff) << 16) | (x & 0xffff)) >>> 0;

/** Shows an entry on the display path, in both runtimes: the screen's mode picks the provider,
 * its speech goes to the audio output and is taken off the screen first, so the display
 * provider never gets it (on the first screen and on every update). */
export function openOnDisplay(ui: UiProviders, screen: TuiScreen, sink: TuiSink): TuiDisplay {
  const provider = screen.mode === TuiMode.TUI_MODE_ACCESSIBLE ? ui.accessible ?? ui.standard : ui.standard;
  const display = provider.open(speak(ui, screen), sink);
  return { show: (s) => display.show(speak(ui, s)), close: () => display.close() };
}

function speak(ui: UiProviders, screen: TuiScreen): TuiScreen {
  for (const line of screen.speech ?? []) ui.audio?.say(line);
  screen.speech = [];
  return screen;
}

export function decodeScreen(bytes: Uint8Array): TuiScreen | null {
  try {
    return trusttap.tee.v1.TuiScreen.decode(bytes);
  } catch {
    return null;
  }
}
