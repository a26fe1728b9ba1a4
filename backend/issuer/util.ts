// Small byte helpers of the issuer side (backend shares no code with ree/ but pure helpers).
import { timingSafeEqual } from 'node:crypto';

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

export function unhex(s: string, what = 'hex'): Uint8Array {
  if (s.length % 2 || !/^[0-9a-fA-F]*$/.test(s)) throw new RangeError(`${what}: not an even-length hex string`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}
