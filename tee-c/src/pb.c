/* The few protobuf messages the C host reads and writes (ClientRequest/ClientResponse of
 * proto/tee.proto, ErrorDetail, attest Measurements / Certificate*): a hand-written reader that
 * never reads past its input and a writer that skips proto3 defaults like protobufjs. */
#include <stdlib.h>
#include <string.h>
#include "tt.h"

void buf_put(tt_buf *b, const void *d, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) abort();
    b->p = p; b->cap = cap;
  }
  if (n) memcpy(b->p + b->n, d, n);
  b->n += n;
}
void buf_free(tt_buf *b) { if (b->p) { tt_wipe(b->p, b->cap); free(b->p); } b->p = NULL; b->n = b->cap = 0; }
void tt_wipe(void *p, size_t n) { volatile uint8_t *v = p; while (n--) *v++ = 0; }

static bool rd_varint(pb_reader *r, uint64_t *v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (r->i >= r->n) { r->err = true; return false; }
    uint8_t c = r->p[r->i++];
    if (shift == 63 && c > 1) { r->err = true; return false; }
    x |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) { *v = x; return true; }
  }
  r->err = true;
  return false;
}

bool pb_next(pb_reader *r, uint32_t *field, uint32_t *wire, uint64_t *v, const uint8_t **d, size_t *dn) {
  if (r->err || r->i >= r->n) return false;
  uint64_t tag;
  size_t at = r->i;
  if (!rd_varint(r, &tag)) return false;
  /* a tag is at most 5 bytes holding 32 bits, as the TAs' and protobufjs's readers require */
  if (r->i - at > 5 || tag > 0xffffffffu) { r->err = true; return false; }
  *field = (uint32_t)(tag >> 3);
  *wire = (uint32_t)(tag & 7);
  if (*field == 0) { r->err = true; return false; }
  *v = 0; *d = NULL; *dn = 0;
  switch (*wire) {
    case 0: return rd_varint(r, v);
    case 1: if (r->n - r->i < 8) { r->err = true; return false; } r->i += 8; return true;
    case 5: if (r->n - r->i < 4) { r->err = true; return false; } r->i += 4; return true;
    case 2: {
      uint64_t len;
      if (!rd_varint(r, &len)) return false;
      if (len > r->n - r->i) { r->err = true; return false; }
      *d = r->p + r->i; *dn = (size_t)len; r->i += (size_t)len;
      return true;
    }
    default: r->err = true; return false; /* groups (3, 4) and 6, 7 */
  }
}

static void put_varint(tt_buf *b, uint64_t v) {
  uint8_t t[10]; int n = 0;
  do { t[n] = v & 0x7f; v >>= 7; if (v) t[n] |= 0x80; n++; } while (v);
  buf_put(b, t, n);
}
void pb_varint(tt_buf *b, uint32_t field, uint64_t v) {
  if (!v) return;
  put_varint(b, (uint64_t)field << 3);
  put_varint(b, v);
}
void pb_bytes_always(tt_buf *b, uint32_t field, const void *d, size_t n) {
  put_varint(b, ((uint64_t)field << 3) | 2);
  put_varint(b, n);
  buf_put(b, d, n);
}
void pb_bytes(tt_buf *b, uint32_t field, const void *d, size_t n) {
  if (n) pb_bytes_always(b, field, d, n);
}
