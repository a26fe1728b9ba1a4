/* Host crypto primitives on OpenSSL libcrypto, in GlobalPlatform's operation-handle model
 * (TEE_AllocateOperation + TEE_SetOperationKey -> cipher_init, TEE_CipherUpdate ->
 * cipher_update, TEE_FreeOperation -> op_free; all of them in one call -> cipher_once), with the same algorithm identifiers, checks and
 * statuses as tee/crypto/ops.ts. SM2 signatures follow GB/T 32918.2 with ZA over the default
 * user ID "1234567812345678", as tee/crypto/sm2.ts. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include "tt.h"

#define ALG_AES_ECB 0x10000010u
#define ALG_AES_CBC 0x10000110u
#define ALG_DES3_ECB 0x10000013u
#define ALG_DES3_CBC 0x10000113u
#define ALG_SM4_ECB 0x10000014u
#define ALG_SM4_CBC 0x10000114u
#define ALG_SHA256 0x50000004u
#define ALG_SM3 0x50000007u
#define ALG_HMAC_SHA256 0x30000004u
#define ALG_HMAC_SM3 0x30000007u
#define ALG_ECDSA_P256 0x70003041u
#define ALG_SM2_DSA_SM3 0x70006045u
#define ALG_ED25519 0x70006043u
#define CURVE_P256 0x00000003u
#define CURVE_SM2 0x00000400u

#define ST(x) ((int32_t)(x))

int crypto_random(uint8_t *out, size_t n) {
  while (n) {
    ssize_t r = getrandom(out, n, 0);
    if (r < 0) { if (errno == EINTR) continue; abort(); }
    out += r; n -= (size_t)r;
  }
  return 0;
}

int crypto_sha256(const uint8_t *d, size_t n, uint8_t out[32]) {
  unsigned l = 32;
  return EVP_Digest(d, n, out, &l, EVP_sha256(), NULL) > 0 ? 0 : -1;
}

/* ---- block ciphers ---- */
typedef struct { uint32_t handle; EVP_CIPHER_CTX *ctx; size_t block; } op;
struct tt_crypto { op ops[TT_MAX_OPS]; uint32_t next; EVP_CIPHER_CTX *once; };

tt_crypto *crypto_new(void) { tt_crypto *c = calloc(1, sizeof *c); c->next = 1; return c; }
void crypto_free_all(tt_crypto *c) {
  if (!c) return;
  for (int i = 0; i < TT_MAX_OPS; i++) if (c->ops[i].ctx) { EVP_CIPHER_CTX_free(c->ops[i].ctx); c->ops[i].ctx = NULL; c->ops[i].handle = 0; }
}
void crypto_destroy(tt_crypto *c) { if (c) EVP_CIPHER_CTX_free(c->once); crypto_free_all(c); free(c); }

/* The ciphers, fetched from the default provider once per process: OpenSSL 3 otherwise fetches
 * a legacy EVP_aes_128_ecb() by name on every EVP_CipherInit_ex, which costs more than the
 * one-block operation a DUKPT step is. The host is single-threaded. */
enum { C_AES128_ECB, C_AES192_ECB, C_AES256_ECB, C_AES128_CBC, C_AES192_CBC, C_AES256_CBC, C_TDES_ECB, C_TDES_CBC, C_SM4_ECB, C_SM4_CBC, C_COUNT };
static const char *const cipher_names[C_COUNT] = {
  "AES-128-ECB", "AES-192-ECB", "AES-256-ECB", "AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "DES-EDE3-ECB", "DES-EDE3-CBC", "SM4-ECB", "SM4-CBC",
};
static EVP_CIPHER *fetched[C_COUNT];
static const EVP_CIPHER *cipher_of(int i) {
  if (!fetched[i]) fetched[i] = EVP_CIPHER_fetch(NULL, cipher_names[i], NULL);
  return fetched[i];
}

/* The checks every cipher entry point shares (the statuses of tee/crypto/ops.ts): the cipher,
 * its block size and the 24-byte TDES key (K1|K2 -> K1|K2|K1, X9.52 keying option 2) in k. */
