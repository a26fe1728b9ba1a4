// The keypad the person sees: a fresh uniformly random assignment of the ten digits to the ten
// key positions for every entry, drawn from the TEE random source (Fisher-Yates with rejection
// sampling, so no position favours a digit). Only positions come back as events; this file is
// the only place that knows which digit a position is (./keypad.ts draws it into pixels).
import * as host from "../lib/host";
import { TuiScreen, TuiMode } from "../../proto/gen/as/tee";
import { drawKeypad } from "./keypad";

export const KEYS = 10;
const SPOKEN: string[] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

function uniform(bound: u32): u32 {
  const limit: u32 = 256 - (256 % bound);
  const b = new Uint8Array(1);
  host.random(b.dataStart, 1);
  while (<u32>b[0] >= limit) host.random(b.dataStart, 1);
  return <u32>b[0] % bound;
}

/** digitAt[position] = digit. */
export function randomLayout(): Uint8Array {
  const d = new Uint8Array(KEYS);
  for (let i = 0; i < KEYS; i++) d[i] = <u8>i;
  for (let i = KEYS - 1; i > 0; i--) {
    const j = <i32>uniform(<u32>(i + 1));
    const t = d[i]; d[i] = d[j]; d[j] = t;
  }
  return d;
}

/** The PIN screen: the keypad drawn into the screen's pixels (./keypad.ts), keys without labels.
 * Accessible: large keys, and the layout spoken on the TEE's audio path (TuiScreen.speech, which
 * the runtime takes off the screen before the display provider sees it): the digits of the
 * keys in reading order, then where the function keys are. */
export function screenFor(digitAt: Uint8Array, accessible: bool, lines: Array<string>): TuiScreen {
  const s = new TuiScreen();
  s.title = "Enter PIN";
  s.lines = lines;
  s.mode = accessible ? TuiMode.TUI_MODE_ACCESSIBLE : TuiMode.TUI_MODE_STANDARD;
  drawKeypad(s, digitAt, accessible);
  if (accessible) {
    s.speech.push("Enter your PIN. Ten digit keys, two per row, from the top left:");
    for (let p = 0; p < KEYS; p++) s.speech.push(SPOKEN[<i32>digitAt[p]]);
    s.speech.push("Below them clear on the left and OK on the right; cancel across the bottom.");
  }
  return s;
}

/** "EUR 12.34" from minor units and the currency exponent. */
export function formatAmount(minor: u64, currency: string, exponent: u32): string {
  let digits = minor.toString();
  const e = <i32>exponent;
  if (e == 0) return currency + " " + digits;
  while (digits.length <= e) digits = "0" + digits;
  return currency + " " + digits.substring(0, digits.length - e) + "." + digits.substring(digits.length - e);
}
