/* Sealed storage for one TA, with the guarantees of tee/storage/sealed.ts (blobs are not
 * interchangeable with the Node runtime's): AES-256-GCM under a key derived from the HUK and the
 * TA's UUID; a rollback counter per object in this TA's slot of the simulated RPMB device
 * (rpmb.c: a separate device, authenticated frames only); blob first, counter second, both
 * written atomically (temp file, fsync, rename, fsync of the directory). A blob failing its tag
 * is CORRUPT_OBJECT; a version older than its counter, a removed blob, or an RPMB answer that
 * fails its MAC or nonce is SECURITY.
 * On OP-TEE: TEE_CreatePersistentObject / TEE_OpenPersistentObject with TEE_STORAGE_PRIVATE_RPMB. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include "tt.h"

#define MAX_ID 64
#define MAX_OBJECT (1u << 20)
#define MAX_ENTRIES 4096
static const uint8_t MAGIC[4] = {'T', 'T', 'C', '1'};

typedef struct { uint8_t id[MAX_ID]; uint8_t idn; uint64_t v; bool deleted; } entry;
struct tt_storage {
  char objects[4096];
  uint8_t uuid[16], seal_key[32];
  entry *e; int ne;
};

int mkdirs(const char *path) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p == '/') { *p = 0; if (mkdir(tmp, 0700) && errno != EEXIST) return -1; *p = '/'; }
  }
  if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
  return 0;
}

int atomic_write(const char *path, const uint8_t *d, size_t n) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < n) {
    ssize_t w = write(fd, d + off, n - off);
    if (w < 0) { if (errno == EINTR) continue; close(fd); unlink(tmp); return -1; }
    off += (size_t)w;
  }
  if (fsync(fd) || close(fd)) { unlink(tmp); return -1; }
  if (rename(tmp, path)) { unlink(tmp); return -1; }
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) { *slash = 0; int dfd = open(dir, O_RDONLY); if (dfd >= 0) { fsync(dfd); close(dfd); } }
  return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *n) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st)) { close(fd); return -1; }
  uint8_t *b = malloc(st.st_size ? (size_t)st.st_size : 1);
  size_t off = 0;
  while (off < (size_t)st.st_size) {
    ssize_t r = read(fd, b + off, (size_t)st.st_size - off);
    if (r <= 0) { if (r < 0 && errno == EINTR) continue; break; }
    off += (size_t)r;
  }
  close(fd);
  *out = b; *n = off;
  return 0;
}

static void hexs(const uint8_t *b, size_t n, char *out) {
  static const char *h = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) { out[2 * i] = h[b[i] >> 4]; out[2 * i + 1] = h[b[i] & 15]; }
  out[2 * n] = 0;
}

tt_storage *storage_open(const char *root, const uint8_t uuid[16]) {
  tt_storage *s = calloc(1, sizeof *s);
  char u[33], dir[4096];
  hexs(uuid, 16, u);
  memcpy(s->uuid, uuid, 16);
  snprintf(s->objects, sizeof s->objects, "%s/%s/objects", root, u);
  (void)dir;
  if (mkdirs(s->objects) ||
      huk_derive(uuid, (const uint8_t *)"sealed-storage", 14, s->seal_key, 32)) { storage_close(s); return NULL; }
  return s;
}

void storage_close(tt_storage *s) {
  if (!s) return;
  tt_wipe(s->seal_key, 32);
  free(s->e);
  free(s);
}

/* ---- the counter table in the TA's RPMB slot: [count u32][entries: idn u8, id, v u64 BE, deleted u8] ---- */
static bool any_blob(tt_storage *s) {
  DIR *d = opendir(s->objects);
  if (!d) return false;
  struct dirent *de; bool found = false;
  while ((de = readdir(d))) { size_t l = strlen(de->d_name); if (l > 5 && !strcmp(de->d_name + l - 5, ".blob")) { found = true; break; } }
  closedir(d);
  return found;
}