static int32_t select_cipher(uint32_t alg, uint32_t mode, const uint8_t *key, size_t kl, size_t ivl, const EVP_CIPHER **ci, size_t *block, bool *cbc, uint8_t k[32]) {
  int i;
  *block = 16;
  switch (alg) {
    case ALG_AES_ECB: case ALG_AES_CBC:
      *cbc = alg == ALG_AES_CBC;
      if (kl != 16 && kl != 24 && kl != 32) return ST(TT_ERROR_BAD_PARAMETERS);
      i = (kl == 16 ? C_AES128_ECB : kl == 24 ? C_AES192_ECB : C_AES256_ECB) + (*cbc ? 3 : 0);
      break;
    case ALG_DES3_ECB: case ALG_DES3_CBC:
      *cbc = alg == ALG_DES3_CBC; *block = 8;
      if (kl != 16 && kl != 24) return ST(TT_ERROR_BAD_PARAMETERS);
      i = *cbc ? C_TDES_CBC : C_TDES_ECB;
      break;
    case ALG_SM4_ECB: case ALG_SM4_CBC:
      *cbc = alg == ALG_SM4_CBC;
      if (kl != 16) return ST(TT_ERROR_BAD_PARAMETERS);
      i = *cbc ? C_SM4_CBC : C_SM4_ECB;
      break;
    default: return ST(TT_ERROR_NOT_SUPPORTED);
  }
  if (mode != 0 && mode != 1) return ST(TT_ERROR_BAD_PARAMETERS);
  if (*cbc ? ivl != *block : ivl != 0) return ST(TT_ERROR_BAD_PARAMETERS);
  *ci = cipher_of(i);
  if (!*ci) return ST(TT_ERROR_NOT_SUPPORTED);
  memcpy(k, key, kl);
  if (*block == 8 && kl == 16) memcpy(k + 16, key, 8);
  return 0;
}

int32_t crypto_cipher_init(tt_crypto *c, uint32_t alg, uint32_t mode, const uint8_t *key, size_t kl, const uint8_t *iv, size_t ivl) {
  const EVP_CIPHER *ci; size_t block; bool cbc; uint8_t k[32];
  int32_t st = select_cipher(alg, mode, key, kl, ivl, &ci, &block, &cbc, k);
  if (st) return st;
  int slot = -1;
  for (int i = 0; i < TT_MAX_OPS; i++) if (!c->ops[i].ctx) { slot = i; break; }
  if (slot < 0) { tt_wipe(k, sizeof k); return ST(TT_ERROR_OUT_OF_MEMORY); }
  EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
  int ok = x && EVP_CipherInit_ex(x, ci, NULL, k, cbc ? iv : NULL, mode == 0) > 0 && EVP_CIPHER_CTX_set_padding(x, 0) > 0;
  tt_wipe(k, sizeof k);
  if (!ok) { EVP_CIPHER_CTX_free(x); return ST(TT_ERROR_BAD_PARAMETERS); }
  c->ops[slot].ctx = x; c->ops[slot].block = block; c->ops[slot].handle = c->next++;
  return (int32_t)c->ops[slot].handle;
}

/* cipher_once (host ABI 1.3): init + update + free on one context kept for it, reset (which
 * cleanses the key schedule) before return, so nothing of the key outlives the call. */
int32_t crypto_cipher_once(tt_crypto *c, uint32_t alg, uint32_t mode, const uint8_t *key, size_t kl, const uint8_t *iv, size_t ivl, const uint8_t *in, size_t len, uint8_t *out) {
  const EVP_CIPHER *ci; size_t block; bool cbc; uint8_t k[32];
  int32_t st = select_cipher(alg, mode, key, kl, ivl, &ci, &block, &cbc, k);
  if (st) return st;
  if (len % block || len > INT32_MAX) { tt_wipe(k, sizeof k); return ST(TT_ERROR_BAD_PARAMETERS); }
  if (!c->once) c->once = EVP_CIPHER_CTX_new();
  uint8_t stack[64];
  uint8_t *tmp = len <= sizeof stack ? stack : malloc(len); /* in and out may overlap in TA memory */
  int ol = 0;
  int ok = c->once && tmp && EVP_CipherInit_ex(c->once, ci, NULL, k, cbc ? iv : NULL, mode == 0) > 0 && EVP_CIPHER_CTX_set_padding(c->once, 0) > 0
    && (len == 0 || (EVP_CipherUpdate(c->once, tmp, &ol, in, (int)len) > 0 && (size_t)ol == len));
  tt_wipe(k, sizeof k);
  if (c->once) EVP_CIPHER_CTX_reset(c->once);
  if (ok && len) memcpy(out, tmp, len);
  if (tmp) { tt_wipe(tmp, len); if (tmp != stack) free(tmp); }
  return ok ? 0 : ST(TT_ERROR_GENERIC);
}

