// The project's string literals as UTF-8 (RFC 3629) in one static block: build/text-transform.mjs
// fills TEXT at compile time and turns each literal into __tt_text(offset, length), which
// decodes it on demand (the same string value). Without the transform (test harnesses, the back
// end's HSM build) literals stay literals and this file is unused.
const TEXT = memory.data<u8>([0]);

// @ts-ignore: decorator (global: the transform calls it from every file without an import)
@global export function __tt_text(offset: i32, length: i32): string {
  return String.UTF8.decodeUnsafe(TEXT + <usize>offset, <usize>length);
}
