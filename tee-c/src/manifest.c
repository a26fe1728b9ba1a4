/* The signed build manifest, checked the way tee/loader/manifest.ts does before any TA is
 * translated code is run: the Ed25519 signature (OpenSSL) over the exact bytes of
 * manifest.json, then the manifest's shape and ABI version, then each release TA's size and
 * SHA-256, its imports/exports/memory against the manifest, and the module against the host
 * ABI. Refusals carry the same codes: NO_MANIFEST, UNSIGNED, BAD_SIGNATURE, BAD_MANIFEST,
 * ABI_MISMATCH, HASH_MISMATCH, MANIFEST_MISMATCH (and the loader codes of wasm.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "tt.h"
#include "json.h"

int read_whole(const char *path, uint8_t **out, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  tt_buf b = {0};
  uint8_t tmp[65536];
  size_t r;
  while ((r = fread(tmp, 1, sizeof tmp, f)) > 0) buf_put(&b, tmp, r);
  fclose(f);
  if (!b.p) buf_put(&b, "", 0), b.p = calloc(1, 1);
  *out = b.p; *n = b.n;
  return 0;
}

static void hex(const uint8_t *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

/* Strict base64 (RFC 4648 §4, padded) into at most `cap` bytes: the length is checked against
 * `cap` before a byte is written (issue 17 §9: manifest.sig was decoded into a fixed buffer by
 * its own length). Returns the decoded length, or -1 (bad text, or more than `cap` bytes). */
int b64_decode(const char *t, size_t n, uint8_t *out, size_t cap) {
  if (n == 0 || n % 4) return -1;
  size_t pad = t[n - 1] == '=' ? (t[n - 2] == '=' ? 2 : 1) : 0;
  size_t len = n / 4 * 3 - pad;
  if (len > cap) return -1;
  size_t k = 0;
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; j++) {
      char c = t[i + j];
      int d = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
      if (c == '=' && i + 4 == n && j >= 4 - pad) d = 0;
      if (d < 0) return -1;
      v = v << 6 | (uint32_t)d;
    }
    uint8_t b[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    for (size_t j = 0; j < 3 && k < len; j++) out[k++] = b[j];
  }
  return (int)len;
}

static int verify_signature(const uint8_t *m, size_t mn, const char *sigtext, const char *key_pem_path, char *err, size_t errn) {
  if (!sigtext) { snprintf(err, errn, "UNSIGNED: the manifest has no signature (manifest.sig missing or empty)"); return -1; }
  /* trim */
  while (*sigtext && isspace((unsigned char)*sigtext)) sigtext++;
  size_t sl = strlen(sigtext);
  while (sl && isspace((unsigned char)sigtext[sl - 1])) sl--;
  if (!sl) { snprintf(err, errn, "UNSIGNED: the manifest has no signature (manifest.sig missing or empty)"); return -1; }
  FILE *kf = fopen(key_pem_path, "r");
  EVP_PKEY *key = kf ? PEM_read_PUBKEY(kf, NULL, NULL, NULL) : NULL;
  if (kf) fclose(kf);
  if (!key) { snprintf(err, errn, "BAD_SIGNATURE: the trusted public key is unreadable: %s", key_pem_path); return -1; }
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) { EVP_PKEY_free(key); snprintf(err, errn, "BAD_SIGNATURE: the trusted key must be Ed25519"); return -1; }
  uint8_t sig[64];
  if (b64_decode(sigtext, sl, sig, sizeof sig) != 64) { EVP_PKEY_free(key); snprintf(err, errn, "BAD_SIGNATURE: manifest.sig is not a base64 Ed25519 signature (64 bytes)"); return -1; }
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  int ok = EVP_DigestVerifyInit(c, NULL, NULL, NULL, key) > 0 && EVP_DigestVerify(c, sig, 64, m, mn) == 1;
  EVP_MD_CTX_free(c);
  EVP_PKEY_free(key);
  if (!ok) { snprintf(err, errn, "BAD_SIGNATURE: manifest.sig does not verify over manifest.json with the trusted key"); return -1; }
  return 0;
}

static bool is_uuid(const char *s) {
  if (strlen(s) != 36) return false;
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) { if (s[i] != '-') return false; }
    else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  }
  return true;
}
static bool is_hex64(const char *s) {
  if (strlen(s) != 64) return false;
  for (int i = 0; i < 64; i++) if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}
static bool nonneg_int(const jnode *j) { return j && j->t == J_NUM && j->is_int && j->num >= 0; }