static op *find_op(tt_crypto *c, uint32_t h) {
  if (!h) return NULL;
  for (int i = 0; i < TT_MAX_OPS; i++) if (c->ops[i].ctx && c->ops[i].handle == h) return &c->ops[i];
  return NULL;
}

int32_t crypto_cipher_update(tt_crypto *c, uint32_t h, const uint8_t *in, size_t len, uint8_t *out) {
  op *o = find_op(c, h);
  if (!o) return ST(TT_ERROR_BAD_PARAMETERS);
  if (len % o->block) return ST(TT_ERROR_BAD_PARAMETERS);
  if (!len) return 0;
  uint8_t *tmp = malloc(len); /* in and out may overlap in TA memory */
  int ol = 0;
  int ok = EVP_CipherUpdate(o->ctx, tmp, &ol, in, (int)len) > 0 && (size_t)ol == len;
  if (ok) memcpy(out, tmp, len);
  tt_wipe(tmp, len); free(tmp);
  return ok ? 0 : ST(TT_ERROR_GENERIC);
}

void crypto_op_free(tt_crypto *c, uint32_t h) {
  op *o = find_op(c, h);
  if (o) { EVP_CIPHER_CTX_free(o->ctx); o->ctx = NULL; o->handle = 0; }
}

/* ---- digest, HMAC ---- */
int32_t crypto_digest(uint32_t alg, const uint8_t *in, size_t len, uint8_t out[32]) {
  const EVP_MD *md = alg == ALG_SHA256 ? EVP_sha256() : alg == ALG_SM3 ? EVP_sm3() : NULL;
  if (!md) return ST(TT_ERROR_NOT_SUPPORTED);
  unsigned l = 32;
  return EVP_Digest(in, len, out, &l, md, NULL) > 0 ? 32 : ST(TT_ERROR_GENERIC);
}

int32_t crypto_hmac(uint32_t alg, const uint8_t *key, size_t kl, const uint8_t *in, size_t len, uint8_t out[32]) {
  const EVP_MD *md = alg == ALG_HMAC_SHA256 ? EVP_sha256() : alg == ALG_HMAC_SM3 ? EVP_sm3() : NULL;
  if (!md) return ST(TT_ERROR_NOT_SUPPORTED);
  static const uint8_t empty = 0;
  unsigned l = 32;
  return HMAC(md, kl ? key : &empty, (int)kl, in, len, out, &l) ? 32 : ST(TT_ERROR_GENERIC);
}

/* ---- elliptic curves ---- */
static EC_GROUP *group(int nid) {
  static EC_GROUP *p256, *sm2;
  EC_GROUP **g = nid == NID_X9_62_prime256v1 ? &p256 : &sm2;
  if (!*g) *g = EC_GROUP_new_by_curve_name(nid);
  return *g;
}

/* d in [1, max) where max = n (P-256) or n-1 (SM2) */
static BIGNUM *scalar(const EC_GROUP *g, const uint8_t priv[32], bool sm2) {
  BIGNUM *d = BN_bin2bn(priv, 32, NULL);
  BIGNUM *lim = BN_dup(EC_GROUP_get0_order(g));
  if (sm2) BN_sub_word(lim, 1);
  bool ok = !BN_is_zero(d) && BN_cmp(d, lim) < 0;
  BN_free(lim);
  if (!ok) { BN_clear_free(d); return NULL; }
  return d;
}

