/* tt-host: the TrustTap C host. Loads TAs (from a signed build directory, or as given images
 * for the conformance kit), then serves the client transport on stdio: each frame is a 4-byte
 * big-endian length and one encoded ClientRequest; each answer is a frame holding one
 * ClientResponse (proto/tee.proto). An empty frame is sent once loading is done; a load
 * refusal is printed as "LOAD_ERROR: <CODE>: <message>" on stderr with exit status 3.
 *
 *   tt-host --data DIR --cache DIR (--build DIR --key PEM | --ta NAME:UUID:VERSION:FILE ...)
 *           [--time-budget-ms N] [--allow-debug] [--boot-state N] [--verbose]
 *           [--ui] [--manifest-sha256 HEX]
 *   tt-host --abi-table      prints the host ABI table (module.name signature [debug])
 *
 * Requests are served one at a time; an invoke that begins a trusted-UI entry is answered when
 * the TA finishes it (responses carry the request's id), and other requests go on meanwhile.
 * --ui opens the secure display channel (it stands for the TEE's display/touch driver, never
 * the REE): frames whose length has bit 31 set, multiplexed on the same pipes so that screens,
 * touches and client frames keep one order; body [type u8][entry u32 BE][...], screens out,
 * touches in (tee-c/README.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "wasm-rt.h"
#include "tt.h"
#include "ta_entry.h"

int read_whole(const char *path, uint8_t **out, size_t *n);

#ifdef TT_SANITIZE
/* The sanitized build (tee-c/build.ts SANITIZE_CFLAGS): the first error ends the host with its
 * report (the tests see the exit); leaks are not this build's question (a host lives as long as
 * its device), and SIGALRM is the watchdog's, never ASan's. */
const char *__asan_default_options(void) { return "detect_leaks=0:abort_on_error=0:exitcode=86:allow_user_segv_handler=1"; }
const char *__ubsan_default_options(void) { return "print_stacktrace=1:halt_on_error=1:exitcode=86"; }
#endif
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
#ifdef TT_TEST_HOOKS
  if (g_cfg.mono_time_file) {
    FILE *f = fopen(g_cfg.mono_time_file, "r");
    double ms;
    if (f) { int ok = fscanf(f, "%lf", &ms); fclose(f); if (ok == 1) return ms; }
  }
#endif
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - g_start.tv_sec) * 1e3 + (double)(t.tv_nsec - g_start.tv_nsec) / 1e6;
}

