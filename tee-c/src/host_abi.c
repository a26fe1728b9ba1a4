/* Host ABI v1 for wasm2c-translated TAs: the table (the same names and signatures as
 * tee/abi/table.ts; `tt-host --abi-table` prints it and a test diffs it against hostAbi) and
 * every import. Conventions as in the Node runtime: an i32 result >= 0 is a value, < 0 a GP
 * status; every (ptr, len) is checked against the TA's linear memory first, and a pointer out of
 * bounds panics the TA (TEE_Panic: its sessions end with TARGET_DEAD). Host functions check all
 * pointers before they allocate anything, so a panic never leaks host memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wasm-rt.h"
#include "tt.h"

/* the scalar types of wasm2c-generated headers */
typedef uint32_t u32;
typedef uint64_t u64;
typedef double f64;

const tt_host_fn tt_host_abi[] = {
  {"env", "abort", "(i32, i32, i32, i32) -> void", false},
  {"env", "seed", "() -> f64", false},
  {"env", "trace", "(i32, i32, f64, f64, f64, f64, f64) -> void", true},
  {"tee", "random", "(i32, i32) -> void", false},
  {"tee", "clock_ms", "() -> f64", false},
  {"tee", "ree_time_ms", "() -> f64", false},
  {"tee", "huk_derive", "(i32, i32, i32, i32) -> i32", false},
  {"tee", "storage_size", "(i32, i32) -> i32", false},
  {"tee", "storage_read", "(i32, i32, i32, i32) -> i32", false},
  {"tee", "storage_write", "(i32, i32, i32, i32) -> i32", false},
  {"tee", "storage_delete", "(i32, i32) -> i32", false},
  {"tee", "storage_list", "(i32, i32) -> i32", false},
  {"tee", "cipher_init", "(i32, i32, i32, i32, i32, i32) -> i32", false},
  {"tee", "cipher_update", "(i32, i32, i32, i32) -> i32", false},
  {"tee", "cipher_once", "(i32, i32, i32, i32, i32, i32, i32, i32, i32) -> i32", false}, /* since 1.3 */
  {"tee", "op_free", "(i32) -> void", false},
  {"tee", "digest", "(i32, i32, i32, i32) -> i32", false},
  {"tee", "hmac", "(i32, i32, i32, i32, i32, i32) -> i32", false},
  {"tee", "ecc_generate", "(i32, i32, i32) -> i32", false},
#ifdef BROKEN_SIGNATURE
  /* deliberately broken build (test/conformance/c-host.test.ts): a wrong signature */
  {"tee", "ecc_sign", "(i32, i32, i32, i32) -> i32", false},
#else
  {"tee", "ecc_sign", "(i32, i32, i32, i32, i32) -> i32", false},
#endif
  {"tee", "ecc_verify", "(i32, i32, i32, i32, i32, i32, i32) -> i32", false},
  {"tee", "eddsa_verify", "(i32, i32, i32, i32, i32, i32, i32) -> i32", false}, /* since 1.1 */
  {"tee", "ecdh", "(i32, i32, i32, i32) -> i32", false},
  {"tee", "session_open", "(i32) -> i32", false},
  {"tee", "session_invoke", "(i32, i32, i32, i32, i32, i32) -> i32", false},
  {"tee", "session_close", "(i32) -> void", false},
  {"tee", "log", "(i32, i32) -> void", true},
  {"tee", "attest_measurements", "(i32, i32) -> i32", false},
  {"tee", "oem_certify", "(i32, i32, i32, i32) -> i32", false},
  /* Trusted UI: forwarded to the UI provider on the secure display channel (--ui-fd); without
   * one both answer NOT_SUPPORTED, as the reference runtime without `ui` does. */
  {"tee", "tui_begin", "(i32, i32, i32) -> i32", false},
  {"tee", "tui_update", "(i32, i32) -> i32", false},
};
const int tt_host_abi_count = sizeof tt_host_abi / sizeof *tt_host_abi;

const tt_host_fn *host_abi_find(const char *module, const char *name) {
  for (int i = 0; i < tt_host_abi_count; i++)
    if (!strcmp(tt_host_abi[i].module, module) && !strcmp(tt_host_abi[i].name, name)) return &tt_host_abi[i];
  return NULL;
}

uint8_t *host_mem(tt_host_ctx *c, uint64_t *size) {
  wasm_rt_memory_t *m = c->mod->memory(c->instance);
  *size = m->size;
  return m->data;
}

