/* libFuzzer target: the JSON reader (json.c) and the manifest reader's shape checks
 * (manifest.c manifest_parse), which run on manifest.json once its signature verifies.
 * Besides the sanitizers, an oracle independent of json.c: every string the reader accepts must
 * be well-formed UTF-8 to glibc's iconv (no overlong form, no surrogate, nothing above
 * U+10FFFF), and every number it calls an integer must be one a double holds exactly; anything
 * else traps (a crash to libFuzzer) — the class of bug issue 17 §9 found in this reader. */
#include <iconv.h>
#include <math.h>
#include "harness.h"

static iconv_t g_cd;

static void utf8_or_trap(const char *s, size_t n) {
  char out[256], *in = (char *)s;
  size_t left = n;
  iconv(g_cd, NULL, NULL, NULL, NULL);
  while (left) {
    char *o = out;
    size_t ol = sizeof out;
    if (iconv(g_cd, &in, &left, &o, &ol) == (size_t)-1 && errno != E2BIG) __builtin_trap();
  }
}

static void check(const jnode *j) {
  if (j->t == J_STR) utf8_or_trap(j->s, j->slen);
  if (j->t == J_NUM && j->is_int && !(fabs(j->num) <= 9007199254740992.0)) __builtin_trap();
  for (size_t k = 0; k < j->n; k++) {
    if (j->t == J_OBJ) utf8_or_trap(j->keys[k], strlen(j->keys[k]));
    check(j->items[k]);
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  g_cd = iconv_open("UTF-32LE", "UTF-8");
  return g_cd == (iconv_t)-1;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  char err[512];
  jnode *j = json_parse((const char *)d, n, err, sizeof err);
  if (j) {
    check(j);
    if (j->t == J_OBJ) for (size_t k = 0; k < j->n; k++) (void)json_str(j, j->keys[k]);
    json_free(j);
  }
  j = manifest_parse(d, n, err, sizeof err);
  json_free(j);
  return 0;
}