static uint32_t load_counters(tt_storage *s) {
  free(s->e); s->e = NULL; s->ne = 0;
  uint8_t *b = NULL; size_t n = 0; bool found;
  uint32_t rs = rpmb_slot_read(s->uuid, &b, &n, &found);
  if (rs) return rs == TT_ERROR_STORAGE_NO_SPACE ? rs : TT_ERROR_SECURITY;
  if (!found) {
    if (any_blob(s)) return TT_ERROR_SECURITY; /* counters missing while sealed objects exist */
    return TT_SUCCESS;
  }
  uint32_t st = TT_ERROR_SECURITY;
  if (n < 4) goto out;
  uint32_t cnt = (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
  if (cnt > MAX_ENTRIES) goto out;
  s->e = calloc(cnt ? cnt : 1, sizeof(entry));
  size_t i = 4, end = n;
  for (uint32_t k = 0; k < cnt; k++) {
    if (i >= end) goto out;
    uint8_t idn = b[i++];
    if (idn == 0 || idn > MAX_ID || end - i < (size_t)idn + 9) goto out;
    entry *e = &s->e[s->ne++];
    e->idn = idn; memcpy(e->id, b + i, idn); i += idn;
    e->v = 0; for (int j = 0; j < 8; j++) e->v = e->v << 8 | b[i++];
    e->deleted = b[i++] != 0;
  }
  st = i == end ? TT_SUCCESS : TT_ERROR_SECURITY;
out:
  free(b);
  return st;
}

static uint32_t save_counters(tt_storage *s) {
  tt_buf b = {0};
  uint8_t h[4] = {(uint8_t)(s->ne >> 24), (uint8_t)(s->ne >> 16), (uint8_t)(s->ne >> 8), (uint8_t)s->ne};
  buf_put(&b, h, 4);
  for (int k = 0; k < s->ne; k++) {
    entry *e = &s->e[k];
    buf_put(&b, &e->idn, 1); buf_put(&b, e->id, e->idn);
    uint8_t v[9];
    for (int j = 0; j < 8; j++) v[j] = (uint8_t)(e->v >> (56 - 8 * j));
    v[8] = e->deleted;
    buf_put(&b, v, 9);
  }
  uint32_t r = rpmb_slot_write(s->uuid, b.p, b.n);
  buf_free(&b);
  if (r == TT_SUCCESS || r == TT_ERROR_STORAGE_NO_SPACE) return r;
  return TT_ERROR_SECURITY;
}

static entry *find(tt_storage *s, const uint8_t *id, size_t idn) {
  for (int k = 0; k < s->ne; k++) if (s->e[k].idn == idn && !memcmp(s->e[k].id, id, idn)) return &s->e[k];
  return NULL;
}
static entry *upsert(tt_storage *s, const uint8_t *id, size_t idn) {
  entry *e = find(s, id, idn);
  if (e) return e;
  if (s->ne >= MAX_ENTRIES) return NULL;
  entry *ne = realloc(s->e, (s->ne + 1) * sizeof(entry));
  if (!ne) return NULL;
  s->e = ne;
  e = &s->e[s->ne++];
  memset(e, 0, sizeof *e);
  e->idn = (uint8_t)idn; memcpy(e->id, id, idn);
  return e;
}

static void blob_path(tt_storage *s, const uint8_t *id, size_t idn, char *out, size_t outn) {
  char h[2 * MAX_ID + 1];
  hexs(id, idn, h);
  snprintf(out, outn, "%s/%s.blob", s->objects, h);
}

static void aad(tt_storage *s, const uint8_t *id, size_t idn, uint64_t v, tt_buf *b) {
  buf_put(b, MAGIC, 4); buf_put(b, s->uuid, 16); buf_put(b, id, idn);
  uint8_t vb[8]; for (int j = 0; j < 8; j++) vb[j] = (uint8_t)(v >> (56 - 8 * j));
  buf_put(b, vb, 8);
}

static bool gcm(bool enc, const uint8_t key[32], const uint8_t iv[12], const tt_buf *a, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[16]) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int l = 0, ok = c && (enc ? EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) : EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv)) > 0;
  ok = ok && EVP_CipherUpdate(c, NULL, &l, a->p, (int)a->n) > 0;
  ok = ok && (n == 0 || EVP_CipherUpdate(c, out, &l, in, (int)n) > 0);
  if (ok && !enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) > 0;
  ok = ok && EVP_CipherFinal_ex(c, out + (n ? l : 0), &l) > 0;
  if (ok && enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) > 0;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

static uint32_t check_id(size_t idn) { return idn == 0 || idn > MAX_ID ? TT_ERROR_BAD_PARAMETERS : TT_SUCCESS; }

