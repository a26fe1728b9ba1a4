/* libFuzzer target: the client frame parser — the stream split into frames (length, the display
 * channel's bit 31, the size limit) and each ClientRequest through the envelope
 * (rt_handle_request), answers written to /dev/null. No TA is loaded: the target is the parsing
 * in front of the TAs, not the TAs (npm run fuzz --target ta fuzzes those). */
#include <fcntl.h>
#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  g_cfg.ui_fd = -1; /* no display: UI frames are parsed and dropped */
  g_cfg.data_dir = "/nonexistent";
  g_cfg.cache_dir = "/nonexistent";
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
