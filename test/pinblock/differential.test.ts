// Differential tests of the AssemblyScript PIN blocks (ta/lib/pinblock.ts, pinblock-sm4.ts)
// against an independent TypeScript reading of ISO 9564-1 (reference.ts, node:crypto AES/SM4):
// 10,000 random PIN/PAN pairs per format, with injected fills/random parts (must equal the
// reference bit for bit) and with the TEE's own random source (must round-trip and be well
// formed). The seed is printed; set PINBLOCK_SEED to replay a run.
import { describe, test, expect, beforeAll } from 'vitest';
import { createCipheriv } from 'node:crypto';
import { PinblockAs } from './as-pinblock.ts';
import { refBlock, refDecipherField4, refEncipher4, refPanField03, refPanField4, refPinField4, refReadPinField4 } from './reference.ts';
import { rng } from './rng.ts';

const N = 10_000;
const seed = Number(process.env.PINBLOCK_SEED ?? Date.now() % 2 ** 31);
console.log(`pinblock differential seed ${seed}`);

let m: PinblockAs;
beforeAll(async () => { m = await PinblockAs.load(); });

describe('ISO 9564 PIN blocks: AssemblyScript vs independent reference', () => {
  for (const format of [0, 1, 2, 3] as const) {
    test(`format ${format}: ${N} random PIN/PAN pairs, injected fill equals the reference; TEE fill round-trips`, () => {
      const r = rng(seed + format);
      for (let i = 0; i < N; i++) {
        const pin = r.digits(r.int(4, 12));
        const pan = r.digits(r.int(format === 0 || format === 3 ? 1 : 12, 19));
        const fill = format === 1 ? r.hexNibbles(14 - pin.length, 0, 15) : format === 3 ? r.hexNibbles(14 - pin.length, 10, 15) : undefined;
        const ref = refBlock(format, pin, pan, fill ?? 'F'.repeat(14 - pin.length));
        const enc = m.encode(format, pin, pan, fill);
        if (enc.status !== 0 || enc.out !== ref) expect({ i, pinLen: pin.length, pan, got: enc }).toEqual({ i, pinLen: pin.length, pan, got: { status: 0, out: ref } });
        const dec = m.decode(format, enc.out, pan);
        if (dec.status !== pin.length || dec.out !== pin) throw new Error(`case ${i}: decode did not return the PIN (status ${dec.status})`);
        if (format === 1 || format === 3) {
          const own = m.encode(format, pin, pan);
          expect(own.status).toBe(0);
          const back = m.decode(format, own.out, pan);
          if (back.out !== pin) throw new Error(`case ${i}: TEE-random fill block does not decode to the PIN`);
          const field = format === 3 ? xorHex(own.out, refPanField03(pan)) : own.out;
          if (format === 3 && !/^[A-F]+$/.test(field.slice(2 + pin.length))) throw new Error(`case ${i}: format 3 fill not in A..F`);
        }
      }
    });
  }

  test(`format 3 fill from the TEE random source is spread over A..F`, () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const b = m.encode(3, '1234', '0000000000000');
      for (const c of b.out.slice(6)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe('ABCDEF');
    for (const v of counts.values()) expect(v).toBeGreaterThan((2000 * 10 / 6) * 0.9);
  });

  test(`format 4: ${N} random key/PIN/PAN/random, AS encipher equals E(E(PIN field) XOR PAN field) on node:crypto; decipher both ways`, () => {
    const r = rng(seed + 4);
    for (let i = 0; i < N; i++) {
      const key = r.hex([16, 24, 32][r.int(0, 2)]!);
      const pin = r.digits(r.int(4, 12));
      const pan = r.digits(r.int(1, 19));
      const rnd = r.hex(8);
      expect(m.panField4(pan).out).toBe(refPanField4(pan));
      const field = m.pinField4(pin, rnd);
      if (field.out !== refPinField4(pin, rnd)) throw new Error(`case ${i}: PIN field differs from the reference`);
      const ref = refEncipher4(key, pin, pan, rnd);
      const enc = m.encipher4(key, pin, pan, rnd);
      if (enc.status !== 0 || enc.out !== ref) throw new Error(`case ${i}: enciphered block differs from the reference (status ${enc.status})`);
      const dec = m.decipher4(key, ref, pan);
      if (dec.status !== pin.length || dec.out !== pin) throw new Error(`case ${i}: AS decipher of the reference block did not return the PIN`);
      // With the TEE random source: the reference deciphers it to a well-formed field with this PIN.
      const own = m.encipher4(key, pin, pan);
      expect(own.status).toBe(0);
      if (refReadPinField4(refDecipherField4(key, own.out, pan)) !== pin) throw new Error(`case ${i}: reference decipher of a TEE-random block did not return the PIN`);
      if (m.decipher4(key, own.out, pan).out !== pin) throw new Error(`case ${i}: AS decipher of its own block did not return the PIN`);
    }
  });

  test(`format 4: the random half of the PIN field comes from the TEE and differs between blocks`, () => {
    const key = '00112233445566778899AABBCCDDEEFF';
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) seen.add(m.encipher4(key, '1234', '4111111111111111').out);
    expect(seen.size).toBe(500);
  });

  test(`UnionPay SM4 (informative layout): ${N} random key/PIN/PAN, AS equals SM4-ECB(PIN field XOR PAN field) on node:crypto`, () => {
    const r = rng(seed + 5);
    for (let i = 0; i < N; i++) {
      const key = r.hex(16);
      const pin = r.digits(r.int(4, 12));
      const pan = r.digits(r.int(1, 19));
      const pinField = ('0' + pin.length.toString(16) + pin).padEnd(32, 'F').toUpperCase();
      const panField = '0'.repeat(20) + pan.slice(0, -1).slice(-12).padStart(12, '0');
      const c = createCipheriv('sm4-ecb', Buffer.from(key, 'hex'), null);
      c.setAutoPadding(false);
      const ref = Buffer.concat([c.update(Buffer.from(xorHex(pinField, panField), 'hex')), c.final()]).toString('hex').toUpperCase();
      const enc = m.sm4Encode('enciphered', pin, pan, key);
      if (enc.status !== 0 || enc.out !== ref) throw new Error(`case ${i}: SM4 block differs from the reference`);
      const dec = m.sm4Decode(enc.out, pan, key);
      if (dec.out !== pin) throw new Error(`case ${i}: SM4 decipher did not return the PIN`);
    }
  });
});

function xorHex(a: string, b: string): string {
  return [...a].map((c, i) => (parseInt(c, 16) ^ parseInt(b[i]!, 16)).toString(16)).join('').toUpperCase();
}
