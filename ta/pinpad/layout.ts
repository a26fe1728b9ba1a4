// The keypad the person sees: a fresh uniformly random assignment of the ten digits to the ten
// key positions for every entry, drawn from the TEE random source (Fisher-Yates with rejection
// sampling, so no position favours a digit). Only positions come back as events; this file is
// the only place that knows which digit a position is.
import * as host from "../lib/host";
import { TuiScreen, TuiKey, TuiMode } from "../../proto/gen/as/tee";

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

/** Standard: 3 columns, positions 0..8 in three rows and 9 centred below. Accessible: large
 * keys in 2 columns of 5 rows, each with its spoken label. */
export function screenFor(digitAt: Uint8Array, accessible: bool, lines: Array<string>): TuiScreen {
  const s = new TuiScreen();
  s.title = "Enter PIN";
  s.lines = lines;
  s.mode = accessible ? TuiMode.TUI_MODE_ACCESSIBLE : TuiMode.TUI_MODE_STANDARD;
  s.columns = accessible ? 2 : 3;
  for (let p = 0; p < KEYS; p++) {
    const k = new TuiKey();
    k.position = <u32>p;
    k.label = String.fromCharCode(48 + <i32>digitAt[p]);
    if (accessible) {
      k.speech = SPOKEN[<i32>digitAt[p]];
      k.row = <u32>(p / 2);
      k.column = <u32>(p % 2);
    } else {
      k.row = p < 9 ? <u32>(p / 3) : 3;
      k.column = p < 9 ? <u32>(p % 3) : 1;
    }
    s.keys.push(k);
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
