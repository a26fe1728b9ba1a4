/* The runtime core, as tee/runtime.ts: verified TA images (translated to C, one shared object
 * per wasm SHA-256), the GP life cycle with many sessions per TA, TA-to-TA sessions carrying the
 * caller's UUID (login TRUSTED_APP), BUSY when a call would re-enter a TA, TARGET_DEAD for every
 * session of a TA that died (re-created on the next open), and the client envelope
 * (ClientRequest -> ClientResponse of proto/tee.proto). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tt.h"
#include "ta_entry.h"

tt_config g_cfg = {.time_budget_ms = 5000};

struct tt_ta {
  char name[64], uuid_text[37], version[32];
  uint8_t uuid[16], sha256[32];
  const tt_module *mod;
  tt_host_ctx *host; /* live instance or NULL */
  bool busy;
  /* Trusted UI: the session of a client invoke that may go pending, the screen tui_begin gave
   * during it, and the entry on display (one per TA instance). */
  uint32_t tui_session;
  uint8_t *begun; size_t begun_n; uint32_t begun_timeout; bool has_begun;
  struct { bool active, abort_pending, timer_fired; uint32_t session, req_id, id, client; size_t cap; double deadline; } entry;
};

/* A session belongs to whoever opened it: a client connection (`client`) or, for TA-to-TA
 * sessions, the calling TA (`caller`, login TRUSTED_APP). Only its owner may invoke, cancel or
 * close it (issue 17 §9). The table is reallocated when it grows, and any TA call can grow it
 * (a TA opening a TA-to-TA session): no `session *` is kept across a call into a TA; code looks
 * the session up again by its id (ids are never reused). */
typedef struct { uint32_t id; tt_ta *ta; bool has_caller; uint8_t caller[16]; uint32_t client; bool dead; bool used; } session;

#define MAX_TAS 32
static tt_ta g_tas[MAX_TAS];
static int g_ntas;
static session *g_sessions;
static size_t g_nsessions, g_capsessions;
static uint32_t g_next_session = 1;
static tt_buf g_measurements;

size_t rt_loaded_count(void) { return (size_t)g_ntas; }

static const struct { uint32_t v; const char *n; } NAMES[] = {
  {0x00000000, "SUCCESS"}, {0xF0100001, "ERROR_CORRUPT_OBJECT"}, {0xFFFF0000, "ERROR_GENERIC"}, {0xFFFF0001, "ERROR_ACCESS_DENIED"},
  {0xFFFF0002, "ERROR_CANCEL"}, {0xFFFF0003, "ERROR_ACCESS_CONFLICT"}, {0xFFFF0004, "ERROR_EXCESS_DATA"}, {0xFFFF0005, "ERROR_BAD_FORMAT"},
  {0xFFFF0006, "ERROR_BAD_PARAMETERS"}, {0xFFFF0007, "ERROR_BAD_STATE"}, {0xFFFF0008, "ERROR_ITEM_NOT_FOUND"}, {0xFFFF0009, "ERROR_NOT_IMPLEMENTED"},
  {0xFFFF000A, "ERROR_NOT_SUPPORTED"}, {0xFFFF000B, "ERROR_NO_DATA"}, {0xFFFF000C, "ERROR_OUT_OF_MEMORY"}, {0xFFFF000D, "ERROR_BUSY"},
  {0xFFFF000E, "ERROR_COMMUNICATION"}, {0xFFFF000F, "ERROR_SECURITY"}, {0xFFFF0010, "ERROR_SHORT_BUFFER"}, {0xFFFF0011, "ERROR_EXTERNAL_CANCEL"},
  {0xFFFF300F, "ERROR_OVERFLOW"}, {0xFFFF3024, "ERROR_TARGET_DEAD"}, {0xFFFF3041, "ERROR_STORAGE_NO_SPACE"}, {0xFFFF3071, "ERROR_MAC_INVALID"},
  {0xFFFF3072, "ERROR_SIGNATURE_INVALID"}, {0xFFFF5000, "ERROR_TIME_NOT_SET"}, {0xFFFF5001, "ERROR_TIME_NEEDS_RESET"},
};
const char *tt_status_name(uint32_t s) {
  static char buf[64];
  const char *n = "UNKNOWN";
  for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; i++) if (NAMES[i].v == s) n = NAMES[i].n;
  snprintf(buf, sizeof buf, "%s (0x%08X)", n, s);
  return buf;
}

void result_free(tt_result *r) { if (r->payload) { tt_wipe(r->payload, r->payload_len); free(r->payload); } r->payload = NULL; r->payload_len = 0; }

static void set(tt_result *r, uint32_t status, uint32_t origin, const char *fmt, ...) {
  r->status = status; r->origin = origin;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
}

static int parse_uuid(const char *t, uint8_t out[16]) {
  int k = 0;
  for (const char *p = t; *p; p++) {
    if (*p == '-') continue;
    int v;
    if (*p >= '0' && *p <= '9') v = *p - '0'; else if (*p >= 'a' && *p <= 'f') v = *p - 'a' + 10; else if (*p >= 'A' && *p <= 'F') v = *p - 'A' + 10; else return -1;
    if (k >= 32) return -1;
    if (k % 2 == 0) out[k / 2] = (uint8_t)(v << 4); else out[k / 2] |= (uint8_t)v;
    k++;
  }
  return k == 32 ? 0 : -1;
}