static EC_POINT *decode_point(const EC_GROUP *g, const uint8_t *pub, size_t pl) {
  EC_POINT *p = EC_POINT_new(g);
  if (!pl || !EC_POINT_oct2point(g, p, pub, pl, NULL) || EC_POINT_is_at_infinity(g, p) || EC_POINT_is_on_curve(g, p, NULL) != 1) {
    EC_POINT_free(p);
    return NULL;
  }
  return p;
}

static void put_point(const EC_GROUP *g, const EC_POINT *p, uint8_t out[65]) {
  EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, out, 65, NULL);
}

int32_t crypto_ecc_generate(uint32_t curve, uint8_t priv[32], uint8_t pub[65]) {
  if (curve != CURVE_P256 && curve != CURVE_SM2) return ST(TT_ERROR_NOT_SUPPORTED);
  bool sm2 = curve == CURVE_SM2;
  const EC_GROUP *g = group(sm2 ? NID_sm2 : NID_X9_62_prime256v1);
  for (;;) {
    crypto_random(priv, 32);
    BIGNUM *d = scalar(g, priv, sm2);
    if (!d) continue; /* out of range: draw again */
    EC_POINT *q = EC_POINT_new(g);
    EC_POINT_mul(g, q, d, NULL, NULL, NULL);
    put_point(g, q, pub);
    EC_POINT_free(q); BN_clear_free(d);
    return 0;
  }
}

static const uint8_t SM2_ID[16] = "1234567812345678";

/* e = SM3(ZA || M), ZA = SM3(ENTLA || ID || a || b || xG || yG || xA || yA) */
static BIGNUM *sm2_e(const EC_GROUP *g, const uint8_t pub[65], const uint8_t *msg, size_t ml) {
  uint8_t buf[2 + 16 + 32 * 6], za[32], e[32];
  BIGNUM *a = BN_new(), *b = BN_new(), *p = BN_new();
  EC_GROUP_get_curve(g, p, a, b, NULL);
  uint8_t gen[65];
  put_point(g, EC_GROUP_get0_generator(g), gen);
  buf[0] = 0; buf[1] = 128;
  memcpy(buf + 2, SM2_ID, 16);
  BN_bn2binpad(a, buf + 18, 32); BN_bn2binpad(b, buf + 50, 32);
  memcpy(buf + 82, gen + 1, 64); memcpy(buf + 146, pub + 1, 64);
  unsigned l = 32;
  EVP_Digest(buf, sizeof buf, za, &l, EVP_sm3(), NULL);
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  EVP_DigestInit_ex(m, EVP_sm3(), NULL);
  EVP_DigestUpdate(m, za, 32);
  EVP_DigestUpdate(m, msg, ml);
  EVP_DigestFinal_ex(m, e, &l);
  EVP_MD_CTX_free(m);
  BN_free(a); BN_free(b); BN_free(p);
  return BN_bin2bn(e, 32, NULL);
}

static int32_t sm2_sign(const uint8_t priv[32], const uint8_t *msg, size_t ml, uint8_t sig[64]) {
  const EC_GROUP *g = group(NID_sm2);
  BIGNUM *d = scalar(g, priv, true);
  if (!d) return ST(TT_ERROR_BAD_PARAMETERS);
  BN_CTX *bc = BN_CTX_new();
  const BIGNUM *n = EC_GROUP_get0_order(g);
  EC_POINT *q = EC_POINT_new(g), *kg = EC_POINT_new(g);
  EC_POINT_mul(g, q, d, NULL, NULL, bc);
  uint8_t pub[65];
  put_point(g, q, pub);
  BIGNUM *e = sm2_e(g, pub, msg, ml), *k = BN_new(), *x1 = BN_new(), *r = BN_new(), *s = BN_new(), *t = BN_new(), *inv = BN_new();
  for (;;) {
    BN_priv_rand_range(k, n);
    if (BN_is_zero(k)) continue;
    EC_POINT_mul(g, kg, k, NULL, NULL, bc);
    EC_POINT_get_affine_coordinates(g, kg, x1, NULL, bc);
    BN_mod_add(r, e, x1, n, bc);
    BN_add(t, r, k);
    if (BN_is_zero(r) || BN_cmp(t, n) == 0) continue;
    BN_copy(t, d); BN_add_word(t, 1);
    BN_mod_inverse(inv, t, n, bc);               /* (1 + d)^-1 */
    BN_mod_mul(t, r, d, n, bc);                  /* r d */
    BN_mod_sub(t, k, t, n, bc);                  /* k - r d */
    BN_mod_mul(s, inv, t, n, bc);
    if (BN_is_zero(s)) continue;
    break;
  }
  BN_bn2binpad(r, sig, 32); BN_bn2binpad(s, sig + 32, 32);
  BN_clear_free(d); BN_clear_free(k); BN_free(e); BN_free(x1); BN_free(r); BN_free(s); BN_clear_free(t); BN_clear_free(inv);
  EC_POINT_free(q); EC_POINT_free(kg); BN_CTX_free(bc);
  return 64;
}

