/* tt-host: the TrustTap C host. Loads TAs (from a signed build directory, or as given images
 * for the conformance kit), then serves the client transport on stdio: each frame is a 4-byte
 * big-endian length and one encoded ClientRequest; each answer is a frame holding one
 * ClientResponse (proto/tee.proto). An empty frame is sent once loading is done; a load
 * refusal is printed as "LOAD_ERROR: <CODE>: <message>" on stderr with exit status 3.
 *
 *   tt-host --data DIR --cache DIR (--build DIR --key PEM | --ta NAME:UUID:VERSION:FILE ...)
 *           [--time-budget-ms N] [--allow-debug] [--boot-state N] [--verbose]
 *   tt-host --abi-table      prints the host ABI table (module.name signature [debug])
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "wasm-rt.h"
#include "tt.h"
#include "ta_entry.h"

int read_whole(const char *path, uint8_t **out, size_t *n);
static bool g_verbose;
static struct timespec g_start;

void tt_log(const char *fmt, ...) {
  if (!g_verbose) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

double tt_clock_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - g_start.tv_sec) * 1e3 + (double)(t.tv_nsec - g_start.tv_nsec) / 1e6;
}

double tt_ree_time_ms(void) {
#ifdef TT_TEST_HOOKS
  if (g_cfg.ree_time_file) {
    FILE *f = fopen(g_cfg.ree_time_file, "r");
    double ms;
    if (f) { int ok = fscanf(f, "%lf", &ms); fclose(f); if (ok == 1) return ms; }
  }
#endif
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)((int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000);
}

void tt_random(uint8_t *out, size_t n) {
#ifdef TT_TEST_HOOKS
  /* Deterministic stream for tests (test/keystore/fixture.ts's recordingRandom), with every draw
   * logged as one hex line so a test knows the keys a TA drew. Never in a release build. */
  if (g_cfg.test_lcg) {
    for (size_t i = 0; i < n; i++) { g_cfg.lcg_state = g_cfg.lcg_state * 1103515245u + 12345u; out[i] = (uint8_t)(g_cfg.lcg_state >> 24); }
    if (g_cfg.random_log) {
      FILE *f = fopen(g_cfg.random_log, "a");
      if (f) { for (size_t i = 0; i < n; i++) fprintf(f, "%02x", out[i]); fputc('\n', f); fclose(f); }
    }
    return;
  }
#endif
  crypto_random(out, n);
}

static int read_full(int fd, uint8_t *p, size_t n) {
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r == 0) return -1;
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    p += r; n -= (size_t)r;
  }
  return 0;
}
static int write_full(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= (size_t)w;
  }
  return 0;
}
static int send_frame(const uint8_t *p, size_t n) {
  uint8_t h[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  return write_full(1, h, 4) || write_full(1, p, n) ? -1 : 0;
}

#define MAX_FRAME (4u << 20)

static __attribute__((noreturn)) void load_error(const char *msg) {
  fprintf(stderr, "LOAD_ERROR: %s\n", msg);
  exit(3);
}

int main(int argc, char **argv) {
  clock_gettime(CLOCK_MONOTONIC, &g_start);
  const char *build = NULL, *key = NULL;
  const char *tas[64]; int ntas = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--abi-table")) {
      for (int k = 0; k < tt_host_abi_count; k++) printf("%s.%s %s%s\n", tt_host_abi[k].module, tt_host_abi[k].name, tt_host_abi[k].sig, tt_host_abi[k].debug_only ? " debug" : "");
      return 0;
    }
    else if (!strcmp(a, "--data") && next) g_cfg.data_dir = argv[++i];
    else if (!strcmp(a, "--cache") && next) g_cfg.cache_dir = argv[++i];
    else if (!strcmp(a, "--build") && next) build = argv[++i];
    else if (!strcmp(a, "--key") && next) key = argv[++i];
    else if (!strcmp(a, "--ta") && next && ntas < 64) tas[ntas++] = argv[++i];
    else if (!strcmp(a, "--time-budget-ms") && next) g_cfg.time_budget_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(a, "--boot-state") && next) g_cfg.boot_state = atoi(argv[++i]);
    else if (!strcmp(a, "--allow-debug")) g_cfg.allow_debug = true;
    else if (!strcmp(a, "--verbose")) g_verbose = true;
#ifdef TT_TEST_HOOKS
    else if (!strcmp(a, "--test-random-lcg") && next) { g_cfg.test_lcg = true; g_cfg.lcg_state = (uint32_t)strtoul(argv[++i], NULL, 10); }
    else if (!strcmp(a, "--test-random-log") && next) g_cfg.random_log = argv[++i];
    else if (!strcmp(a, "--test-ree-time-file") && next) g_cfg.ree_time_file = argv[++i];
#endif
    else { fprintf(stderr, "tt-host: unknown or incomplete option %s\n", a); return 2; }
  }
  if (!g_cfg.data_dir || !g_cfg.cache_dir || (!build && !ntas)) { fprintf(stderr, "usage: tt-host --data DIR --cache DIR (--build DIR --key PEM | --ta NAME:UUID:VERSION:FILE ...)\n"); return 2; }
  wasm_rt_init();
  ta_entry_init();
  if (huk_open(g_cfg.data_dir)) load_error("DEVICE: cannot open the simulated hardware unique key");
  char err[2048];
  if (build) {
    if (!key) load_error("BAD_SIGNATURE: no trusted manifest key (--key)");
    if (manifest_load(build, key, false, err, sizeof err)) load_error(err);
  }
  for (int k = 0; k < ntas; k++) {
    char spec[4096];
    snprintf(spec, sizeof spec, "%s", tas[k]);
    char *name = spec, *uuid = strchr(name, ':'), *ver = uuid ? strchr(uuid + 1, ':') : NULL, *file = ver ? strchr(ver + 1, ':') : NULL;
    if (!file) load_error("USAGE: --ta NAME:UUID:VERSION:FILE");
    *uuid++ = 0; *ver++ = 0; *file++ = 0;
    uint8_t *wasm; size_t n;
    if (read_whole(file, &wasm, &n)) { snprintf(err, sizeof err, "NOT_WASM: cannot read %s", file); load_error(err); }
    if (rt_add_ta(name, uuid, ver, wasm, n, err, sizeof err)) load_error(err);
    free(wasm);
  }
  rt_finish_load();
  if (send_frame((const uint8_t *)"", 0)) return 1; /* ready */
  uint8_t *req = malloc(MAX_FRAME);
  for (;;) {
    uint8_t h[4];
    if (read_full(0, h, 4)) break;
    uint32_t n = (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
    if (n > MAX_FRAME) { fprintf(stderr, "tt-host: frame of %u bytes is too long\n", n); break; }
    if (read_full(0, req, n)) break;
    tt_buf out = {0};
    rt_handle_request(req, n, &out);
    int w = send_frame(out.p ? out.p : (const uint8_t *)"", out.n);
    buf_free(&out);
    if (w) break;
  }
  rt_shutdown();
  return 0;
}