int rt_add_ta(const char *name, const char *uuid_text, const char *version, const uint8_t *wasm, size_t n, char *err, size_t errn) {
  static tt_wasm_info info;
  if (wasm_read_info(wasm, n, &info, err, errn)) return -1;
  if (wasm_check_module(&info, !g_cfg.allow_debug, err, errn)) return -1;
  if (g_ntas >= MAX_TAS) { snprintf(err, errn, "TOO_MANY_TAS: at most %d", MAX_TAS); return -1; }
  tt_ta *t = &g_tas[g_ntas];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  snprintf(t->version, sizeof t->version, "%s", version);
  if (parse_uuid(uuid_text, t->uuid)) { snprintf(err, errn, "BAD_UUID: not a UUID: %s", uuid_text); return -1; }
  for (int i = 0; i < 16; i++) { static const char *h = "0123456789abcdef"; (void)h; }
  snprintf(t->uuid_text, sizeof t->uuid_text, "%.8s-%.4s-%.4s-%.4s-%.12s", "", "", "", "", "");
  {
    char hx[33];
    for (int i = 0; i < 16; i++) sprintf(hx + 2 * i, "%02x", t->uuid[i]);
    snprintf(t->uuid_text, sizeof t->uuid_text, "%.8s-%.4s-%.4s-%.4s-%.12s", hx, hx + 8, hx + 12, hx + 16, hx + 20);
  }
  for (int i = 0; i < g_ntas; i++)
    if (!memcmp(g_tas[i].uuid, t->uuid, 16) || !strcmp(g_tas[i].name, t->name)) { snprintf(err, errn, "RuntimeError: TA %s loaded twice", name); return -1; }
  crypto_sha256(wasm, n, t->sha256);
  /* The translated image of exactly these bytes: <cache>/<sha256>.so (tee-c/build.ts). */
  char hx[65], path[PATH_MAX], real[PATH_MAX];
  for (int i = 0; i < 32; i++) sprintf(hx + 2 * i, "%02x", t->sha256[i]);
  snprintf(path, sizeof path, "%s/%s.so", g_cfg.cache_dir, hx);
  if (!realpath(path, real)) { snprintf(err, errn, "NOT_TRANSLATED: TA %s: no translated image %s (run wasm2c + gcc: tee-c/build.ts)", name, path); return -1; }
  void *dl = dlopen(real, RTLD_NOW | RTLD_LOCAL);
  if (!dl) { snprintf(err, errn, "NOT_TRANSLATED: TA %s: %s", name, dlerror()); return -1; }
  const tt_module *m = dlsym(dl, "tt_ta_module");
  if (!m || m->abi != TT_MODULE_ABI) { snprintf(err, errn, "NOT_TRANSLATED: TA %s: %s has no tt_ta_module v1", name, real); return -1; }
  static const tt_module *inited[MAX_TAS];
  static int ninited;
  bool seen = false;
  for (int i = 0; i < ninited; i++) seen |= inited[i] == m;
  if (!seen) { m->init_module(); inited[ninited++] = m; ta_watch_module(real); }
  t->mod = m;
  g_ntas++;
  return 0;
}

/* Measurements{runtime_version=1, host_abi_version=2, manifest_sha256=3, tas=4 {name, uuid,
 * version, sha256}, boot_state=5}, made once at start. */
void rt_finish_load(void) {
  tt_buf *b = &g_measurements;
  pb_bytes(b, 1, TT_RUNTIME_VERSION, strlen(TT_RUNTIME_VERSION));
  pb_varint(b, 2, TT_HOST_ABI_VERSION);
  if (g_cfg.manifest_sha256_hex) {
    uint8_t h[32];
    for (int i = 0; i < 32; i++) { unsigned v; sscanf(g_cfg.manifest_sha256_hex + 2 * i, "%2x", &v); h[i] = (uint8_t)v; }
    pb_bytes(b, 3, h, 32);
  }
  for (int i = 0; i < g_ntas; i++) {
    tt_buf m = {0};
    pb_bytes(&m, 1, g_tas[i].name, strlen(g_tas[i].name));
    pb_bytes(&m, 2, g_tas[i].uuid, 16);
    pb_bytes(&m, 3, g_tas[i].version, strlen(g_tas[i].version));
    pb_bytes(&m, 4, g_tas[i].sha256, 32);
    pb_bytes_always(b, 4, m.p, m.n);
    buf_free(&m);
  }
  pb_varint(b, 5, (uint64_t)g_cfg.boot_state);
}

const uint8_t *rt_measurements(size_t *n) { *n = g_measurements.n; return g_measurements.p; }

/* major[.minor[.patch]][-pre-release] as common/ta-version.ts parses it: 0 and v[4] =
 * {major, minor, patch, 1 release / 0 pre-release}, or -1. */
static int parse_version(const char *s, long v[4]) {
  v[0] = v[1] = v[2] = 0; v[3] = 1;
  for (int part = 0; part < 3; part++) {
    if (*s < '0' || *s > '9') return -1;
    long x = 0; int digits = 0;
    while (*s >= '0' && *s <= '9') { if (++digits > 9) return -1; x = x * 10 + (*s++ - '0'); }
    v[part] = x;
    if (*s != '.') break;
    if (part == 2) return -1;
    s++;
  }
  if (*s == '-') {
    if (!s[1]) return -1;
    for (const char *p = s + 1; *p; p++) if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '.' || *p == '-')) return -1;
    v[3] = 0;
  } else if (*s) return -1;
  return 0;
}

