/* libFuzzer target: the JSON reader (json.c) and the manifest reader's shape checks
 * (manifest.c manifest_parse), which run on manifest.json once its signature verifies. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  char err[512];
  jnode *j = json_parse((const char *)d, n, err, sizeof err);
  if (j) {
    for (size_t k = 0; k < j->n; k++) if (j->keys) (void)json_str(j, j->keys[k]);
    json_free(j);
  }
  j = manifest_parse(d, n, err, sizeof err);
  json_free(j);
  return 0;
}
