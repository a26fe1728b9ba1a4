/* The simulated hardware unique key (32 bytes, made once per device directory at
 * <data>/device/huk-c.bin) and per-TA derivation as tee/huk.ts does it: HKDF-SHA256 (RFC 5869),
 * salt "TrustTap HUK v1", info = TA UUID || label. On OP-TEE: tee_otp_get_hw_unique_key() +
 * huk_subkey_derive(). The C host keeps its own key file: blobs need not be interchangeable. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include "tt.h"

static uint8_t g_huk[32];
static bool g_huk_ok;

int atomic_write(const char *path, const uint8_t *d, size_t n); /* storage.c */
int mkdirs(const char *path);

int huk_open(const char *data_dir) {
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s/device", data_dir);
  if (mkdirs(dir)) return -1;
  snprintf(path, sizeof path, "%s/huk-c.bin", dir);
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    uint8_t k[32];
    crypto_random(k, 32);
    if (atomic_write(path, k, 32)) return -1;
    tt_wipe(k, 32);
    fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
  }
  ssize_t r = read(fd, g_huk, 32);
  close(fd);
  if (r != 32) return -1;
  g_huk_ok = true;
  return 0;
}

int huk_derive(const uint8_t uuid[16], const uint8_t *label, size_t label_len, uint8_t *out, size_t out_len) {
  if (!g_huk_ok) return -1;
  uint8_t info[16 + 256];
  if (label_len > 256) return -1;
  memcpy(info, uuid, 16);
  if (label_len) memcpy(info + 16, label, label_len);
  EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
  int ok = pc && EVP_PKEY_derive_init(pc) > 0 && EVP_PKEY_CTX_set_hkdf_md(pc, EVP_sha256()) > 0 &&
           EVP_PKEY_CTX_set1_hkdf_salt(pc, (const unsigned char *)"TrustTap HUK v1", 15) > 0 &&
           EVP_PKEY_CTX_set1_hkdf_key(pc, g_huk, 32) > 0 &&
           EVP_PKEY_CTX_add1_hkdf_info(pc, info, (int)(16 + label_len)) > 0 && EVP_PKEY_derive(pc, out, &out_len) > 0;
  EVP_PKEY_CTX_free(pc);
  tt_wipe(info, sizeof info);
  return ok ? 0 : -1;
}

/* A key for the TEE core itself (the RPMB authentication key), as tee/huk.ts deriveCore: another
 * HKDF salt, so no TA's derivation can reach it whatever UUID and label it uses. */
int huk_derive_core(const uint8_t *label, size_t label_len, uint8_t *out, size_t out_len) {
  if (!g_huk_ok) return -1;
  EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
  int ok = pc && EVP_PKEY_derive_init(pc) > 0 && EVP_PKEY_CTX_set_hkdf_md(pc, EVP_sha256()) > 0 &&
           EVP_PKEY_CTX_set1_hkdf_salt(pc, (const unsigned char *)"TrustTap HUK core v1", 20) > 0 &&
           EVP_PKEY_CTX_set1_hkdf_key(pc, g_huk, 32) > 0 &&
           EVP_PKEY_CTX_add1_hkdf_info(pc, label, (int)label_len) > 0 && EVP_PKEY_derive(pc, out, &out_len) > 0;
  EVP_PKEY_CTX_free(pc);
  return ok ? 0 : -1;
}