double tt_real_ms(void) {
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

static int write_full(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= (size_t)w;
  }
  return 0;
}
static int send_frame_fd(int fd, const uint8_t *p, size_t n) {
  uint8_t h[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  return write_full(fd, h, 4) || write_full(fd, p, n) ? -1 : 0;
}
static int send_frame(const uint8_t *p, size_t n) { return send_frame_fd(1, p, n); }

/* Client connections: on stdio one client (id 0); with --listen, each accepted connection of the
 * Unix socket is a client with its own id, its own sessions and its own answers. */
#define MAX_CLIENTS 64
typedef struct { uint8_t *p; size_t n, cap; } inbuf;
typedef struct { int fd; uint32_t id; inbuf in; bool used; } client;
static client g_clients[MAX_CLIENTS];
static uint32_t g_next_client = 1;
static client *client_by_id(uint32_t id) {
  for (int i = 0; i < MAX_CLIENTS; i++) if (g_clients[i].used && g_clients[i].id == id) return &g_clients[i];
  return NULL;
}
int tt_send_client_frame(uint32_t id, const uint8_t *p, size_t n) {
  client *c = client_by_id(id);
  if (!c) return -1; /* the client has gone: its answer is dropped */
  return send_frame_fd(c->fd, p, n);
}

#define UI_BIT 0x80000000u
int tt_send_ui_frame(uint8_t type, uint32_t entry, const uint8_t *p, size_t n) {
  if (g_cfg.ui_fd < 0) return -1;
  uint8_t *m = malloc(5 + n);
  m[0] = type; m[1] = (uint8_t)(entry >> 24); m[2] = (uint8_t)(entry >> 16); m[3] = (uint8_t)(entry >> 8); m[4] = (uint8_t)entry;
  if (n) memcpy(m + 5, p, n);
  size_t len = 5 + n;
  uint8_t h[4] = {(uint8_t)((len >> 24) | 0x80), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  int r = write_full(1, h, 4) || write_full(1, m, len) ? -1 : 0;
  free(m);
  return r;
}

/* Non-blocking-ish frame reader for one fd: appends what read() gives, hands out whole frames. */
static int fill(int fd, inbuf *b) {
  if (b->cap - b->n < 65536) { b->cap = b->cap ? b->cap * 2 : 1 << 17; b->p = realloc(b->p, b->cap); }
  ssize_t r;
  do r = read(fd, b->p + b->n, b->cap - b->n); while (r < 0 && errno == EINTR);
  if (r <= 0) return -1;
  b->n += (size_t)r;
  return 0;
}
/* 1 and *len when a whole frame is at the start, 0 when more is needed, -1 when too long. */
static int frame_at(inbuf *b, uint32_t *len);
static void consume(inbuf *b, size_t k) { memmove(b->p, b->p + k, b->n - k); b->n -= k; }

#define MAX_FRAME (4u << 20)

static __attribute__((noreturn)) void load_error(const char *msg) {
  fprintf(stderr, "LOAD_ERROR: %s\n", msg);
  exit(3);
}

static int frame_at(inbuf *b, uint32_t *len) {
  if (b->n < 4) return 0;
  uint32_t n = ((uint32_t)b->p[0] << 24 | b->p[1] << 16 | b->p[2] << 8 | b->p[3]) & ~UI_BIT;
  if (n > MAX_FRAME) return -1;
  if (b->n < 4 + (size_t)n) return 0;
  *len = n;
  return 1;
}

/* Frames of one client: requests answered on its own connection. Non-zero: the client is done
 * (end of input, a write failure or a frame too long). */
static int serve(client *c, int in_fd) {
  if (fill(in_fd, &c->in)) return -1;
  uint32_t n;
  int f;
  while ((f = frame_at(&c->in, &n)) == 1) {
    if (c->in.p[0] & 0x80) { /* the secure display channel (stdio only): an event for an entry */
      if (g_cfg.ui_fd >= 0 && in_fd == 0) rt_ui_message(c->in.p + 4, n);
      consume(&c->in, 4 + n);
      continue;
    }
    tt_buf out = {0};
    bool now = rt_handle_request(c->id, c->in.p + 4, n, &out);
    consume(&c->in, 4 + n);
    int w = now ? send_frame_fd(c->fd, out.p ? out.p : (const uint8_t *)"", out.n) : 0;
    buf_free(&out);
    if (w) return -1;
    rt_after_request();
  }
  if (f < 0) { fprintf(stderr, "tt-host: frame too long\n"); return -1; }
  return 0;
}

/* With --listen, stdin carries only display-channel frames. */
static int serve_ui(inbuf *in) {
  uint32_t n;
  int f;
  while ((f = frame_at(in, &n)) == 1) {
    if ((in->p[0] & 0x80) && g_cfg.ui_fd >= 0) rt_ui_message(in->p + 4, n);
    consume(in, 4 + n);
  }
  return f < 0 ? -1 : 0;
}

static int listen_on(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) { errno = ENAMETOOLONG; return -1; }
  memcpy(a.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  unlink(path);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64)) { int e = errno; close(fd); errno = e; return -1; }
  return fd;
}

static void accept_client(int lfd) {
  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) return;
  for (int i = 0; i < MAX_CLIENTS; i++) if (!g_clients[i].used) {
    g_clients[i] = (client){.fd = fd, .id = g_next_client++, .used = true};
    return;
  }
  close(fd); /* full: the client sees the connection end */
}

/* A client that went away: its sessions are closed (pending trusted-UI commands included). */
static void drop_client(client *c) {
  uint32_t id = c->id;
  close(c->fd);
  free(c->in.p);
  *c = (client){0};
  rt_client_gone(id);
}

