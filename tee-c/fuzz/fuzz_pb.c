/* libFuzzer target: the protobuf reader (pb.c), walking every length-delimited field as a nested
 * message too (as the envelope, ErrorDetail and TuiScreen readers do), and the writer on what it
 * read. */
#include "harness.h"

static void walk(const uint8_t *p, size_t n, int depth, tt_buf *echo) {
  pb_reader r = {p, n, 0, false};
  uint32_t f, w; uint64_t v; const uint8_t *d; size_t dn;
  while (pb_next(&r, &f, &w, &v, &d, &dn)) {
    if (w == 0) pb_varint(echo, f, v);
    if (w == 2) { pb_bytes(echo, f, d, dn); if (depth < 8) walk(d, dn, depth + 1, echo); }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  tt_buf echo = {0};
  walk(d, n, 0, &echo);
  buf_free(&echo);
  return 0;
}
