// Small byte helpers of the issuer side: a constant-time comparison, and common/hex.ts's hex
// (upper case) under the names the issuer code uses.
import { timingSafeEqual } from 'node:crypto';

export { toHex as hex, fromHex as unhex } from '../../common/hex.ts';

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