static bool sm2_verify(const uint8_t *pub, size_t pl, const uint8_t *msg, size_t ml, const uint8_t *sig, size_t sl) {
  if (sl != 64) return false;
  const EC_GROUP *g = group(NID_sm2);
  const BIGNUM *n = EC_GROUP_get0_order(g);
  EC_POINT *P = decode_point(g, pub, pl);
  if (!P) return false;
  BN_CTX *bc = BN_CTX_new();
  BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL), *t = BN_new(), *x1 = BN_new(), *R = BN_new();
  bool ok = false;
  EC_POINT *X = EC_POINT_new(g);
  if (BN_is_zero(r) || BN_cmp(r, n) >= 0 || BN_is_zero(s) || BN_cmp(s, n) >= 0) goto out;
  uint8_t u[65];
  put_point(g, P, u);
  BIGNUM *e = sm2_e(g, u, msg, ml);
  BN_mod_add(t, r, s, n, bc);
  if (!BN_is_zero(t) && EC_POINT_mul(g, X, s, P, t, bc) && !EC_POINT_is_at_infinity(g, X) &&
      EC_POINT_get_affine_coordinates(g, X, x1, NULL, bc)) {
    BN_mod_add(R, e, x1, n, bc);
    ok = BN_cmp(R, r) == 0;
  }
  BN_free(e);
out:
  BN_free(r); BN_free(s); BN_free(t); BN_free(x1); BN_free(R);
  EC_POINT_free(X); EC_POINT_free(P); BN_CTX_free(bc);
  return ok;
}

int32_t crypto_ecc_sign(uint32_t alg, const uint8_t priv[32], const uint8_t *msg, size_t ml, uint8_t sig[64]) {
  if (alg == ALG_SM2_DSA_SM3) return sm2_sign(priv, msg, ml, sig);
  if (alg != ALG_ECDSA_P256) return ST(TT_ERROR_NOT_SUPPORTED);
  const EC_GROUP *g = group(NID_X9_62_prime256v1);
  BIGNUM *d = scalar(g, priv, false);
  if (!d) return ST(TT_ERROR_BAD_PARAMETERS);
  EC_KEY *k = EC_KEY_new();
  EC_KEY_set_group(k, g);
  EC_KEY_set_private_key(k, d);
  uint8_t h[32];
  crypto_sha256(msg, ml, h);
  ECDSA_SIG *s = ECDSA_do_sign(h, 32, k);
  int32_t rc = ST(TT_ERROR_GENERIC);
  if (s) {
    const BIGNUM *r, *ss;
    ECDSA_SIG_get0(s, &r, &ss);
    BN_bn2binpad(r, sig, 32); BN_bn2binpad(ss, sig + 32, 32);
    ECDSA_SIG_free(s);
    rc = 64;
  }
  EC_KEY_free(k); BN_clear_free(d);
  return rc;
}