#define BAD(...) do { snprintf(err, errn, "BAD_MANIFEST: manifest.json: " __VA_ARGS__); goto fail; } while (0)

/* The manifest's JSON and shape, as tee/loader/manifest.ts checks them: the parsed tree, or NULL
 * with "CODE: message" in err. Separate from the signature so it can be fuzzed (tee-c/fuzz/). */
jnode *manifest_parse(const uint8_t *m, size_t mn, char *err, size_t errn) {
  jnode *j = NULL;
  char jerr[256];
  j = json_parse((const char *)m, mn, jerr, sizeof jerr);
  if (!j) BAD("not valid UTF-8 JSON: %s", jerr);
  if (j->t != J_OBJ) BAD("not a JSON object");
  jnode *ver = json_get(j, "version");
  if (!ver || ver->t != J_NUM || ver->num != 1) BAD("unsupported manifest version (expected 1)");
  const char *ks[] = {"signer", "signing_key", "compiler"};
  for (int k = 0; k < 3; k++) if (!json_str(j, ks[k])) BAD("%s must be a string", ks[k]);
  jnode *hv = json_get(j, "host_abi_version"), *tv = json_get(j, "ta_abi_version");
  if (!hv || hv->t != J_NUM || !hv->is_int) BAD("host_abi_version must be an integer");
  if (!tv || tv->t != J_NUM || !tv->is_int) BAD("ta_abi_version must be an integer");
  jnode *tas = json_get(j, "tas");
  if (!tas || tas->t != J_ARR) BAD("tas must be an array");
  for (size_t i = 0; i < tas->n; i++) {
    jnode *t = tas->items[i];
    if (t->t != J_OBJ) BAD("tas[%zu] is not an object", i);
    const char *sk[] = {"name", "uuid", "version", "file", "sha256"};
    for (int k = 0; k < 5; k++) if (!json_str(t, sk[k])) BAD("tas[%zu].%s must be a string", i, sk[k]);
    if (!is_uuid(json_str(t, "uuid"))) BAD("tas[%zu].uuid is not a lower-case UUID", i);
    if (!is_hex64(json_str(t, "sha256"))) BAD("tas[%zu].sha256 is not 64 lower-case hex digits", i);
    const char *file = json_str(t, "file");
    size_t fl = strlen(file);
    if (strchr(file, '/') || file[0] == '.' || fl < 5 || strcmp(file + fl - 5, ".wasm")) BAD("tas[%zu].file must be a plain *.wasm file name", i);
    jnode *dbg = json_get(t, "debug");
    if (!dbg || dbg->t != J_BOOL) BAD("tas[%zu].debug must be a boolean", i);
    const char *nk[] = {"ta_abi_version", "size", "initial_memory_pages", "maximum_memory_pages"};
    for (int k = 0; k < 4; k++) if (!nonneg_int(json_get(t, nk[k]))) BAD("tas[%zu].%s must be a non-negative integer", i, nk[k]);
    jnode *im = json_get(t, "imports"), *ex = json_get(t, "exports"), *aa = json_get(t, "asc_args");
    if (!im || im->t != J_ARR) BAD("tas[%zu].imports must be [{module, name, signature}]", i);
    for (size_t k = 0; k < im->n; k++) if (!json_str(im->items[k], "module") || !json_str(im->items[k], "name") || !json_str(im->items[k], "signature")) BAD("tas[%zu].imports must be [{module, name, signature}]", i);
    if (!ex || ex->t != J_ARR) BAD("tas[%zu].exports must be [{name, kind}]", i);
    for (size_t k = 0; k < ex->n; k++) if (!json_str(ex->items[k], "name") || !json_str(ex->items[k], "kind")) BAD("tas[%zu].exports must be [{name, kind}]", i);
    if (!aa || aa->t != J_ARR) BAD("tas[%zu].asc_args must be an array of strings", i);
    for (size_t k = 0; k < i; k++) {
      jnode *o = tas->items[k];
      bool same_dbg = json_get(o, "debug")->b == dbg->b;
      if (same_dbg && (!strcmp(json_str(o, "name"), json_str(t, "name")) || !strcmp(json_str(o, "uuid"), json_str(t, "uuid")))) BAD("tas[%zu] is listed twice", i);
    }
  }
  if (hv->num != TT_HOST_ABI_VERSION) { snprintf(err, errn, "ABI_MISMATCH: manifest is for host ABI v%g; this runtime implements v%d", hv->num, TT_HOST_ABI_VERSION); goto fail; }
  return j;
fail:
  json_free(j);
  return NULL;
}

