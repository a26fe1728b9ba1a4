// An independent TypeScript reading of ISO 9564-1:2017 PIN blocks, written from the standard
// with strings of hex nibbles (not from ta/lib/pinblock.ts), for differential tests of the
// AssemblyScript code. Format 4 enciphers with node:crypto AES-ECB.
import { createCipheriv, createDecipheriv } from 'node:crypto';

const xorHex = (a: string, b: string) =>
  [...a].map((c, i) => (parseInt(c, 16) ^ parseInt(b[i]!, 16)).toString(16)).join('').toUpperCase();

/** 0000 + 12 rightmost PAN digits excluding the check digit, zero-padded on the left. */
export function refPanField03(pan: string): string {
  return '0000' + pan.slice(0, -1).slice(-12).padStart(12, '0');
}

/** Format 0..3 clear block with the given fill nibbles (hex string of 14 - PIN length). */
export function refBlock(format: 0 | 1 | 2 | 3, pin: string, pan: string, fill: string): string {
  const field = (String(format) + pin.length.toString(16) + pin + fill).toUpperCase();
  if (field.length !== 16) throw new Error('reference: fill length');
  return format === 0 || format === 3 ? xorHex(field, refPanField03(pan)) : field;
}

export function refPanField4(pan: string): string {
  const m = Math.max(0, pan.length - 12);
  return (m.toString(16) + pan.padStart(12, '0')).padEnd(32, '0').toUpperCase();
}

export function refPinField4(pin: string, random: string): string {
  return ('4' + pin.length.toString(16) + pin).padEnd(16, 'A').toUpperCase() + random.toUpperCase();
}

function aesEcb(key: string, hex: string, decrypt: boolean): string {
  const k = Buffer.from(key, 'hex');
  const name = `aes-${k.length * 8}-ecb`;
  const c = decrypt ? createDecipheriv(name, k, null) : createCipheriv(name, k, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(Buffer.from(hex, 'hex')), c.final()]).toString('hex').toUpperCase();
}

/** C = E(E(PIN field) XOR PAN field) */
export function refEncipher4(key: string, pin: string, pan: string, random: string): string {
  return aesEcb(key, xorHex(aesEcb(key, refPinField4(pin, random), false), refPanField4(pan)), false);
}

/** The clear PIN field D(D(C) XOR PAN field), undecoded. */
export function refDecipherField4(key: string, block: string, pan: string): string {
  return aesEcb(key, xorHex(aesEcb(key, block, true), refPanField4(pan)), true);
}

/** The PIN of a clear format 4 PIN field, or null when the field is not well formed. */
export function refReadPinField4(field: string): string | null {
  if (field[0] !== '4') return null;
  const n = parseInt(field[1]!, 16);
  if (n < 4 || n > 12) return null;
  const pin = field.slice(2, 2 + n);
  if (!/^[0-9]+$/.test(pin)) return null;
  if (!/^A*$/.test(field.slice(2 + n, 16))) return null;
  return pin;
}
