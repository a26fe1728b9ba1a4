/* Shared by the libFuzzer targets (tee-c/fuzz/run.ts builds them with clang
 * -fsanitize=fuzzer,address,undefined): the whole host, its main() renamed, so a target reaches
 * the same readers and the same static frame splitter as tt-host does. */
#define main tt_host_main
#include "main.c"
#undef main
#include "json.h"
