// Raw RSA public-key recovery (EMV Book 2 §5.1: certificates and signatures are recovered as
// X = Sign^e mod n; the format check, not a padding scheme, says whether they are genuine).
// BigInt square-and-multiply: public data and small exponents (3 or 65537), so constant time
// does not matter, and it runs in any JS engine.
import { fromHex, toHex } from '../../../common/hex.ts';
import type { RsaPublicKey } from '../../../common/emv/ca-keys.ts';

const big = (b: Uint8Array) => BigInt('0x' + (toHex(b) || '0'));

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let r = 1n;
  for (let b = base % m, e = exp; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

export function rsaRecover(key: RsaPublicKey, data: Uint8Array): Uint8Array {
  if (data.length !== key.modulus.length) throw new RangeError(`signed data of ${data.length} bytes for a ${key.modulus.length}-byte modulus`);
  const n = big(key.modulus), e = big(key.exponent), x = big(data);
  // As RSA_NO_PADDING refuses it: a signature must be a number below the modulus.
  if (n < 3n || e < 1n) throw new RangeError('RSA key with an unusable modulus or exponent');
  if (x >= n) throw new RangeError('signed data is not smaller than the modulus');
  return fromHex(modPow(x, e, n).toString(16).padStart(key.modulus.length * 2, '0'));
}