static int compare_versions(const long a[4], const long b[4]) {
  for (int i = 0; i < 4; i++) if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/* The core slot: [count u16] then per TA [uuid 16][length u8][version]. */
int rt_enforce_version_floors(char *err, size_t errn) {
  uint8_t *b = NULL; size_t n = 0; bool found;
  if (rpmb_slot_read(NULL, &b, &n, &found)) { snprintf(err, errn, "TA_ROLLBACK: the TA version floors in replay-protected storage are unreadable"); return -1; }
  struct { uint8_t uuid[16]; char version[64]; } floors[MAX_TAS + 64];
  int nf = 0;
  size_t i = 2;
  if (found && n >= 2) {
    int cnt = b[0] << 8 | b[1];
    for (int k = 0; k < cnt && nf < (int)(sizeof floors / sizeof floors[0]) && i + 17 <= n; k++) {
      memcpy(floors[nf].uuid, b + i, 16); i += 16;
      size_t l = b[i++];
      if (l >= sizeof floors[nf].version || i + l > n) break;
      memcpy(floors[nf].version, b + i, l); floors[nf].version[l] = 0; i += l;
      nf++;
    }
  }
  free(b);
  bool raised = false;
  for (int t = 0; t < g_ntas; t++) {
    long have[4], floor[4];
    if (parse_version(g_tas[t].version, have)) { snprintf(err, errn, "BAD_MANIFEST: TA %s version \"%s\" is not major[.minor[.patch]][-pre-release]", g_tas[t].name, g_tas[t].version); return -1; }
    int k = 0;
    while (k < nf && memcmp(floors[k].uuid, g_tas[t].uuid, 16)) k++;
    if (k < nf && !parse_version(floors[k].version, floor) && compare_versions(have, floor) < 0) {
      snprintf(err, errn, "TA_ROLLBACK: TA %s version %s is older than version %s this device loaded before (anti-rollback floor)", g_tas[t].name, g_tas[t].version, floors[k].version);
      return -1;
    }
  }
  for (int t = 0; t < g_ntas; t++) {
    long have[4], floor[4];
    parse_version(g_tas[t].version, have);
    int k = 0;
    while (k < nf && memcmp(floors[k].uuid, g_tas[t].uuid, 16)) k++;
    if (k < nf && !parse_version(floors[k].version, floor) && compare_versions(have, floor) <= 0) continue;
    if (k == nf) { if (nf >= (int)(sizeof floors / sizeof floors[0])) continue; memcpy(floors[nf++].uuid, g_tas[t].uuid, 16); }
    snprintf(floors[k].version, sizeof floors[k].version, "%s", g_tas[t].version);
    raised = true;
  }
  if (!raised) return 0;
  tt_buf o = {0};
  uint8_t h[2] = {(uint8_t)(nf >> 8), (uint8_t)nf};
  buf_put(&o, h, 2);
  for (int k = 0; k < nf; k++) {
    uint8_t l = (uint8_t)strlen(floors[k].version);
    buf_put(&o, floors[k].uuid, 16); buf_put(&o, &l, 1); buf_put(&o, floors[k].version, l);
  }
  uint32_t st = rpmb_slot_write(NULL, o.p, o.n);
  buf_free(&o);
  if (st) { snprintf(err, errn, "DEVICE: cannot write the TA version floors to the RPMB (0x%08x)", st); return -1; }
  return 0;
}
const uint8_t *rt_ta_sha256(const uint8_t uuid[16]) {
  for (int i = 0; i < g_ntas; i++) if (!memcmp(g_tas[i].uuid, uuid, 16)) return g_tas[i].sha256;
  return NULL;
}

static tt_ta *find_ta(const uint8_t *uuid, const char *name) {
  for (int i = 0; i < g_ntas; i++) {
    if (uuid && !memcmp(g_tas[i].uuid, uuid, 16)) return &g_tas[i];
    if (!uuid && name && !strcmp(g_tas[i].name, name)) return &g_tas[i];
  }
  return NULL;
}

static session *find_session(uint32_t id) {
  for (size_t i = 0; i < g_nsessions; i++) if (g_sessions[i].used && g_sessions[i].id == id) return &g_sessions[i];
  return NULL;
}
static session *new_session(void) {
  for (size_t i = 0; i < g_nsessions; i++) if (!g_sessions[i].used) return &g_sessions[i];
  if (g_nsessions == g_capsessions) {
    g_capsessions = g_capsessions ? g_capsessions * 2 : 64;
    g_sessions = realloc(g_sessions, g_capsessions * sizeof *g_sessions);
  }
  return &g_sessions[g_nsessions++];
}
static size_t live_sessions(tt_ta *t) {
  size_t n = 0;
  for (size_t i = 0; i < g_nsessions; i++) if (g_sessions[i].used && g_sessions[i].ta == t && !g_sessions[i].dead) n++;
  return n;
}

static void free_host(tt_ta *t, bool call_destroy) {
  tt_host_ctx *c = t->host;
  if (!c) return;
  t->host = NULL;
  TA_DestroyEntryPoint(c, call_destroy);
  crypto_destroy(c->crypto);
  rt_ta_sessions_close_all(c);
  storage_close(c->storage);
  free(c->opened);
  free(c);
}

static void finish_entry(tt_ta *t, tt_result *r);

/* The TA died: its sessions answer TARGET_DEAD from now on; the next open re-creates it. */
static void bury(tt_ta *t, const char *why, tt_result *r) {
  tt_log("[%s] TA dead: %s", t->name, why);
  if (t->host) crypto_free_all(t->host->crypto);
  free_host(t, false);
  for (size_t i = 0; i < g_nsessions; i++) if (g_sessions[i].used && g_sessions[i].ta == t) g_sessions[i].dead = true;
  set(r, TT_ERROR_TARGET_DEAD, TT_ORIGIN_TEE, "TA %s died: %s", t->name, why);
  if (t->entry.active) { /* the pending command gets TARGET_DEAD */
    tt_result d;
    memset(&d, 0, sizeof d);
    set(&d, r->status, r->origin, "%s", r->message);
    finish_entry(t, &d);
  }
}

/* Enters a TA: BUSY if it is already running (a TA-to-TA call may not re-enter its caller);
 * creates the instance on first use. Returns false with r set when the call cannot proceed. */
static bool enter(tt_ta *t, tt_result *r) {
  if (t->busy) { set(r, TT_ERROR_BUSY, TT_ORIGIN_TEE, "TA %s is busy (a TA-to-TA call may not re-enter its caller)", t->name); return false; }
  if (t->host) return true;
  char storage_root[4200];
  snprintf(storage_root, sizeof storage_root, "%s/storage", g_cfg.data_dir);
  tt_host_ctx *c = calloc(1, sizeof *c);
  c->ta = t; c->name = t->name; c->mod = t->mod;
  memcpy(c->uuid, t->uuid, 16);
  c->tee.ctx = c; c->env.ctx = c;
  c->crypto = crypto_new();
  c->storage = storage_open(storage_root, t->uuid);
  if (!c->storage) { crypto_destroy(c->crypto); free(c); set(r, TT_ERROR_GENERIC, TT_ORIGIN_TEE, "sealed storage unavailable"); return false; }
  t->host = c;
  t->busy = true;
  uint32_t ta_status = 0;
  char why[768];
  uint32_t st = TA_CreateEntryPoint(c, &ta_status, why, sizeof why);
  t->busy = false;
  if (st) { bury(t, why, r); return false; }
  if (ta_status) {
    free_host(t, true);
    set(r, ta_status, TT_ORIGIN_TRUSTED_APP, "TA %s refused creation: %s", t->name, tt_status_name(ta_status));
    return false;
  }
  return true;
}

/* Opens a session owned by client connection `owner` (login PUBLIC) or by the TA whose UUID
 * is `client` (login TRUSTED_APP, cl == 16). */
static void open_session(uint32_t owner, const uint8_t *uuid, const char *name, uint32_t login, const uint8_t *client, size_t cl, tt_result *r) {
  memset(r, 0, sizeof *r);
  tt_ta *t = find_ta(uuid, name);
  if (!t) {
    if (uuid) { char hx[33]; for (int i = 0; i < 16; i++) sprintf(hx + 2 * i, "%02x", uuid[i]); set(r, TT_ERROR_ITEM_NOT_FOUND, TT_ORIGIN_TEE, "no trusted app %s is loaded", hx); }
    else set(r, TT_ERROR_ITEM_NOT_FOUND, TT_ORIGIN_TEE, "no trusted app %s is loaded", name ? name : "");
    return;
  }
  uint32_t id = g_next_session++;
  if (!enter(t, r)) return;
  t->busy = true;
  uint32_t ta_status = 0;
  char why[768];
  uint32_t st = TA_OpenSessionEntryPoint(t->host, id, login, client, cl, &ta_status, why, sizeof why);
  t->busy = false;
  if (st) { bury(t, why, r); return; }
  if (ta_status) { set(r, ta_status, TT_ORIGIN_TRUSTED_APP, "TA %s refused the session: %s", t->name, tt_status_name(ta_status)); return; }
  session *s = new_session();
  memset(s, 0, sizeof *s);
  s->used = true; s->id = id; s->ta = t;
  s->client = owner;
  if (login == TT_LOGIN_TRUSTED_APP && cl == 16) { s->has_caller = true; memcpy(s->caller, client, 16); }
  set(r, TT_SUCCESS, TT_ORIGIN_TRUSTED_APP, "");
  r->session = id;
}

/* ErrorDetail.message (field 1) of a TA's error payload, else the status name. */
static void error_message(const uint8_t *p, size_t n, uint32_t status, char *out, size_t outn) {
  pb_reader rd = {p, n, 0, false};
  uint32_t f, w; uint64_t v; const uint8_t *d; size_t dn;
  const uint8_t *msg = NULL; size_t msgn = 0;
  while (pb_next(&rd, &f, &w, &v, &d, &dn)) if (f == 1 && w == 2) { msg = d; msgn = dn; }
  if (!rd.err && msg && msgn) snprintf(out, outn, "%.*s", (int)msgn, (const char *)msg);
  else snprintf(out, outn, "%s", tt_status_name(status));
}

/* A TA's answer as the client sees it (frees nothing: r takes the payload). */
static void reply_to_result(tt_ta *t, ta_reply *rep, size_t cap, tt_result *r) {
  if (rep->status == TT_TUI_PENDING) {
    free(rep->payload);
    set(r, TT_ERROR_BAD_STATE, TT_ORIGIN_TEE, "TA %s answered TUI_PENDING without a trusted-UI entry", t->name);
    return;
  }
  if (rep->status == TT_ERROR_SHORT_BUFFER) {
    set(r, rep->status, TT_ORIGIN_TRUSTED_APP, "response needs %u bytes", rep->size_needed);
    r->size_needed = rep->size_needed;
    free(rep->payload);
    return;
  }
  r->payload = rep->payload; r->payload_len = rep->len;
  if (rep->status) {
    char m[400];
    error_message(rep->payload, rep->len, rep->status, m, sizeof m);
    set(r, rep->status, TT_ORIGIN_TRUSTED_APP, "%s", m);
    return;
  }
  if (cap > 0 && rep->len > cap) {
    set(r, TT_ERROR_SHORT_BUFFER, TT_ORIGIN_TRUSTED_APP, "response of %zu bytes exceeds the %zu-byte buffer", rep->len, cap);
    r->size_needed = (uint32_t)rep->len;
    return;
  }
  set(r, TT_SUCCESS, TT_ORIGIN_TRUSTED_APP, "");
}

/* Runs ta_invoke; false (r set) when the call did not reach the TA or the TA died. */
static bool invoke_raw(tt_ta *t, uint32_t sid, uint32_t command, const uint8_t *in, size_t inl, ta_reply *rep, tt_result *r) {
  if (!enter(t, r)) return false;
  t->busy = true;
  char why[768];
  uint32_t st = TA_InvokeCommandEntryPoint(t->host, sid, command, in, inl, rep, why, sizeof why);
  t->busy = false;
  if (st) { bury(t, why, r); return false; }
  return true;
}

static bool check_session(session *s, uint32_t sid, tt_result *r) {
  if (!s) { set(r, TT_ERROR_BAD_PARAMETERS, TT_ORIGIN_API, "no open session %u", sid); return false; }
  if (s->dead) { set(r, TT_ERROR_TARGET_DEAD, TT_ORIGIN_TEE, "TA %s died; open a new session", s->ta->name); return false; }
  if (s->ta->entry.active && s->ta->entry.session == sid) { set(r, TT_ERROR_BUSY, TT_ORIGIN_TEE, "session %u has a command pending", sid); return false; }
  return true;
}

/* Whether the caller may use session s: its owner only. Anyone else is told it does not exist,
 * as for an unknown id (nothing says the session is there). */
static bool owned(const session *s, uint32_t client, const uint8_t *caller) {
  if (!s) return false;
  if (caller) return s->has_caller && !memcmp(s->caller, caller, 16);
  return !s->has_caller && s->client == client;
}

/* Invokes a session its owner has already been checked for (s is not used after the call). */
static void invoke_session(session *s, uint32_t sid, uint32_t command, const uint8_t *in, size_t inl, size_t cap, tt_result *r) {
  if (!check_session(s, sid, r)) return;
  tt_ta *t = s->ta;
  ta_reply rep = {0};
  if (!invoke_raw(t, sid, command, in, inl, &rep, r)) return;
  reply_to_result(t, &rep, cap, r);
}

/* ---- trusted UI (docs/trusted-ui.md): pending commands, events, the host's timers ---- */
static uint32_t g_next_entry = 1;

/* A TuiScreen (and its TuiKeys) that decodes: known fields with their wire types. */
static bool screen_valid(const uint8_t *p, size_t n, bool key) {
  pb_reader rd = {p, n, 0, false};
  uint32_t f, w; uint64_t v; const uint8_t *d; size_t dn;
  while (pb_next(&rd, &f, &w, &v, &d, &dn)) {
    /* 1.2 added the key rectangles (6..9) and the screen's width, height, pixels, speech (8..11) */
    bool str = key ? (f == 2 || f == 3) : (f == 1 || f == 2 || f == 5 || f == 10 || f == 11);
    bool num = key ? (f == 1 || (f >= 4 && f <= 9)) : (f == 4 || f == 6 || f == 7 || f == 8 || f == 9);
    if (str && w != 2) return false;
    if (num && w != 0) return false;
    if (!key && f == 3) { if (w != 2 || !screen_valid(d, dn, true)) return false; }
  }
  return !rd.err;
}
/* TuiScreen.mode (field 6) */
static uint32_t screen_mode(const uint8_t *p, size_t n) {
  pb_reader rd = {p, n, 0, false};
  uint32_t f, w, mode = 0; uint64_t v; const uint8_t *d; size_t dn;
  while (pb_next(&rd, &f, &w, &v, &d, &dn)) if (f == 6 && w == 0) mode = (uint32_t)v;
  return mode;
}

int32_t rt_tui_begin(tt_host_ctx *c, const uint8_t *screen, size_t n, uint32_t timeout_ms) {
  tt_ta *t = c->ta;
  if (g_cfg.ui_fd < 0) return (int32_t)TT_ERROR_NOT_SUPPORTED;
  if (!t->tui_session || t->has_begun) return (int32_t)TT_ERROR_BAD_STATE;
  if (t->entry.active) return (int32_t)TT_ERROR_BUSY;
  if (timeout_ms < 100 || timeout_ms > 600000) return (int32_t)TT_ERROR_BAD_PARAMETERS;
  if (!screen_valid(screen, n, false)) return (int32_t)TT_ERROR_BAD_FORMAT;
  t->begun = malloc(n ? n : 1);
  if (n) memcpy(t->begun, screen, n);
  t->begun_n = n; t->begun_timeout = timeout_ms; t->has_begun = true;
  return 0;
}

int32_t rt_tui_update(tt_host_ctx *c, const uint8_t *screen, size_t n) {
  tt_ta *t = c->ta;
  /* as the reference runtime: without a UI there is never an entry, so BAD_STATE */
  if (!screen_valid(screen, n, false)) return (int32_t)TT_ERROR_BAD_FORMAT;
  if (!t->entry.active) return (int32_t)TT_ERROR_BAD_STATE;
  tt_send_ui_frame(TT_UI_SHOW, t->entry.id, screen, n);
  return 0;
}

static void encode(uint32_t id, const tt_result *r, tt_buf *out);

/* The entry ends exactly once: the pending command gets r, the display is closed. */
static void finish_entry(tt_ta *t, tt_result *r) {
  if (!t->entry.active) { result_free(r); return; }
  t->entry.active = false;
  tt_send_ui_frame(TT_UI_CLOSE, t->entry.id, NULL, 0);
  tt_buf out = {0};
  encode(t->entry.req_id, r, &out);
  tt_send_client_frame(t->entry.client, out.p ? out.p : (const uint8_t *)"", out.n);
  buf_free(&out);
  result_free(r);
}

/* One event into ta_tui_event; true when the entry is still pending afterwards. */
static bool deliver(tt_ta *t, uint32_t kind, uint32_t position) {
  if (!t->entry.active) return false;
  tt_result r;
  memset(&r, 0, sizeof r);
  if (!enter(t, &r)) { if (t->entry.active) finish_entry(t, &r); else result_free(&r); return false; }
  t->busy = true;
  ta_reply rep = {0};
  char why[768];
  uint32_t st = TA_TuiEventEntryPoint(t->host, t->entry.session, kind, position, &rep, why, sizeof why);
  t->busy = false;
  if (st) { bury(t, why, &r); result_free(&r); return false; } /* bury answered the command */
  if (rep.status == TT_TUI_PENDING) { free(rep.payload); return true; }
  reply_to_result(t, &rep, t->entry.cap, &r);
  finish_entry(t, &r);
  return false;
}

/* Session closing (or the display failing): ABORT now; the TA's outcome, else the fallback. */
static void abort_now(tt_ta *t, uint32_t status, const char *why) {
  if (deliver(t, 6 /* TUI_EVENT_ABORT */, 0)) {
    tt_result r;
    memset(&r, 0, sizeof r);
    set(&r, status, TT_ORIGIN_TEE, "%s", why);
    finish_entry(t, &r);
  }
}

/* A client invoke that may wait for a person (the envelope's Invoke). */
static bool invoke_client(uint32_t client, uint32_t sid, uint32_t command, const uint8_t *in, size_t inl, size_t cap, uint32_t req_id, tt_result *r) {
  memset(r, 0, sizeof *r);
  session *s = find_session(sid);
  if (!owned(s, client, NULL)) s = NULL;
  if (g_cfg.ui_fd < 0) { invoke_session(s, sid, command, in, inl, cap, r); return false; }
  if (!check_session(s, sid, r)) return false;
  tt_ta *t = s->ta;
  s = NULL; /* the call below may grow the session table */
  t->tui_session = sid;
  t->has_begun = false;
  ta_reply rep = {0};
  bool ran = invoke_raw(t, sid, command, in, inl, &rep, r);
  t->tui_session = 0;
  bool begun = t->has_begun;
  uint8_t *screen = t->begun; size_t sn = t->begun_n; uint32_t timeout = t->begun_timeout;
  t->has_begun = false; t->begun = NULL;
  if (!ran || !begun || rep.status != TT_TUI_PENDING) {
    free(screen);
    if (ran) reply_to_result(t, &rep, cap, r);
    return false;
  }
  free(rep.payload);
  t->entry.active = true; t->entry.abort_pending = false; t->entry.timer_fired = false;
  t->entry.session = sid; t->entry.req_id = req_id; t->entry.client = client; t->entry.id = g_next_entry++; t->entry.cap = cap;
  t->entry.deadline = tt_real_ms() + timeout;
  (void)screen_mode;
  int w = tt_send_ui_frame(TT_UI_OPEN, t->entry.id, screen, sn);
  free(screen);
  if (w) abort_now(t, TT_ERROR_GENERIC, "trusted UI failed: the display channel is closed");
  return true;
}

static tt_ta *entry_by_id(uint32_t id) {
  for (int i = 0; i < g_ntas; i++) if (g_tas[i].entry.active && g_tas[i].entry.id == id) return &g_tas[i];
  return NULL;
}

void rt_ui_message(const uint8_t *m, size_t n) {
  if (n < 5) return;
  uint32_t id = (uint32_t)m[1] << 24 | m[2] << 16 | m[3] << 8 | m[4];
  tt_ta *t = entry_by_id(id);
  if (!t) return; /* the entry is over: late events are dropped */
  switch (m[0]) {
    case TT_UI_TOUCH: if (n >= 9) deliver(t, 1, (uint32_t)m[5] << 24 | m[6] << 16 | m[7] << 8 | m[8]); break;
    case TT_UI_TOUCH_AT: if (n >= 9) deliver(t, 7, (uint32_t)m[5] << 24 | m[6] << 16 | m[7] << 8 | m[8]); break;
    case TT_UI_OK: deliver(t, 2, 0); break;
    case TT_UI_CLEAR: deliver(t, 3, 0); break;
    case TT_UI_CANCEL: deliver(t, 4, 0); break;
    case TT_UI_FAIL: abort_now(t, TT_ERROR_GENERIC, "trusted UI failed: the display provider gave up"); break;
  }
}

void rt_after_request(void) {
  for (int i = 0; i < g_ntas; i++) if (g_tas[i].entry.active && g_tas[i].entry.abort_pending) {
    g_tas[i].entry.abort_pending = false;
    deliver(&g_tas[i], 6 /* TUI_EVENT_ABORT */, 0);
  }
}

double rt_next_deadline(void) {
  double d = -1;
  for (int i = 0; i < g_ntas; i++) if (g_tas[i].entry.active && !g_tas[i].entry.timer_fired && (d < 0 || g_tas[i].entry.deadline < d)) d = g_tas[i].entry.deadline;
  return d;
}

void rt_tick(void) {
  double now = tt_real_ms();
  for (int i = 0; i < g_ntas; i++) if (g_tas[i].entry.active && !g_tas[i].entry.timer_fired && g_tas[i].entry.deadline <= now) {
    g_tas[i].entry.timer_fired = true;
    deliver(&g_tas[i], 5 /* TUI_EVENT_TIMEOUT */, 0);
  }
}

/* Closes a session its owner has already been checked for. */
static void close_session(uint32_t sid, tt_result *r) {
  memset(r, 0, sizeof *r);
  session *s = find_session(sid);
  if (!s) { set(r, TT_ERROR_BAD_PARAMETERS, TT_ORIGIN_API, "no open session %u", sid); return; }
  tt_ta *t = s->ta;
  /* The entry ends first, with the TA's outcome for an abort; the pending command gets it.
   * The TA runs there (and may grow the session table): look the session up again after. */
  if (t->entry.active && t->entry.session == sid && !t->busy) {
    abort_now(t, TT_ERROR_CANCEL, "session closed during a trusted-UI entry");
    s = find_session(sid);
    if (!s) { set(r, TT_SUCCESS, TT_ORIGIN_TRUSTED_APP, ""); return; }
  }
  bool dead = s->dead;
  s->used = false;
  set(r, TT_SUCCESS, TT_ORIGIN_TRUSTED_APP, "");
  if (dead || !t->host) return;
  if (!enter(t, r)) return;
  t->busy = true;
  char why[768];
  uint32_t st = TA_CloseSessionEntryPoint(t->host, sid, why, sizeof why);
  t->busy = false;
  if (st) { bury(t, why, r); return; }
  /* GP: the instance is destroyed when its last session closes (not keep-alive) */
  if (live_sessions(t) == 0 && t->host && !t->busy) free_host(t, true);
}

/* Public API of the client side: the session must be this client's own. */
void rt_open_session(uint32_t client, const uint8_t *uuid, const char *name, uint32_t login, tt_result *r) {
  open_session(client, uuid, name, login, NULL, 0, r);
}
void rt_invoke(uint32_t client, uint32_t sid, uint32_t command, const uint8_t *in, size_t inl, size_t cap, tt_result *r) {
  memset(r, 0, sizeof *r);
  session *s = find_session(sid);
  invoke_session(owned(s, client, NULL) ? s : NULL, sid, command, in, inl, cap, r);
}
void rt_close_session(uint32_t client, uint32_t sid, tt_result *r) {
  memset(r, 0, sizeof *r);
  if (!owned(find_session(sid), client, NULL)) { set(r, TT_ERROR_BAD_PARAMETERS, TT_ORIGIN_API, "no open session %u", sid); return; }
  close_session(sid, r);
}

/* A client connection went away: its sessions close, as a TEE closes a dead client's sessions
 * (GP TEEC_FinalizeContext done for it). */
void rt_client_gone(uint32_t client) {
  for (size_t i = 0; i < g_nsessions; i++) {
    if (!g_sessions[i].used || g_sessions[i].has_caller || g_sessions[i].client != client) continue;
    tt_result r;
    close_session(g_sessions[i].id, &r); /* by index: the table may move during the call */
    result_free(&r);
  }
}

void rt_shutdown(void) {
  for (size_t i = 0; i < g_nsessions; i++) if (g_sessions[i].used) { tt_result r; close_session(g_sessions[i].id, &r); result_free(&r); }
  for (int i = 0; i < g_ntas; i++) free_host(&g_tas[i], true);
}

/* ---- TA-to-TA (tee.session_*): a TA may use only sessions it opened itself ---- */
int32_t rt_ta_session_open(tt_host_ctx *c, const uint8_t callee[16]) {
  tt_result r;
  open_session(0, callee, NULL, TT_LOGIN_TRUSTED_APP, c->uuid, 16, &r);
  result_free(&r);
  if (r.status) return (int32_t)r.status;
  if (c->nopened == c->capopened) {
    uint32_t *o = realloc(c->opened, (c->capopened ? c->capopened * 2 : 16) * sizeof *o);
    if (!o) { tt_result x; close_session(r.session, &x); result_free(&x); return (int32_t)TT_ERROR_OUT_OF_MEMORY; }
    c->opened = o; c->capopened = c->capopened ? c->capopened * 2 : 16;
  }
  c->opened[c->nopened++] = r.session;
  return (int32_t)r.session;
}

int32_t rt_ta_session_invoke(tt_host_ctx *c, uint32_t sid, uint32_t cmd, const uint8_t *in, size_t inl, size_t cap, tt_buf *out, uint32_t *status) {
  session *s = find_session(sid);
  if (!owned(s, 0, c->uuid)) { *status = TT_ERROR_BAD_PARAMETERS; return 0; }
  tt_result r;
  memset(&r, 0, sizeof r);
  invoke_session(s, sid, cmd, in, inl, cap, &r);
  *status = r.status;
  if (r.payload_len) buf_put(out, r.payload, r.payload_len);
  result_free(&r);
  return 0;
}

void rt_ta_session_close(tt_host_ctx *c, uint32_t sid) {
  for (size_t i = 0; i < c->nopened; i++) if (c->opened[i] == sid) {
    c->opened[i] = c->opened[--c->nopened];
    tt_result r;
    close_session(sid, &r);
    result_free(&r);
    return;
  }
}

void rt_ta_sessions_close_all(tt_host_ctx *c) {
  while (c->nopened > 0) {
    uint32_t sid = c->opened[--c->nopened];
    tt_result r;
    close_session(sid, &r);
    result_free(&r);
  }
}

/* ---- the client envelope ---- */
static void encode(uint32_t id, const tt_result *r, tt_buf *out) {
  pb_varint(out, 1, id);
  pb_varint(out, 2, r->status);
  pb_varint(out, 3, r->origin);
  pb_varint(out, 4, r->session);
  if (r->status == TT_SUCCESS) pb_bytes(out, 5, r->payload, r->payload_len);
  pb_varint(out, 6, r->size_needed);
  pb_bytes(out, 7, r->message, strlen(r->message));
}

static bool u32_field(uint32_t wire, uint64_t v, uint32_t *out) { if (wire != 0) return true; *out = (uint32_t)v; return true; }

bool rt_handle_request(uint32_t client, const uint8_t *req, size_t n, tt_buf *out) {
  tt_result r;
  memset(&r, 0, sizeof r);
  pb_reader rd = {req, n, 0, false};
  uint32_t f, w; uint64_t v; const uint8_t *d; size_t dn;
  uint32_t id = 0; int op = 0; const uint8_t *body = NULL; size_t bodyn = 0;
  while (pb_next(&rd, &f, &w, &v, &d, &dn)) {
    if (f == 1) u32_field(w, v, &id);
    else if (f >= 2 && f <= 5 && w == 2) { op = (int)f; body = d; bodyn = dn; }
  }
  if (rd.err) { set(&r, TT_ERROR_BAD_FORMAT, TT_ORIGIN_COMMS, "malformed ClientRequest"); encode(0, &r, out); return true; }
  pb_reader b = {body, bodyn, 0, false};
  if (op == 2) { /* OpenSession{uuid=1, name=2, login=3} */
    const uint8_t *uuid = NULL; size_t un = 0; char name[128] = ""; uint32_t login = 0;
    while (pb_next(&b, &f, &w, &v, &d, &dn)) {
      if (f == 1 && w == 2) { uuid = d; un = dn; }
      else if (f == 2 && w == 2) snprintf(name, sizeof name, "%.*s", (int)(dn < 127 ? dn : 127), (const char *)d);
      else if (f == 3) u32_field(w, v, &login);
    }
    if (b.err) { set(&r, TT_ERROR_BAD_FORMAT, TT_ORIGIN_COMMS, "malformed ClientRequest"); encode(0, &r, out); return true; }
    if (un) {
      if (un != 16) { set(&r, TT_ERROR_ITEM_NOT_FOUND, TT_ORIGIN_TEE, "no trusted app with a %zu-byte UUID is loaded", un); }
      else rt_open_session(client, uuid, NULL, login, &r);
    } else rt_open_session(client, NULL, name, login, &r);
  } else if (op == 3) { /* Invoke{session=1, command=2, payload=3, response_capacity=4} */
    uint32_t sid = 0, cmd = 0, cap = 0; const uint8_t *p = NULL; size_t pn = 0;
    while (pb_next(&b, &f, &w, &v, &d, &dn)) {
      if (f == 1) u32_field(w, v, &sid); else if (f == 2) u32_field(w, v, &cmd);
      else if (f == 3 && w == 2) { p = d; pn = dn; } else if (f == 4) u32_field(w, v, &cap);
    }
    if (b.err) { set(&r, TT_ERROR_BAD_FORMAT, TT_ORIGIN_COMMS, "malformed ClientRequest"); encode(0, &r, out); return true; }
    size_t c = cap ? cap : TT_MAX_RESPONSE;
    if (c > TT_MAX_RESPONSE) c = TT_MAX_RESPONSE;
    if (invoke_client(client, sid, cmd, p ? p : (const uint8_t *)"", pn, c, id, &r)) return false; /* answered when the entry ends */
  } else if (op == 4) { /* CloseSession{session=1} */
    uint32_t sid = 0;
    while (pb_next(&b, &f, &w, &v, &d, &dn)) if (f == 1) u32_field(w, v, &sid);
    if (b.err) { set(&r, TT_ERROR_BAD_FORMAT, TT_ORIGIN_COMMS, "malformed ClientRequest"); encode(0, &r, out); return true; }
    rt_close_session(client, sid, &r);
  } else if (op == 5) { /* Cancel{session=1}: GP TEEC_RequestCancellation; ABORT after the answer */
    uint32_t sid = 0;
    while (pb_next(&b, &f, &w, &v, &d, &dn)) if (f == 1) u32_field(w, v, &sid);
    if (b.err) { set(&r, TT_ERROR_BAD_FORMAT, TT_ORIGIN_COMMS, "malformed ClientRequest"); encode(0, &r, out); return true; }
    session *s = find_session(sid);
    if (!owned(s, client, NULL)) set(&r, TT_ERROR_BAD_PARAMETERS, TT_ORIGIN_API, "no open session %u", sid);
    else {
      if (s->ta->entry.active && s->ta->entry.session == sid) s->ta->entry.abort_pending = true;
      set(&r, TT_SUCCESS, TT_ORIGIN_TRUSTED_APP, "");
    }
  } else {
    set(&r, TT_ERROR_BAD_PARAMETERS, TT_ORIGIN_COMMS, "ClientRequest names no operation");
  }
  encode(id, &r, out);
  result_free(&r);
  return true;
}
