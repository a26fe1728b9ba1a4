/* A small strict JSON reader: objects, arrays, strings with every escape, numbers, literals;
 * rejects trailing data, nesting deeper than 32, invalid UTF-8 (overlong forms, surrogates,
 * code points above U+10FFFF, raw or escaped) and numbers it cannot hold exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <errno.h>
#include "json.h"

typedef struct { const char *p; size_t n, i; int depth; char *err; size_t errn; bool bad; } P;
static void fail(P *p, const char *what) { if (!p->bad) snprintf(p->err, p->errn, "%s at offset %zu", what, p->i); p->bad = true; }
static void ws(P *p) { while (p->i < p->n && (p->p[p->i] == ' ' || p->p[p->i] == '\n' || p->p[p->i] == '\r' || p->p[p->i] == '\t')) p->i++; }
static jnode *value(P *p);

static void put_utf8(char *o, size_t *k, unsigned u) {
  if (u < 0x80) o[(*k)++] = (char)u;
  else if (u < 0x800) { o[(*k)++] = (char)(0xc0 | u >> 6); o[(*k)++] = (char)(0x80 | (u & 63)); }
  else if (u < 0x10000) { o[(*k)++] = (char)(0xe0 | u >> 12); o[(*k)++] = (char)(0x80 | ((u >> 6) & 63)); o[(*k)++] = (char)(0x80 | (u & 63)); }
  else { o[(*k)++] = (char)(0xf0 | u >> 18); o[(*k)++] = (char)(0x80 | ((u >> 12) & 63)); o[(*k)++] = (char)(0x80 | ((u >> 6) & 63)); o[(*k)++] = (char)(0x80 | (u & 63)); }
}
static int hex4(P *p) {
  if (p->n - p->i < 4) return -1;
  int v = 0;
  for (int k = 0; k < 4; k++) {
    char c = p->p[p->i++];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0'; else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10; else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10; else return -1;
  }
  return v;
}
static char *string(P *p, size_t *len) {
  p->i++; /* " */
  char *o = malloc(p->n - p->i + 4);
  size_t k = 0;
  while (p->i < p->n) {
    unsigned char c = (unsigned char)p->p[p->i];
    if (c == '"') { p->i++; o[k] = 0; *len = k; return o; }
    if (c < 0x20) break;
    if (c == '\\') {
      p->i++;
      if (p->i >= p->n) break;
      char e = p->p[p->i++];
      switch (e) {
        case '"': o[k++] = '"'; break; case '\\': o[k++] = '\\'; break; case '/': o[k++] = '/'; break;
        case 'b': o[k++] = '\b'; break; case 'f': o[k++] = '\f'; break; case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break; case 't': o[k++] = '\t'; break;
        case 'u': {
          /* a surrogate is valid only as a high-low pair: a lone one is refused, as it has no
           * UTF-8 form (issue 17 §9) */
          int u = hex4(p);
          if (u < 0 || (u >= 0xdc00 && u < 0xe000)) goto bad;
          if (u >= 0xd800 && u < 0xdc00) {
            if (p->n - p->i < 6 || p->p[p->i] != '\\' || p->p[p->i + 1] != 'u') goto bad;
            p->i += 2;
            int lo = hex4(p);
            if (lo < 0xdc00 || lo >= 0xe000) goto bad;
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
          }
          put_utf8(o, &k, (unsigned)u);
          break;
        }
        default: goto bad;
      }
      continue;
    }
    /* UTF-8 (RFC 3629): the shortest form only, no surrogates (U+D800..DFFF), nothing above
     * U+10FFFF */
    int extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (extra < 0 || p->n - p->i <= (size_t)extra) { fail(p, "invalid UTF-8"); free(o); return NULL; }
    unsigned cp = extra == 0 ? c : extra == 1 ? c & 0x1fu : extra == 2 ? c & 0x0fu : c & 0x07u;
    for (int j = 1; j <= extra; j++) {
      unsigned char d = (unsigned char)p->p[p->i + j];
      if ((d & 0xc0) != 0x80) { fail(p, "invalid UTF-8"); free(o); return NULL; }
      cp = cp << 6 | (d & 0x3fu);
    }
    static const unsigned least[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[extra]) { fail(p, "overlong UTF-8"); free(o); return NULL; }
    if (cp >= 0xd800 && cp < 0xe000) { fail(p, "UTF-8 encodes a surrogate"); free(o); return NULL; }
    if (cp > 0x10ffff) { fail(p, "UTF-8 beyond U+10FFFF"); free(o); return NULL; }
    memcpy(o + k, p->p + p->i, (size_t)extra + 1);
    k += (size_t)extra + 1; p->i += (size_t)extra + 1;
  }
bad:
  fail(p, "bad string");
  free(o);
  return NULL;
}

static jnode *node(jtype t) { jnode *j = calloc(1, sizeof *j); j->t = t; return j; }

