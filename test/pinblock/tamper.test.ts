// Tampering with an enciphered format 4 block (every single-bit flip, random byte changes, a
// changed PAN digit) must decode to an error or to a different PIN; the same PIN with success
// is allowed only if the deciphered PIN field is the original one (which would mean the block
// was not really changed). The deciphered field is recomputed by the reference on node:crypto.
import { test, expect, beforeAll } from 'vitest';
import { PinblockAs } from './as-pinblock.ts';
import { refDecipherField4 } from './reference.ts';
import { rng } from './rng.ts';

const seed = Number(process.env.PINBLOCK_SEED ?? Date.now() % 2 ** 31);
console.log(`pinblock tamper seed ${seed}`);

let m: PinblockAs;
beforeAll(async () => { m = await PinblockAs.load(); });

const flipBit = (hex: string, bit: number) => {
  const b = Buffer.from(hex, 'hex');
  b[bit >> 3]! ^= 0x80 >> (bit & 7);
  return b.toString('hex').toUpperCase();
};

interface Stats { tampered: number; errors: number; otherPin: number }

function check(key: string, pin: string, pan: string, origField: string, block: string, decodePan: string, s: Stats): void {
  s.tampered++;
  const r = m.decipher4(key, block, decodePan);
  if (r.status < 0) { s.errors++; return; }
  if (r.out !== pin) { s.otherPin++; return; }
  const field = refDecipherField4(key, block, decodePan);
  if (field !== origField) throw new Error('a tampered block decoded to the original PIN with success although its PIN field changed');
}

test('format 4: every bit flip, 5,000 random byte changes and 2,000 changed PANs never give the same PIN with success', () => {
  const r = rng(seed);
  const s: Stats = { tampered: 0, errors: 0, otherPin: 0 };
  for (let i = 0; i < 200; i++) {
    const key = r.hex([16, 24, 32][r.int(0, 2)]!);
    const pin = r.digits(r.int(4, 12));
    const pan = r.digits(r.int(12, 19));
    const block = m.encipher4(key, pin, pan).out;
    const field = refDecipherField4(key, block, pan);
    for (let bit = 0; bit < 128; bit++) check(key, pin, pan, field, flipBit(block, bit), pan, s);
    for (let j = 0; j < 25; j++) {
      const b = Buffer.from(block, 'hex');
      const pos = r.int(0, 15);
      b[pos] = (b[pos]! + r.int(1, 255)) & 0xff;
      check(key, pin, pan, field, b.toString('hex').toUpperCase(), pan, s);
    }
    for (let j = 0; j < 10; j++) {
      const pos = r.int(0, pan.length - 1);
      const other = pan.slice(0, pos) + String((Number(pan[pos]) + r.int(1, 9)) % 10) + pan.slice(pos + 1);
      check(key, pin, pan, field, block, other, s);
    }
    expect(m.decipher4(key, block, pan).out).toBe(pin);
  }
  console.log(`format 4 tamper: ${s.tampered} tampered blocks, ${s.errors} errors, ${s.otherPin} decoded to another PIN, 0 to the original`);
  expect(s.tampered).toBe(200 * (128 + 25 + 10));
  // A random 16-byte PIN field is well formed with probability well below 1%.
  expect(s.errors).toBeGreaterThan(s.tampered * 0.99);
});

test('format 4: a block deciphered under the wrong key is an error or another PIN', () => {
  const r = rng(seed + 1);
  let errors = 0;
  for (let i = 0; i < 2000; i++) {
    const pin = r.digits(r.int(4, 12)), pan = r.digits(16);
    const block = m.encipher4(r.hex(16), pin, pan).out;
    const res = m.decipher4(r.hex(16), block, pan);
    if (res.status < 0) errors++;
    else expect(res.out).not.toBe(pin);
  }
  expect(errors).toBeGreaterThan(1980);
});
