// Algorithm and mode identifiers of the host crypto imports: the GlobalPlatform TEE Internal
// Core API v1.3 values (Table 6-11 "List of Algorithm Identifiers", TEE_MODE_*), so a phone
// maker's TEE can pass them straight to its own TEE_AllocateOperation.
export const Alg = {
  AES_ECB_NOPAD: 0x10000010,
  AES_CBC_NOPAD: 0x10000110,
  DES3_ECB_NOPAD: 0x10000013,
  DES3_CBC_NOPAD: 0x10000113,
  SM4_ECB_NOPAD: 0x10000014,
  SM4_CBC_NOPAD: 0x10000114,
  SHA256: 0x50000004,
  SM3: 0x50000007,
  HMAC_SHA256: 0x30000004,
  HMAC_SM3: 0x30000007,
  ECDSA_P256: 0x70003041,
  SM2_DSA_SM3: 0x70006045,
  /** TEE_ALG_ED25519 (v1.3.1): pure Ed25519 (RFC 8032), the message itself, no pre-hash. */
  ED25519: 0x70006043,
  ECDH_P256: 0x80003042,
} as const;

export const Mode = { ENCRYPT: 0, DECRYPT: 1 } as const;

/** TEE_ECC_CURVE_* (0x300 is TEE_ECC_CURVE_25519 in GP; SM2 is 0x400). */
export const Curve = { NIST_P256: 0x00000003, SM2: 0x00000400 } as const;

/** TEE_TYPE_* of the key objects a GP TEE allocates for the host functions' raw keys
 * (docs/porting.md): eddsa_verify's 32-byte key is a TEE_TYPE_ED25519_PUBLIC_KEY populated with
 * TEE_ATTR_ED25519_PUBLIC_VALUE. */
export const KeyType = { ED25519_PUBLIC_KEY: 0xa0000043 } as const;
export const Attr = { ED25519_PUBLIC_VALUE: 0xd0000743 } as const;
