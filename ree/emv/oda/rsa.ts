// Raw RSA public-key recovery (EMV Book 2 §5.1: certificates and signatures are recovered as
// X = Sign^e mod n; the format check, not a padding scheme, says whether they are genuine).
import { constants, createPublicKey, publicDecrypt } from 'node:crypto';

export interface RsaPublicKey { modulus: Uint8Array; exponent: Uint8Array }

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

export function rsaRecover(key: RsaPublicKey, data: Uint8Array): Uint8Array {
  if (data.length !== key.modulus.length) throw new RangeError(`signed data of ${data.length} bytes for a ${key.modulus.length}-byte modulus`);
  const k = createPublicKey({ key: { kty: 'RSA', n: b64u(key.modulus), e: b64u(key.exponent) }, format: 'jwk' });
  return new Uint8Array(publicDecrypt({ key: k, padding: constants.RSA_NO_PADDING }, data));
}