void crypto_p256_low_s(uint8_t sig[64]) {
  const EC_GROUP *g = group(NID_X9_62_prime256v1);
  const BIGNUM *n = EC_GROUP_get0_order(g);
  BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL), *half = BN_dup(n);
  if (s && half && BN_rshift1(half, n) && BN_cmp(s, half) > 0 && BN_cmp(s, n) < 0 && BN_sub(s, n, s)) BN_bn2binpad(s, sig + 32, 32);
  BN_free(s); BN_free(half);
}

int32_t crypto_ecc_verify(uint32_t alg, const uint8_t *pub, size_t pl, const uint8_t *msg, size_t ml, const uint8_t *sig, size_t sl) {
  if (alg == ALG_SM2_DSA_SM3) return sm2_verify(pub, pl, msg, ml, sig, sl) ? 0 : ST(TT_ERROR_SIGNATURE_INVALID);
  if (alg != ALG_ECDSA_P256) return ST(TT_ERROR_NOT_SUPPORTED);
  if (sl != 64 || pl != 65 || pub[0] != 4) return ST(TT_ERROR_SIGNATURE_INVALID);
  const EC_GROUP *g = group(NID_X9_62_prime256v1);
  EC_POINT *P = decode_point(g, pub, pl);
  if (!P) return ST(TT_ERROR_SIGNATURE_INVALID);
  EC_KEY *k = EC_KEY_new();
  EC_KEY_set_group(k, g);
  EC_KEY_set_public_key(k, P);
  ECDSA_SIG *s = ECDSA_SIG_new();
  ECDSA_SIG_set0(s, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
  uint8_t h[32];
  crypto_sha256(msg, ml, h);
  int v = ECDSA_do_verify(h, 32, s, k);
  ECDSA_SIG_free(s); EC_KEY_free(k); EC_POINT_free(P);
  return v == 1 ? 0 : ST(TT_ERROR_SIGNATURE_INVALID);
}

/* Pure Ed25519 (RFC 8032): the key is a TEE_TYPE_ED25519_PUBLIC_KEY (32 bytes, raw), the
 * message is signed as it is (no digest: EVP_DigestVerify with a NULL md). */
int32_t crypto_eddsa_verify(uint32_t alg, const uint8_t *pub, size_t pl, const uint8_t *msg, size_t ml, const uint8_t *sig, size_t sl) {
  if (alg != ALG_ED25519) return ST(TT_ERROR_NOT_SUPPORTED);
  if (pl != 32 || sl != 64) return ST(TT_ERROR_SIGNATURE_INVALID);
  EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, pl);
  if (!k) return ST(TT_ERROR_SIGNATURE_INVALID);
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  int v = m && EVP_DigestVerifyInit(m, NULL, NULL, NULL, k) == 1 && EVP_DigestVerify(m, sig, sl, msg, ml) == 1;
  EVP_MD_CTX_free(m); EVP_PKEY_free(k);
  return v ? 0 : ST(TT_ERROR_SIGNATURE_INVALID);
}

bool crypto_p256_point_valid(const uint8_t *pub, size_t pl) {
  if (pl != 65 || pub[0] != 4) return false;
  EC_POINT *p = decode_point(group(NID_X9_62_prime256v1), pub, pl);
  EC_POINT_free(p);
  return p != NULL;
}

int32_t crypto_ecdh(const uint8_t priv[32], const uint8_t *pub, size_t pl, uint8_t out[32]) {
  const EC_GROUP *g = group(NID_X9_62_prime256v1);
  BIGNUM *d = scalar(g, priv, false);
  EC_POINT *P = decode_point(g, pub, pl);
  int32_t rc = ST(TT_ERROR_BAD_PARAMETERS);
  if (d && P) {
    EC_POINT *z = EC_POINT_new(g);
    BIGNUM *x = BN_new();
    if (EC_POINT_mul(g, z, NULL, P, d, NULL) && !EC_POINT_is_at_infinity(g, z) && EC_POINT_get_affine_coordinates(g, z, x, NULL, NULL)) {
      BN_bn2binpad(x, out, 32);
      rc = 32;
    }
    BN_clear_free(x); EC_POINT_clear_free(z);
  }
  BN_clear_free(d); EC_POINT_free(P);
  return rc;
}