/* The one bounds check (WAMR's wasm_runtime_validate_app_addr): [ptr, ptr+len) inside memory. */
static uint8_t *view(tt_host_ctx *c, uint32_t ptr, uint32_t len) {
  uint64_t size;
  uint8_t *m = host_mem(c, &size);
  if ((uint64_t)ptr + (uint64_t)len > size)
    tt_panic("pointer out of bounds: [%u, %llu) beyond %llu bytes of TA memory", ptr, (unsigned long long)ptr + len, (unsigned long long)size);
  return m + ptr;
}
#ifdef BROKEN_BOUNDS
/* deliberately broken build: tee.random trusts the TA's pointer */
static uint8_t *view_unchecked(tt_host_ctx *c, uint32_t ptr, uint32_t len) { uint64_t s; (void)len; return host_mem(c, &s) + ptr; }
#endif

static uint8_t *dup(const uint8_t *p, size_t n) { uint8_t *d = malloc(n ? n : 1); if (n) memcpy(d, p, n); return d; }
static void wipe_free(uint8_t *p, size_t n) { if (p) { tt_wipe(p, n); free(p); } }
#define ERR(s) ((u32)(s))
#define CTX(t) ((t)->ctx)

/* ---- env ---- */
static void as_string(tt_host_ctx *c, uint32_t ptr, char *out, size_t outn) {
  out[0] = 0;
  if (!ptr) return;
  if (ptr < 4) tt_panic("string pointer out of bounds");
  uint8_t *lp = view(c, ptr - 4, 4);
  uint32_t len = (uint32_t)lp[0] | lp[1] << 8 | lp[2] << 16 | (uint32_t)lp[3] << 24;
  if (len > 4096) len = 4096;
  len &= ~1u;
  uint8_t *s = view(c, ptr, len);
  size_t o = 0;
  for (uint32_t i = 0; i + 1 < len + 1 && i < len && o + 4 < outn; i += 2) {
    uint32_t u = s[i] | s[i + 1] << 8;
    if (u < 0x80) out[o++] = (char)u;
    else if (u < 0x800) { out[o++] = (char)(0xc0 | u >> 6); out[o++] = (char)(0x80 | (u & 63)); }
    else { out[o++] = (char)(0xe0 | u >> 12); out[o++] = (char)(0x80 | ((u >> 6) & 63)); out[o++] = (char)(0x80 | (u & 63)); }
  }
  out[o] = 0;
}

void Z_envZ_abort(struct Z_env_instance_t *e, u32 msg, u32 file, u32 line, u32 col) {
  char m[1024], f[512];
  as_string(CTX(e), msg, m, sizeof m);
  as_string(CTX(e), file, f, sizeof f);
  tt_log("[%s] abort: %s at %s:%u:%u", CTX(e)->name, m, f, line, col);
  tt_panic("TA aborted: %s at %s:%u:%u", m, f, line, col);
}

f64 Z_envZ_seed(struct Z_env_instance_t *e) {
  (void)e;
  uint8_t b[8];
  tt_random(b, 8);
  uint64_t x = 0;
  for (int i = 0; i < 8; i++) x = x << 8 | b[i];
  double d;
  memcpy(&d, &x, 8);
  return d != 0 ? d : 1;
}

void Z_envZ_trace(struct Z_env_instance_t *e, u32 msg, u32 n, f64 a0, f64 a1, f64 a2, f64 a3, f64 a4) {
  char m[1024];
  as_string(CTX(e), msg, m, sizeof m);
  double a[5] = {a0, a1, a2, a3, a4};
  char line[1400];
  int o = snprintf(line, sizeof line, "trace: %s", m);
  for (u32 i = 0; i < n && i < 5 && o >= 0 && (size_t)o < sizeof line; i++) o += snprintf(line + o, sizeof line - o, "%s%g", i ? ", " : " ", a[i]);
  tt_log("[%s] %s", CTX(e)->name, line);
}

/* ---- tee: random, time, HUK ---- */
void Z_teeZ_random(struct Z_tee_instance_t *t, u32 ptr, u32 len) {
#ifdef BROKEN_BOUNDS
  tt_random(view_unchecked(CTX(t), ptr, len), len);
#else
  tt_random(view(CTX(t), ptr, len), len);
#endif
}
f64 Z_teeZ_clock_ms(struct Z_tee_instance_t *t) { (void)t; return tt_clock_ms(); }
f64 Z_teeZ_ree_time_ms(struct Z_tee_instance_t *t) { (void)t; return tt_ree_time_ms(); }

