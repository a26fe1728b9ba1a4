/* Device attestation host functions, as tee/services.ts: the measurements the runtime made of
 * itself at start (trusttap.attest.v1.Measurements) and oem_certify, where the device's OEM
 * attestation key (provisioned to <data>/device/oem-attestation.json) certifies a TA's P-256
 * key in a CertificateBody naming the caller's UUID and image SHA-256 taken by the runtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "tt.h"
#include "json.h"

int read_whole(const char *path, uint8_t **out, size_t *n);
#define ALG_ECDSA_P256 0x70003041u

static void uuid_text(const uint8_t u[16], char out[37]) {
  static const char *h = "0123456789abcdef";
  int o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = h[u[i] >> 4]; out[o++] = h[u[i] & 15];
  }
  out[o] = 0;
}

static int unhex(const char *s, uint8_t *out, size_t max) {
  size_t n = strlen(s);
  if (n % 2 || n / 2 > max) return -1;
  for (size_t i = 0; i < n / 2; i++) { unsigned v; if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1; out[i] = (uint8_t)v; }
  return (int)(n / 2);
}

int oem_certify(const uint8_t uuid[16], const uint8_t pub[65], tt_buf *out, uint32_t *status) {
  char path[4200];
  snprintf(path, sizeof path, "%s/device/oem-attestation.json", g_cfg.data_dir);
  uint8_t *text; size_t tn;
  if (read_whole(path, &text, &tn)) { *status = TT_ERROR_ITEM_NOT_FOUND; return -1; } /* not provisioned */
  char err[128];
  jnode *j = json_parse((const char *)text, tn, err, sizeof err);
  free(text);
  const char *pk = json_str(j, "private_key"), *cert64 = json_str(j, "certificate");
  uint8_t priv[32], cert[8192];
  int certn = -1;
  if (pk && cert64 && unhex(pk, priv, 32) == 32) certn = b64_decode(cert64, strlen(cert64), cert, sizeof cert); /* bounded by cert */
  json_free(j);
  if (certn < 0) { *status = TT_ERROR_ITEM_NOT_FOUND; return -1; }
  /* issuer certificate: Certificate{tbs=1, signature=2}; its body: subject=5, not_after_ms=8 */
  const uint8_t *itbs = NULL, *isig = NULL, *subj = NULL; size_t itbsn = 0, isign = 0, subjn = 0; uint64_t not_after = 0;
  pb_reader r = {cert, (size_t)certn, 0, false};
  uint32_t f, w; uint64_t v; const uint8_t *d; size_t dn;
  while (pb_next(&r, &f, &w, &v, &d, &dn)) { if (f == 1 && w == 2) itbs = d, itbsn = dn; if (f == 2 && w == 2) isig = d, isign = dn; }
  pb_reader rb = {itbs, itbsn, 0, false};
  while (itbs && pb_next(&rb, &f, &w, &v, &d, &dn)) { if (f == 5 && w == 2) subj = d, subjn = dn; if (f == 8 && w == 0) not_after = v; }
  if (r.err || rb.err || !itbs) { tt_wipe(priv, 32); *status = TT_ERROR_ITEM_NOT_FOUND; return -1; }
  uint8_t ph[32]; char serial[65], subject[48], ut[37];
  crypto_sha256(pub, 65, ph);
  for (int i = 0; i < 16; i++) sprintf(serial + 2 * i, "%02x", ph[i]);
  uuid_text(uuid, ut);
  snprintf(subject, sizeof subject, "ta:%s", ut);
  const uint8_t *sha = rt_ta_sha256(uuid);
  tt_buf tbs = {0};
  pb_varint(&tbs, 1, 1);
  pb_varint(&tbs, 2, 2); /* CERTIFICATE_KIND_TA_KEY */
  pb_bytes(&tbs, 3, serial, 32);
  pb_bytes(&tbs, 4, subj, subjn);
  pb_bytes(&tbs, 5, subject, strlen(subject));
  pb_bytes(&tbs, 6, pub, 65);
  pb_varint(&tbs, 7, (uint64_t)tt_ree_time_ms());
  pb_varint(&tbs, 8, not_after);
  pb_bytes(&tbs, 9, uuid, 16);
  if (sha) pb_bytes(&tbs, 10, sha, 32);
  static const char label[] = "trusttap/oem-cert/v1";
  tt_buf msg = {0};
  buf_put(&msg, label, sizeof label); /* includes the 0 separator */
  buf_put(&msg, tbs.p, tbs.n);
  uint8_t sig[64];
  int32_t sr = crypto_ecc_sign(ALG_ECDSA_P256, priv, msg.p, msg.n, sig);
  if (sr >= 0) crypto_p256_low_s(sig); /* the form the back end accepts */
  tt_wipe(priv, 32);
  buf_free(&msg);
  if (sr < 0) { buf_free(&tbs); *status = (uint32_t)sr; return -1; }
  tt_buf leaf = {0}, issuer = {0};
  pb_bytes(&leaf, 1, tbs.p, tbs.n); pb_bytes(&leaf, 2, sig, 64);
  pb_bytes(&issuer, 1, itbs, itbsn); pb_bytes(&issuer, 2, isig, isign);
  pb_bytes_always(out, 1, leaf.p, leaf.n);
  pb_bytes_always(out, 1, issuer.p, issuer.n);
  buf_free(&tbs); buf_free(&leaf); buf_free(&issuer);
  *status = 0;
  return 0;
}