static jnode *value(P *p) {
  ws(p);
  if (p->i >= p->n) { fail(p, "unexpected end"); return NULL; }
  char c = p->p[p->i];
  if (c == '{' || c == '[') {
    if (++p->depth > 32) { fail(p, "nesting too deep"); return NULL; }
    bool obj = c == '{';
    jnode *j = node(obj ? J_OBJ : J_ARR);
    p->i++;
    ws(p);
    if (p->i < p->n && p->p[p->i] == (obj ? '}' : ']')) { p->i++; p->depth--; return j; }
    for (;;) {
      char *key = NULL;
      if (obj) {
        ws(p);
        size_t kl;
        if (p->i >= p->n || p->p[p->i] != '"' || !(key = string(p, &kl))) { fail(p, "expected a key"); json_free(j); return NULL; }
        ws(p);
        if (p->i >= p->n || p->p[p->i] != ':') { free(key); fail(p, "expected ':'"); json_free(j); return NULL; }
        p->i++;
      }
      jnode *v = value(p);
      if (!v) { free(key); json_free(j); return NULL; }
      j->items = realloc(j->items, (j->n + 1) * sizeof *j->items);
      j->keys = realloc(j->keys, (j->n + 1) * sizeof *j->keys);
      j->items[j->n] = v; j->keys[j->n] = key; j->n++;
      ws(p);
      if (p->i < p->n && p->p[p->i] == ',') { p->i++; continue; }
      if (p->i < p->n && p->p[p->i] == (obj ? '}' : ']')) { p->i++; p->depth--; return j; }
      fail(p, "expected ',' or a closing bracket");
      json_free(j);
      return NULL;
    }
  }
  if (c == '"') { size_t l; char *s = string(p, &l); if (!s) return NULL; jnode *j = node(J_STR); j->s = s; j->slen = l; return j; }
  if (!strncmp(p->p + p->i, "true", p->n - p->i < 4 ? p->n - p->i : 4) && p->n - p->i >= 4) { p->i += 4; jnode *j = node(J_BOOL); j->b = true; return j; }
  if (p->n - p->i >= 5 && !strncmp(p->p + p->i, "false", 5)) { p->i += 5; return node(J_BOOL); }
  if (p->n - p->i >= 4 && !strncmp(p->p + p->i, "null", 4)) { p->i += 4; return node(J_NULL); }
  if (c == '-' || (c >= '0' && c <= '9')) {
    size_t s = p->i;
    if (p->p[p->i] == '-') p->i++;
    if (p->i >= p->n || p->p[p->i] < '0' || p->p[p->i] > '9') { fail(p, "bad number"); return NULL; }
    if (p->p[p->i] == '0') p->i++; else while (p->i < p->n && p->p[p->i] >= '0' && p->p[p->i] <= '9') p->i++;
    bool integer = true;
    if (p->i < p->n && p->p[p->i] == '.') { integer = false; p->i++; size_t d = p->i; while (p->i < p->n && p->p[p->i] >= '0' && p->p[p->i] <= '9') p->i++; if (d == p->i) { fail(p, "bad number"); return NULL; } }
    if (p->i < p->n && (p->p[p->i] == 'e' || p->p[p->i] == 'E')) { integer = false; p->i++; if (p->i < p->n && (p->p[p->i] == '+' || p->p[p->i] == '-')) p->i++; size_t d = p->i; while (p->i < p->n && p->p[p->i] >= '0' && p->p[p->i] <= '9') p->i++; if (d == p->i) { fail(p, "bad number"); return NULL; } }
    /* A number must read back as exactly what it says where that matters: a literal longer
     * than any double needs, an overflow to infinity, or an integer beyond 2^53 - 1 (which a double
     * cannot hold exactly) is refused rather than truncated or rounded (issue 17 §9). */
    char tmp[64];
    size_t l = p->i - s;
    if (l >= sizeof tmp) { p->i = s; fail(p, "number too long"); return NULL; }
    memcpy(tmp, p->p + s, l); tmp[l] = 0;
    errno = 0;
    double num = strtod(tmp, NULL);
    if (errno == ERANGE && (num == HUGE_VAL || num == -HUGE_VAL)) { p->i = s; fail(p, "number out of range"); return NULL; }
    if (integer && fabs(num) > 9007199254740991.0) { p->i = s; fail(p, "integer beyond 2^53 - 1 cannot be represented exactly"); return NULL; }
    jnode *j = node(J_NUM);
    j->num = num;
    j->is_int = integer || (j->num == floor(j->num) && fabs(j->num) <= 9007199254740992.0);
    return j;
  }
  fail(p, "unexpected character");
  return NULL;
}

jnode *json_parse(const char *text, size_t n, char *err, size_t errn) {
  P p = {text, n, 0, 0, err, errn, false};
  if (n >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb && (unsigned char)text[2] == 0xbf) p.i = 3; /* BOM, as TextDecoder drops it */
  jnode *j = value(&p);
  if (!j) return NULL;
  ws(&p);
  if (p.i != n) { fail(&p, "trailing data"); json_free(j); return NULL; }
  return j;
}

void json_free(jnode *j) {
  if (!j) return;
  for (size_t k = 0; k < j->n; k++) { json_free(j->items[k]); if (j->keys) free(j->keys[k]); }
  free(j->items); free(j->keys); free(j->s); free(j);
}

jnode *json_get(const jnode *obj, const char *key) {
  if (!obj || obj->t != J_OBJ) return NULL;
  jnode *found = NULL;
  for (size_t k = 0; k < obj->n; k++) if (!strcmp(obj->keys[k], key)) found = obj->items[k]; /* last wins, as JSON.parse */
  return found;
}
/* A string with a NUL inside (\u0000) is no C string: NULL, as for a missing one, never the part
 * before the NUL. */
const char *json_str(const jnode *obj, const char *key) { jnode *j = json_get(obj, key); return j && j->t == J_STR && strlen(j->s) == j->slen ? j->s : NULL; }
