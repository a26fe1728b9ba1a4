/* libFuzzer target: the wasm reader and the host-ABI check (wasm.c), as the loader runs them on a
 * TA binary before anything of it is translated or run. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  static tt_wasm_info info;
  char err[1024];
  if (!wasm_read_info(d, n, &info, err, sizeof err)) wasm_check_module(&info, true, err, sizeof err);
  return 0;
}