u32 Z_teeZ_huk_derive(struct Z_tee_instance_t *t, u32 lp, u32 ll, u32 op, u32 ol) {
  tt_host_ctx *c = CTX(t);
  uint8_t *label = view(c, lp, ll);
  view(c, op, ol);
  if (ol < 1 || ol > 64 || ll > 256) return ERR(TT_ERROR_BAD_PARAMETERS);
  uint8_t l[256], out[64];
  memcpy(l, label, ll);
  if (huk_derive(c->uuid, l, ll, out, ol)) return ERR(TT_ERROR_GENERIC);
  memcpy(view(c, op, ol), out, ol);
  tt_wipe(out, sizeof out);
  return 0;
}

/* ---- tee: sealed storage ---- */
u32 Z_teeZ_storage_size(struct Z_tee_instance_t *t, u32 ip, u32 il) {
  tt_host_ctx *c = CTX(t);
  uint8_t *id = dup(view(c, ip, il), il), *d; size_t n; bool found;
  uint32_t st = storage_read(c->storage, id, il, &d, &n, &found);
  free(id);
  if (st) return ERR(st);
  if (!found) return ERR(TT_ERROR_ITEM_NOT_FOUND);
  wipe_free(d, n);
  return (u32)n;
}

u32 Z_teeZ_storage_read(struct Z_tee_instance_t *t, u32 ip, u32 il, u32 op, u32 cap) {
  tt_host_ctx *c = CTX(t);
  view(c, ip, il);
  view(c, op, cap);
  uint8_t *id = dup(view(c, ip, il), il), *d; size_t n; bool found;
  uint32_t st = storage_read(c->storage, id, il, &d, &n, &found);
  free(id);
  if (st) return ERR(st);
  if (!found) return ERR(TT_ERROR_ITEM_NOT_FOUND);
  if (n > cap) { wipe_free(d, n); return ERR(TT_ERROR_SHORT_BUFFER); }
  memcpy(view(c, op, (u32)n), d, n);
  wipe_free(d, n);
  return (u32)n;
}

u32 Z_teeZ_storage_write(struct Z_tee_instance_t *t, u32 ip, u32 il, u32 dp, u32 dl) {
  tt_host_ctx *c = CTX(t);
  view(c, dp, dl);
  view(c, ip, il);
  uint8_t *d = dup(view(c, dp, dl), dl), *id = dup(view(c, ip, il), il);
  uint32_t st = storage_write(c->storage, id, il, d, dl);
  wipe_free(d, dl); free(id);
  return st ? ERR(st) : 0;
}

u32 Z_teeZ_storage_delete(struct Z_tee_instance_t *t, u32 ip, u32 il) {
  tt_host_ctx *c = CTX(t);
  uint8_t *id = dup(view(c, ip, il), il);
  bool found;
  uint32_t st = storage_delete(c->storage, id, il, &found);
  free(id);
  if (st) return ERR(st);
  return found ? 0 : ERR(TT_ERROR_ITEM_NOT_FOUND);
}

u32 Z_teeZ_storage_list(struct Z_tee_instance_t *t, u32 op, u32 cap) {
  tt_host_ctx *c = CTX(t);
  view(c, op, cap);
  tt_buf b = {0};
  uint32_t st = storage_list(c->storage, &b);
  if (st) { buf_free(&b); return ERR(st); }
  if (b.n > cap) { buf_free(&b); return ERR(TT_ERROR_SHORT_BUFFER); }
  size_t n = b.n;
  if (n) memcpy(view(c, op, (u32)n), b.p, n);
  buf_free(&b);
  return (u32)n;
}

/* ---- tee: crypto ---- */
u32 Z_teeZ_cipher_init(struct Z_tee_instance_t *t, u32 alg, u32 mode, u32 kp, u32 kl, u32 ivp, u32 ivl) {
  tt_host_ctx *c = CTX(t);
  view(c, kp, kl); view(c, ivp, ivl);
  uint8_t *k = dup(view(c, kp, kl), kl), *iv = dup(view(c, ivp, ivl), ivl);
  int32_t r = crypto_cipher_init(c->crypto, alg, mode, k, kl, iv, ivl);
  wipe_free(k, kl); free(iv);
  return (u32)r;
}

u32 Z_teeZ_cipher_update(struct Z_tee_instance_t *t, u32 h, u32 ip, u32 len, u32 op) {
  tt_host_ctx *c = CTX(t);
  uint8_t *out = view(c, op, len);
  uint8_t *in = view(c, ip, len);
  return (u32)crypto_cipher_update(c->crypto, h, in, len, out);
}