int manifest_load(const char *dir, const char *key_pem_path, bool debug, char *err, size_t errn) {
  char path[4200];
  uint8_t *m = NULL, *sig = NULL, *wasm = NULL;
  size_t mn, sn, wn;
  jnode *j = NULL;
  int rc = -1;
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  if (read_whole(path, &m, &mn)) { snprintf(err, errn, "NO_MANIFEST: no manifest.json in %s", dir); return -1; }
  snprintf(path, sizeof path, "%s/manifest.sig", dir);
  char *sigtext = NULL;
  if (!read_whole(path, &sig, &sn)) { sigtext = calloc(1, sn + 1); memcpy(sigtext, sig, sn); }
  int v = verify_signature(m, mn, sigtext, key_pem_path, err, errn);
  free(sigtext);
  if (v) goto fail;
  if (!(j = manifest_parse(m, mn, err, errn))) goto fail;
  jnode *tas = json_get(j, "tas");

  /* the manifest hash is what attestation reports */
  static char mhex[65];
  uint8_t mh[32];
  crypto_sha256(m, mn, mh);
  hex(mh, 32, mhex);
  g_cfg.manifest_sha256_hex = mhex;

  for (size_t i = 0; i < tas->n; i++) {
    jnode *t = tas->items[i];
    if (json_get(t, "debug")->b != debug) continue;
    const char *name = json_str(t, "name"), *file = json_str(t, "file");
    snprintf(path, sizeof path, "%s/%s", dir, file);
    free(wasm); wasm = NULL;
    if (read_whole(path, &wasm, &wn)) { snprintf(err, errn, "HASH_MISMATCH: %s (TA %s) is missing from %s", file, name, dir); goto fail; }
    double size = json_get(t, "size")->num;
    if ((double)wn != size) { snprintf(err, errn, "HASH_MISMATCH: %s (TA %s) is %zu bytes; the manifest says %.0f", file, name, wn, size); goto fail; }
    uint8_t h[32]; char hx[65];
    crypto_sha256(wasm, wn, h);
    hex(h, 32, hx);
    if (strcmp(hx, json_str(t, "sha256"))) { snprintf(err, errn, "HASH_MISMATCH: %s (TA %s) has sha256 %s; the manifest says %s", file, name, hx, json_str(t, "sha256")); goto fail; }
    /* the manifest's description must be what the binary holds */
    static tt_wasm_info info;
    if (wasm_read_info(wasm, wn, &info, err, errn)) goto fail;
    jnode *im = json_get(t, "imports"), *ex = json_get(t, "exports");
    bool same = im->n == (size_t)info.nimports;
    for (size_t k = 0; same && k < im->n; k++)
      same = !strcmp(json_str(im->items[k], "module"), info.imports[k].module) && !strcmp(json_str(im->items[k], "name"), info.imports[k].name) && !strcmp(json_str(im->items[k], "signature"), info.imports[k].sig);
    if (!same) { snprintf(err, errn, "MANIFEST_MISMATCH: TA %s: the binary's imports differ from the manifest", name); goto fail; }
    same = ex->n == (size_t)info.nexports;
    for (size_t k = 0; same && k < ex->n; k++)
      same = !strcmp(json_str(ex->items[k], "name"), info.exports[k].name) && !strcmp(json_str(ex->items[k], "kind"), info.exports[k].kind);
    if (!same) { snprintf(err, errn, "MANIFEST_MISMATCH: TA %s: the binary's exports differ from the manifest", name); goto fail; }
    if (info.mem_max != (int64_t)json_get(t, "maximum_memory_pages")->num) { snprintf(err, errn, "MANIFEST_MISMATCH: TA %s: the binary's maximum memory is %lld pages, the manifest says %.0f", name, (long long)info.mem_max, json_get(t, "maximum_memory_pages")->num); goto fail; }
    if (json_get(t, "ta_abi_version")->num != TT_TA_ABI_VERSION) { snprintf(err, errn, "ABI_MISMATCH: TA %s is built for TA ABI v%g; this runtime speaks v%d", name, json_get(t, "ta_abi_version")->num, TT_TA_ABI_VERSION); goto fail; }
    if (rt_add_ta(name, json_str(t, "uuid"), json_str(t, "version"), wasm, wn, err, errn)) goto fail;
  }
  rc = 0;
fail:
  free(m); free(sig); free(wasm); json_free(j);
  return rc;
}
