/* Reads what the loader must check from a WebAssembly binary (imports with their signatures,
 * exports, memory limits) and checks it against host ABI v1 and TA ABI v1 with the same codes
 * and wording as tee/loader/imports.ts. Bounds-checked; a malformed binary is NOT_WASM. */
#include <stdio.h>
#include <string.h>
#include "tt.h"

typedef struct { const uint8_t *p; size_t n, i; bool err; } rd;
static uint64_t leb(rd *r) {
  uint64_t x = 0;
  for (int s = 0; s < 64; s += 7) {
    if (r->i >= r->n) { r->err = true; return 0; }
    uint8_t c = r->p[r->i++];
    x |= (uint64_t)(c & 0x7f) << s;
    if (!(c & 0x80)) return x;
  }
  r->err = true;
  return 0;
}
static uint8_t byte(rd *r) { if (r->i >= r->n) { r->err = true; return 0; } return r->p[r->i++]; }
static void name(rd *r, char *out, size_t outn) {
  uint64_t l = leb(r);
  if (r->err || l > r->n - r->i) { r->err = true; out[0] = 0; return; }
  size_t k = l < outn - 1 ? (size_t)l : outn - 1;
  memcpy(out, r->p + r->i, k); out[k] = 0;
  if (l >= outn) r->err = true; /* longer than any ABI name: refuse rather than truncate */
  r->i += (size_t)l;
}
static const char *vt(uint8_t t) {
  switch (t) { case 0x7f: return "i32"; case 0x7e: return "i64"; case 0x7d: return "f32"; case 0x7c: return "f64"; case 0x7b: return "v128"; case 0x70: return "funcref"; case 0x6f: return "externref"; }
  return "?";
}

#define MAX_TYPES 512
#define SIG_TOO_LONG "(signature too long)"
typedef struct { char s[sizeof ((tt_import *)0)->sig]; size_t n; bool over; } sigbuf;
static void put(sigbuf *b, const char *t) {
  size_t l = strlen(t);
  if (b->over || l >= sizeof b->s - b->n) { b->over = true; return; }
  memcpy(b->s + b->n, t, l + 1);
  b->n += l;
}
int wasm_read_info(const uint8_t *b, size_t n, tt_wasm_info *info, char *err, size_t errn) {
  static char sigs[MAX_TYPES][sizeof ((tt_import *)0)->sig];
  int ntypes = 0;
  memset(info, 0, sizeof *info);
  info->mem_initial = info->mem_max = -1;
  if (n < 8 || memcmp(b, "\0asm\1\0\0\0", 8)) { snprintf(err, errn, "NOT_WASM: not a valid WebAssembly module: bad magic or version"); return -1; }
  rd r = {b, n, 8, false};
  while (r.i < n && !r.err) {
    uint8_t id = byte(&r);
    uint64_t len = leb(&r);
    if (r.err || len > n - r.i) { r.err = true; break; }
    rd s = {b, r.i + (size_t)len, r.i, false};
    r.i += (size_t)len;
    if (id == 1) {
      uint64_t cnt = leb(&s);
      for (uint64_t k = 0; k < cnt && !s.err; k++) {
        if (byte(&s) != 0x60 || ntypes >= MAX_TYPES) { s.err = true; break; }
        /* "(i32, i64) -> void" built with a bounded append (issue 17 §9: this was strcat into a
         * fixed buffer). A type too long for the buffer cannot be any host ABI signature: it is
         * kept as TOO_LONG, so an import of it is refused and an internal one is harmless. */
        sigbuf out = {{0}, 0, false};
        put(&out, "(");
        uint64_t np = leb(&s);
        for (uint64_t j = 0; j < np && !s.err; j++) { if (j) put(&out, ", "); put(&out, vt(byte(&s))); }
        put(&out, ") -> ");
        uint64_t nr = s.err ? 0 : leb(&s);
        if (nr == 0) put(&out, "void");
        else if (nr == 1) put(&out, vt(byte(&s)));
        else { put(&out, "("); for (uint64_t j = 0; j < nr && !s.err; j++) { if (j) put(&out, ", "); put(&out, vt(byte(&s))); } put(&out, ")"); }
        if (s.err) break;
        if (out.over) snprintf(out.s, sizeof out.s, "%s", SIG_TOO_LONG);
        memcpy(sigs[ntypes++], out.s, sizeof out.s);
      }
    } else if (id == 2) {
      uint64_t cnt = leb(&s);
      for (uint64_t k = 0; k < cnt && !s.err; k++) {
        if (info->nimports >= TT_MAX_IMPORTS) { s.err = true; break; }
        tt_import *im = &info->imports[info->nimports++];
        name(&s, im->module, sizeof im->module);
        name(&s, im->name, sizeof im->name);
        uint8_t kind = byte(&s);
        if (kind == 0) {
          uint64_t t = leb(&s);
          if (t >= (uint64_t)ntypes) { s.err = true; break; }
          snprintf(im->kind, sizeof im->kind, "function"); snprintf(im->sig, sizeof im->sig, "%s", sigs[t]);
        } else if (kind == 1) { snprintf(im->kind, sizeof im->kind, "table"); byte(&s); uint8_t f = byte(&s); leb(&s); if (f & 1) leb(&s); }
        else if (kind == 2) { snprintf(im->kind, sizeof im->kind, "memory"); uint8_t f = byte(&s); leb(&s); if (f & 1) leb(&s); }
        else if (kind == 3) { snprintf(im->kind, sizeof im->kind, "global"); byte(&s); byte(&s); }
        else s.err = true;
      }
    } else if (id == 5) {
      uint64_t cnt = leb(&s);
      if (cnt > 0) {
        uint8_t f = byte(&s);
        info->has_memory = true;
        info->mem_initial = (int64_t)leb(&s);
        info->mem_max = (f & 1) ? (int64_t)leb(&s) : -1;
      }
    } else if (id == 7) {
      uint64_t cnt = leb(&s);
      for (uint64_t k = 0; k < cnt && !s.err; k++) {
        if (info->nexports >= TT_MAX_EXPORTS) { s.err = true; break; }
        tt_export *ex = &info->exports[info->nexports++];
        name(&s, ex->name, sizeof ex->name);
        uint8_t kind = byte(&s);
        leb(&s);
        snprintf(ex->kind, sizeof ex->kind, "%s", kind == 0 ? "function" : kind == 1 ? "table" : kind == 2 ? "memory" : kind == 3 ? "global" : "?");
      }
    }
    if (s.err) { r.err = true; break; }
  }
  if (r.err) { snprintf(err, errn, "NOT_WASM: not a valid WebAssembly module: malformed section"); return -1; }
  return 0;
}