u32 Z_teeZ_cipher_once(struct Z_tee_instance_t *t, u32 alg, u32 mode, u32 kp, u32 kl, u32 ivp, u32 ivl, u32 ip, u32 len, u32 op) {
  tt_host_ctx *c = CTX(t);
  /* every pointer checked first; crypto_cipher_once copies the key into a wiped stack buffer */
  uint8_t *out = view(c, op, len), *in = view(c, ip, len), *k = view(c, kp, kl), *iv = view(c, ivp, ivl);
  return (u32)crypto_cipher_once(c->crypto, alg, mode, k, kl, iv, ivl, in, len, out);
}

void Z_teeZ_op_free(struct Z_tee_instance_t *t, u32 h) { crypto_op_free(CTX(t)->crypto, h); }

u32 Z_teeZ_digest(struct Z_tee_instance_t *t, u32 alg, u32 ip, u32 len, u32 op) {
  tt_host_ctx *c = CTX(t);
  uint8_t *in = view(c, ip, len);
  uint8_t d[32];
  int32_t r = crypto_digest(alg, in, len, d);
  if (r < 0) return (u32)r;
  memcpy(view(c, op, 32), d, 32);
  return 32;
}

u32 Z_teeZ_hmac(struct Z_tee_instance_t *t, u32 alg, u32 kp, u32 kl, u32 ip, u32 len, u32 op) {
  tt_host_ctx *c = CTX(t);
  view(c, kp, kl);
  uint8_t *in = view(c, ip, len);
  uint8_t *k = dup(view(c, kp, kl), kl), m[32];
  int32_t r = crypto_hmac(alg, k, kl, in, len, m);
  wipe_free(k, kl);
  if (r < 0) return (u32)r;
  memcpy(view(c, op, 32), m, 32);
  return 32;
}

u32 Z_teeZ_ecc_generate(struct Z_tee_instance_t *t, u32 curve, u32 pp, u32 qp) {
  tt_host_ctx *c = CTX(t);
  view(c, pp, 32); view(c, qp, 65);
  uint8_t d[32], q[65];
  int32_t r = crypto_ecc_generate(curve, d, q);
  if (r < 0) return (u32)r;
  memcpy(view(c, pp, 32), d, 32); memcpy(view(c, qp, 65), q, 65);
  tt_wipe(d, 32);
  return 0;
}

u32 Z_teeZ_ecc_sign(struct Z_tee_instance_t *t, u32 alg, u32 pp, u32 mp, u32 ml, u32 sp) {
  tt_host_ctx *c = CTX(t);
  view(c, sp, 64);
  uint8_t d[32];
  memcpy(d, view(c, pp, 32), 32);
  uint8_t *m = view(c, mp, ml), sig[64];
  int32_t r = crypto_ecc_sign(alg, d, m, ml, sig);
  tt_wipe(d, 32);
  if (r < 0) return (u32)r;
  memcpy(view(c, sp, 64), sig, 64);
  return 64;
}

u32 Z_teeZ_ecc_verify(struct Z_tee_instance_t *t, u32 alg, u32 qp, u32 ql, u32 mp, u32 ml, u32 sp, u32 sl) {
  tt_host_ctx *c = CTX(t);
  uint8_t *q = view(c, qp, ql), *m = view(c, mp, ml), *s = view(c, sp, sl);
  return (u32)crypto_ecc_verify(alg, q, ql, m, ml, s, sl);
}

u32 Z_teeZ_eddsa_verify(struct Z_tee_instance_t *t, u32 alg, u32 qp, u32 ql, u32 mp, u32 ml, u32 sp, u32 sl) {
  tt_host_ctx *c = CTX(t);
  uint8_t *q = view(c, qp, ql), *m = view(c, mp, ml), *s = view(c, sp, sl);
  return (u32)crypto_eddsa_verify(alg, q, ql, m, ml, s, sl);
}

u32 Z_teeZ_ecdh(struct Z_tee_instance_t *t, u32 pp, u32 qp, u32 ql, u32 op) {
  tt_host_ctx *c = CTX(t);
  view(c, op, 32);
  uint8_t d[32], z[32];
  memcpy(d, view(c, pp, 32), 32);
  uint8_t *q = view(c, qp, ql);
  int32_t r = crypto_ecdh(d, q, ql, z);
  tt_wipe(d, 32);
  if (r < 0) return (u32)r;
  memcpy(view(c, op, 32), z, 32);
  tt_wipe(z, 32);
  return 32;
}