uint32_t storage_write(tt_storage *s, const uint8_t *id, size_t idn, const uint8_t *d, size_t dn) {
  uint32_t st = check_id(idn);
  if (st) return st;
  if (dn > MAX_OBJECT) return TT_ERROR_STORAGE_NO_SPACE;
  if ((st = load_counters(s))) return st;
  entry *e = find(s, id, idn);
  uint64_t v = (e ? e->v : 0) + 1;
  uint8_t iv[12], tag[16];
  crypto_random(iv, 12);
  tt_buf a = {0}, blob = {0};
  aad(s, id, idn, v, &a);
  uint8_t hdr[8]; for (int j = 0; j < 8; j++) hdr[j] = (uint8_t)(v >> (56 - 8 * j));
  buf_put(&blob, MAGIC, 4); buf_put(&blob, hdr, 8); buf_put(&blob, iv, 12);
  size_t at = blob.n;
  buf_put(&blob, d, dn); /* reserve, then encrypt in place from the TA's copy */
  bool ok = gcm(true, s->seal_key, iv, &a, d, dn, blob.p + at, tag);
  buf_put(&blob, tag, 16);
  char path[4300];
  blob_path(s, id, idn, path, sizeof path);
  /* blob first, counter second: a crash between leaves version = counter + 1, accepted once */
  if (!ok || atomic_write(path, blob.p, blob.n)) st = TT_ERROR_STORAGE_NO_SPACE;
  buf_free(&a); buf_free(&blob);
  if (st) return st;
  e = upsert(s, id, idn);
  if (!e) return TT_ERROR_STORAGE_NO_SPACE;
  e->v = v; e->deleted = false;
  return save_counters(s);
}

uint32_t storage_read(tt_storage *s, const uint8_t *id, size_t idn, uint8_t **out, size_t *outn, bool *found) {
  *found = false; *out = NULL; *outn = 0;
  uint32_t st = check_id(idn);
  if (st) return st;
  if ((st = load_counters(s))) return st;
  entry *e = find(s, id, idn);
  char path[4300];
  blob_path(s, id, idn, path, sizeof path);
  uint8_t *b; size_t n;
  if (read_file(path, &b, &n)) {
    if (e && !e->deleted) return TT_ERROR_SECURITY; /* removed outside the TEE */
    return TT_SUCCESS;
  }
  if (n < 4 + 8 + 12 + 16 || memcmp(b, MAGIC, 4)) { free(b); return TT_ERROR_CORRUPT_OBJECT; }
  uint64_t v = 0; for (int j = 0; j < 8; j++) v = v << 8 | b[4 + j];
  uint64_t cur = e ? e->v : 0;
  if (e && e->deleted && v <= cur) { free(b); unlink(path); return TT_SUCCESS; } /* stale copy of a deleted object */
  if (v < cur || v > cur + 1) { free(b); return TT_ERROR_SECURITY; }
  tt_buf a = {0};
  aad(s, id, idn, v, &a);
  size_t ctn = n - 40;
  uint8_t *plain = malloc(ctn ? ctn : 1);
  bool ok = gcm(false, s->seal_key, b + 12, &a, b + 24, ctn, plain, b + n - 16);
  buf_free(&a); free(b);
  if (!ok) { tt_wipe(plain, ctn); free(plain); return TT_ERROR_CORRUPT_OBJECT; }
  if (v == cur + 1) { /* finish a write that crashed before its counter update */
    e = upsert(s, id, idn);
    if (e) { e->v = v; e->deleted = false; save_counters(s); }
  }
  *out = plain; *outn = ctn; *found = true;
  return TT_SUCCESS;
}

uint32_t storage_delete(tt_storage *s, const uint8_t *id, size_t idn, bool *found) {
  *found = false;
  uint32_t st = check_id(idn);
  if (st) return st;
  if ((st = load_counters(s))) return st;
  entry *e = find(s, id, idn);
  char path[4300];
  blob_path(s, id, idn, path, sizeof path);
  bool exists = access(path, F_OK) == 0;
  if (!exists && (!e || e->deleted)) return TT_SUCCESS;
  e = upsert(s, id, idn);
  if (!e) return TT_ERROR_STORAGE_NO_SPACE;
  e->v += 1; e->deleted = true;
  if ((st = save_counters(s))) return st;
  if (exists) unlink(path);
  *found = true;
  return TT_SUCCESS;
}

static int cmp_entry(const void *x, const void *y) {
  const entry *a = x, *b = y;
  size_t n = a->idn < b->idn ? a->idn : b->idn;
  int c = memcmp(a->id, b->id, n);
  return c ? c : (int)a->idn - (int)b->idn;
}

uint32_t storage_list(tt_storage *s, tt_buf *out) {
  uint32_t st = load_counters(s);
  if (st) return st;
  qsort(s->e, s->ne, sizeof(entry), cmp_entry);
  for (int k = 0; k < s->ne; k++) {
    if (s->e[k].deleted) continue;
    buf_put(out, &s->e[k].idn, 1);
    buf_put(out, s->e[k].id, s->e[k].idn);
  }
  return TT_SUCCESS;
}