static const char *required[] = {"memory", "io_in", "io_out", "io_cap", "ta_create", "ta_open_session", "ta_invoke", "ta_out_len", "ta_close_session", "ta_destroy"};

int wasm_check_module(const tt_wasm_info *info, bool release, char *err, size_t errn) {
  char first[1024] = ""; int problems = 0;
  char more[512] = "";
#define PROBLEM(...) do { if (!problems) snprintf(first, sizeof first, __VA_ARGS__); problems++; } while (0)
#define CODE(c) do { if (problems > 1) { if (more[0]) strncat(more, ", ", sizeof more - strlen(more) - 1); strncat(more, c, sizeof more - strlen(more) - 1); } } while (0)
  for (int k = 0; k < info->nimports; k++) {
    const tt_import *im = &info->imports[k];
    const tt_host_fn *fn = host_abi_find(im->module, im->name);
    if (!fn || strcmp(im->kind, "function")) {
      PROBLEM("UNKNOWN_IMPORT: import %s.%s (%s%s%s) is not in the host ABI", im->module, im->name, im->kind, im->sig[0] ? " " : "", im->sig);
      CODE("UNKNOWN_IMPORT");
      continue;
    }
    if (strcmp(fn->sig, im->sig)) {
      PROBLEM("BAD_IMPORT_SIGNATURE: import %s.%s has signature %s; the host ABI declares %s", im->module, im->name, im->sig, fn->sig);
      CODE("BAD_IMPORT_SIGNATURE");
      continue;
    }
    if (release && fn->debug_only) { PROBLEM("DEBUG_IMPORT_IN_RELEASE: release TA imports debug-only %s.%s", im->module, im->name); CODE("DEBUG_IMPORT_IN_RELEASE"); }
  }
  bool tui = false;
  for (int k = 0; k < info->nimports; k++)
    if (!strcmp(info->imports[k].module, "tee") && (!strcmp(info->imports[k].name, "tui_begin") || !strcmp(info->imports[k].name, "tui_update"))) tui = true;
  size_t nreq = sizeof required / sizeof *required + (tui ? 1 : 0);
  for (size_t k = 0; k < nreq; k++) {
    const char *want = k == 0 ? "memory" : "function";
    const char *req = k < sizeof required / sizeof *required ? required[k] : "ta_tui_event";
    const char *kind = NULL;
    for (int j = 0; j < info->nexports; j++) if (!strcmp(info->exports[j].name, req)) { kind = info->exports[j].kind; break; }
    if (!kind || strcmp(kind, want)) {
      if (kind) PROBLEM("MISSING_EXPORT: export %s is a %s, expected a %s", req, kind, want);
      else PROBLEM("MISSING_EXPORT: missing export %s (%s)", req, want);
      CODE("MISSING_EXPORT");
    }
  }
  if (!info->has_memory) { PROBLEM("NO_MEMORY: the module has no memory"); CODE("NO_MEMORY"); }
  else if (info->mem_max < 0) { PROBLEM("NO_MAXIMUM_MEMORY: memory declares no maximum (initial %lld pages); build with --maximumMemory", (long long)info->mem_initial); CODE("NO_MAXIMUM_MEMORY"); }
  if (!problems) return 0;
  if (problems > 1) snprintf(err, errn, "%s (and %d more: %s)", first, problems - 1, more);
  else snprintf(err, errn, "%s", first);
  return -1;
}