/* ---- tee: TA-to-TA sessions ---- */
u32 Z_teeZ_session_open(struct Z_tee_instance_t *t, u32 up) {
  tt_host_ctx *c = CTX(t);
  uint8_t uuid[16];
  memcpy(uuid, view(c, up, 16), 16);
  return (u32)rt_ta_session_open(c, uuid);
}

u32 Z_teeZ_session_invoke(struct Z_tee_instance_t *t, u32 s, u32 cmd, u32 ip, u32 il, u32 op, u32 cap) {
  tt_host_ctx *c = CTX(t);
  view(c, op, cap);
  uint8_t *in = dup(view(c, ip, il), il);
  tt_buf out = {0};
  uint32_t status = 0;
  rt_ta_session_invoke(c, s, cmd, in, il, cap, &out, &status);
  wipe_free(in, il);
  if (out.n > cap) { buf_free(&out); return ERR(TT_ERROR_SHORT_BUFFER); }
  size_t n = out.n;
  if (n) memcpy(view(c, op, (u32)n), out.p, n); /* the caller's memory may not move, but look again */
  buf_free(&out);
  return status ? ERR(status) : (u32)n;
}

void Z_teeZ_session_close(struct Z_tee_instance_t *t, u32 s) { rt_ta_session_close(CTX(t), s); }

void Z_teeZ_log(struct Z_tee_instance_t *t, u32 p, u32 l) {
  tt_host_ctx *c = CTX(t);
  uint8_t *s = view(c, p, l);
  tt_log("[%s] %.*s", c->name, (int)(l > 4096 ? 4096 : l), (const char *)s);
}

/* ---- tee: attestation ---- */
u32 Z_teeZ_attest_measurements(struct Z_tee_instance_t *t, u32 op, u32 cap) {
  tt_host_ctx *c = CTX(t);
  view(c, op, cap);
  size_t n;
  const uint8_t *m = rt_measurements(&n);
  if (!m) return ERR(TT_ERROR_NOT_SUPPORTED);
  /* The measurements of the start, then rpmb_write_counter = 6 read now (fresh nonce, MAC). */
  uint32_t counter = 0, st = rpmb_write_counter(&counter);
  if (st) return ERR(st);
  tt_buf b = {0};
  buf_put(&b, m, n);
  pb_varint(&b, 6, counter);
  if (b.n > cap) { buf_free(&b); return ERR(TT_ERROR_SHORT_BUFFER); }
  memcpy(view(c, op, (u32)b.n), b.p, b.n);
  u32 len = (u32)b.n;
  buf_free(&b);
  return len;
}

int oem_certify(const uint8_t uuid[16], const uint8_t pub[65], tt_buf *out, uint32_t *status); /* attest.c */

u32 Z_teeZ_oem_certify(struct Z_tee_instance_t *t, u32 pp, u32 pl, u32 op, u32 cap) {
  tt_host_ctx *c = CTX(t);
  view(c, pp, pl);
  view(c, op, cap);
  if (pl != 65 || view(c, pp, pl)[0] != 4) return ERR(TT_ERROR_BAD_PARAMETERS);
  uint8_t pub[65];
  memcpy(pub, view(c, pp, 65), 65);
  if (!crypto_p256_point_valid(pub, 65)) return ERR(TT_ERROR_BAD_PARAMETERS);
  tt_buf chain = {0};
  uint32_t st = 0;
  oem_certify(c->uuid, pub, &chain, &st);
  if (st) { buf_free(&chain); return ERR(st); }
  if (chain.n > cap) { buf_free(&chain); return ERR(TT_ERROR_SHORT_BUFFER); }
  size_t n = chain.n;
  memcpy(view(c, op, (u32)n), chain.p, n);
  buf_free(&chain);
  return (u32)n;
}

/* ---- tee: trusted UI: the screen goes to the secure display channel (runtime.c) ---- */
u32 Z_teeZ_tui_begin(struct Z_tee_instance_t *t, u32 sp, u32 sl, u32 timeout_ms) {
  tt_host_ctx *c = CTX(t);
  uint8_t *screen = view(c, sp, sl);
  return (u32)rt_tui_begin(c, screen, sl, timeout_ms);
}

u32 Z_teeZ_tui_update(struct Z_tee_instance_t *t, u32 sp, u32 sl) {
  tt_host_ctx *c = CTX(t);
  uint8_t *screen = view(c, sp, sl);
  return (u32)rt_tui_update(c, screen, sl);
}
