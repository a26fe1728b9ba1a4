// Debug log for trusted apps. A release build compiles every debugLog() call to nothing, so a
// release TA never imports `tee.log` (`trusttap audit` fails a release TA that does).
//
// The switch is the compile-time constant TA_DEBUG, which only the debug build defines
// (asconfig.json target "debug": `"use": ["TA_DEBUG=1"]`, i.e. `asc --use TA_DEBUG=1`).
// `isDefined(TA_DEBUG)` is resolved by the compiler, so the branch, the message formatting and
// the import all disappear from release binaries.
import { log } from "./host";

/** True in a debug build (TA_DEBUG defined), false in release; a compile-time constant. */
// @ts-ignore: TA_DEBUG exists only when asc is run with --use TA_DEBUG=1
export const DEBUG_BUILD: bool = isDefined(TA_DEBUG);

/** Writes one UTF-8 line to the TEE debug log in debug builds; does nothing in release builds. */
export function debugLog(message: string): void {
  // @ts-ignore: TA_DEBUG exists only when asc is run with --use TA_DEBUG=1
  if (isDefined(TA_DEBUG)) {
    const bytes = String.UTF8.encode(message);
    log(changetype<usize>(bytes), <u32>bytes.byteLength);
  }
}
