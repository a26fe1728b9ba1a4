/* libFuzzer target: the client frame parser — the stream split into frames (length, the display
 * channel's bit 31, the size limit) and each ClientRequest through the envelope
 * (rt_handle_request) into the runtime's sessions, answers written to /dev/null. The TAs named in
 * TT_FUZZ_TAS (NAME:UUID:VERSION:FILE;... translated into TT_FUZZ_CACHE, as tt-host --ta; run.ts
 * loads the conformance probe TA twice) are loaded, so requests reach open, invoke, close, cancel
 * and TA-to-TA sessions; TA code is not instrumented (npm run fuzz --target ta fuzzes the TAs). */
#include <fcntl.h>
#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  g_cfg.ui_fd = -1; /* no display: UI frames are parsed and dropped */
  g_cfg.time_budget_ms = 100; /* a runaway TA costs 100 ms, not an input's whole timeout */
  static char data[] = "/tmp/tt-fuzz-frame-XXXXXX";
  g_cfg.data_dir = mkdtemp(data);
  g_cfg.cache_dir = getenv("TT_FUZZ_CACHE") ? getenv("TT_FUZZ_CACHE") : "/nonexistent";
  clock_gettime(CLOCK_MONOTONIC, &g_start);
  wasm_rt_init();
  ta_entry_init();
  if (!g_cfg.data_dir || huk_open(g_cfg.data_dir)) load_error("DEVICE: no data directory for the fuzz run");
  char *tas = getenv("TT_FUZZ_TAS") ? strdup(getenv("TT_FUZZ_TAS")) : NULL, *save = NULL, err[2048];
  for (char *spec = tas ? strtok_r(tas, ";", &save) : NULL; spec; spec = strtok_r(NULL, ";", &save)) {
    char *name = spec, *uuid = strchr(name, ':'), *ver = uuid ? strchr(uuid + 1, ':') : NULL, *file = ver ? strchr(ver + 1, ':') : NULL;
    if (!file) load_error("USAGE: TT_FUZZ_TAS=NAME:UUID:VERSION:FILE;...");
    *uuid++ = 0; *ver++ = 0; *file++ = 0;
    uint8_t *wasm; size_t n;
    if (read_whole(file, &wasm, &n)) load_error("NOT_WASM: cannot read a TT_FUZZ_TAS file");
    if (rt_add_ta(name, uuid, ver, wasm, n, err, sizeof err)) load_error(err);
    free(wasm);
  }
  free(tas);
  rt_finish_load();
  g_clients[0] = (client){.fd = open("/dev/null", O_WRONLY), .id = 0, .used = true};
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  inbuf in = {malloc(n ? n : 1), n, n ? n : 1};
  if (n) memcpy(in.p, d, n);
  uint32_t len;
  while (frame_at(&in, &len) == 1) {
    if (in.p[0] & 0x80) rt_ui_message(in.p + 4, len);
    else {
      tt_buf out = {0};
      rt_handle_request(0, in.p + 4, len, &out);
      buf_free(&out);
      rt_after_request();
    }
    consume(&in, 4 + (size_t)len);
  }
  free(in.p);
  return 0;
}
