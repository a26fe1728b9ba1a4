// Public-key formats of card authentication that both sides of the card use: the certificate
// authority's and issuer's RSA keys (EMV 4.4 Book 2 §5, §11.2.2) and the identifiers of the
// PBOC 3.0 SM2 certificates (JR/T 0025.17). The kernel (ree/emv/oda) checks what the card
// simulators' test CA (sim/cards) issues; neither may import the other.

export interface RsaPublicKey { modulus: Uint8Array; exponent: Uint8Array }

/** A CA key; `algorithm` is the CA Public Key Algorithm Indicator: 0x01 RSA (default when
 *  absent), 0x04 SM2 with `modulus` = the point x || y and an empty `exponent`. */
export interface CaPublicKey extends RsaPublicKey { rid: string; index: string; expiry?: string; algorithm?: number }

/** Public key algorithm indicator of PBOC 3.0 Part 17 for SM2 (RSA is 01). */
export const ALG_SM2 = 0x04;
/** Certificate and signed data formats of Part 17. */
export const SM2_FORMAT = { issuer: 0x12, icc: 0x14, sdad: 0x15 } as const;
/** SM2 key parameter index for the recommended curve sm2p256v1 (the only one accepted). */
export const SM2_PARAM_INDEX = 0x00;