int main(int argc, char **argv) {
  clock_gettime(CLOCK_MONOTONIC, &g_start);
  signal(SIGPIPE, SIG_IGN);
  g_cfg.ui_fd = -1;
  const char *build = NULL, *key = NULL;
  const char *tas[64]; int ntas = 0;
  const char *listen_path = NULL;
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
    else if (!strcmp(a, "--manifest-sha256") && next) { /* for --ta images from a signed build */
      const char *h = argv[++i];
      bool ok = strlen(h) == 64;
      for (const char *q = h; ok && *q; q++) ok = (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F');
      if (!ok) { fprintf(stderr, "tt-host: --manifest-sha256 takes 64 hex digits\n"); return 2; }
      g_cfg.manifest_sha256_hex = h;
    }
    else if (!strcmp(a, "--allow-debug")) g_cfg.allow_debug = true;
    else if (!strcmp(a, "--verbose")) g_verbose = true;
    else if (!strcmp(a, "--ui")) g_cfg.ui_fd = 1;
    else if (!strcmp(a, "--listen") && next) listen_path = argv[++i];
#ifdef TT_TEST_HOOKS
    else if (!strcmp(a, "--test-random-lcg") && next) { g_cfg.test_lcg = true; g_cfg.lcg_state = (uint32_t)strtoul(argv[++i], NULL, 10); }
    else if (!strcmp(a, "--test-random-log") && next) g_cfg.random_log = argv[++i];
    else if (!strcmp(a, "--test-ree-time-file") && next) g_cfg.ree_time_file = argv[++i];
    else if (!strcmp(a, "--test-mono-time-file") && next) g_cfg.mono_time_file = argv[++i];
#endif
    else { fprintf(stderr, "tt-host: unknown or incomplete option %s\n", a); return 2; }
  }
  if (!g_cfg.data_dir || !g_cfg.cache_dir || (!build && !ntas)) { fprintf(stderr, "usage: tt-host --data DIR --cache DIR (--build DIR --key PEM | --ta NAME:UUID:VERSION:FILE ...)\n"); return 2; }
  wasm_rt_init();
  ta_entry_init();
  if (huk_open(g_cfg.data_dir)) load_error("DEVICE: cannot open the simulated hardware unique key");
  if (rpmb_open(g_cfg.data_dir)) load_error("DEVICE: cannot open the simulated RPMB");
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
  if (rt_enforce_version_floors(err, sizeof err)) load_error(err);
  rt_finish_load();
  int lfd = -1;
  if (listen_path && (lfd = listen_on(listen_path)) < 0) { snprintf(err, sizeof err, "LISTEN: cannot listen on %s: %s", listen_path, strerror(errno)); load_error(err); }
  if (send_frame((const uint8_t *)"", 0)) return 1; /* ready (with --listen: the socket accepts) */
  /* stdio: client 0 on fd 0/1, the secure display channel multiplexed on it. With --listen,
   * stdin carries only the display channel and its end stops the host. */
  inbuf ui_in = {0};
  if (lfd < 0) g_clients[0] = (client){.fd = 1, .id = 0, .used = true};
  for (;;) {
    struct pollfd p[MAX_CLIENTS + 2];
    int who[MAX_CLIENTS + 2], np = 0;
    p[np] = (struct pollfd){0, POLLIN, 0}; who[np++] = -1;
    if (lfd >= 0) { p[np] = (struct pollfd){lfd, POLLIN, 0}; who[np++] = -2; }
    if (lfd >= 0) for (int i = 0; i < MAX_CLIENTS; i++) if (g_clients[i].used) { p[np] = (struct pollfd){g_clients[i].fd, POLLIN, 0}; who[np++] = i; }
    double d = rt_next_deadline();
    int timeout = -1;
    if (d >= 0) { double left = d - tt_real_ms(); timeout = left <= 0 ? 0 : (int)left + 1; }
    int k = poll(p, (nfds_t)np, timeout);
    if (k < 0) { if (errno == EINTR) continue; break; }
    rt_tick(); /* the host's own timers: TIMEOUT events */
    bool stop = false;
    for (int j = 0; j < np && !stop; j++) {
      if (!(p[j].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (who[j] == -2) { accept_client(lfd); continue; }
      if (who[j] == -1) { /* stdin */
        if (lfd < 0) { if (serve(&g_clients[0], 0)) stop = true; }
        else if (fill(0, &ui_in) || serve_ui(&ui_in)) stop = true;
        continue;
      }
      client *c = &g_clients[who[j]];
      if (c->used && serve(c, c->fd)) drop_client(c);
    }
    if (stop) break;
  }
  for (int i = 0; i < MAX_CLIENTS; i++) if (g_clients[i].used && lfd >= 0) drop_client(&g_clients[i]);
  if (lfd >= 0) { close(lfd); unlink(listen_path); }
  rt_shutdown();
  return 0;
}
