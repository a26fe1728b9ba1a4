// ARPC method 1, EMV 4.4 Book 2 §8.2.1: ARPC = TDES(key)[ARQC xor (ARC || 00..00)],
// ARC = the 2-byte authorisation response code. The key is the AC session key or, for CVNs
// that say so (Visa CVN 10, Mastercard CVN 16/17), the ICC master key AC.
import { tdesEcb } from './ta-lib.ts';

export function arpcMethod1(key: Uint8Array, arqc: Uint8Array, arc: Uint8Array): Uint8Array {
  if (arqc.length !== 8) throw new RangeError(`ARQC must be 8 bytes, got ${arqc.length}`);
  if (arc.length !== 2) throw new RangeError(`ARPC response code must be 2 bytes, got ${arc.length}`);
  const block = arqc.slice();
  block[0]! ^= arc[0]!; block[1]! ^= arc[1]!;
  return tdesEcb(key, block);
}
