// The clear PIN and PIN field are wiped: after each operation, with the harness's own I/O
// buffer cleared, the whole linear memory of the Wasm instance must hold no trace of a canary
// PIN: not its digits one per byte, not as BCD nibbles (as in every PIN field), not the clear
// PIN field or PIN block, not ASCII. AssemblyScript does not zero freed memory, so a missed
// wipe of any intermediate array would show here.
import { test, expect, beforeAll } from 'vitest';
import { PinblockAs } from './as-pinblock.ts';
import { refBlock, refPinField4 } from './reference.ts';

const PIN = '97531864';
const PAN = '4000123456789010';
const KEY = '2B7E151628AED2A6ABF7158809CF4F3C';
const RND = '0123456789ABCDEF';

const patterns: Record<string, Uint8Array> = {
  'digits one per byte': Uint8Array.from([...PIN].map(Number)),
  'BCD nibbles': Buffer.from(PIN, 'hex'),
  'ASCII': Buffer.from(PIN, 'ascii'),
  'format 0 block': Buffer.from(refBlock(0, PIN, PAN, 'FFFFFF'), 'hex'),
  'format 3 block': Buffer.from(refBlock(3, PIN, PAN, 'ABCDEF'), 'hex'),
  'format 4 PIN field': Buffer.from(refPinField4(PIN, RND), 'hex'),
};

function find(mem: Uint8Array, p: Uint8Array): number {
  return Buffer.from(mem.buffer, mem.byteOffset, mem.length).indexOf(Buffer.from(p));
}

let m: PinblockAs;
beforeAll(async () => { m = await PinblockAs.load(); });

function leftovers(): string[] {
  m.clearIo();
  const mem = m.memory();
  return Object.entries(patterns).filter(([, p]) => find(mem, p) >= 0).map(([k]) => k);
}

test('the scan finds a PIN that is still there (positive control)', () => {
  expect(m.decode(0, refBlock(0, PIN, PAN, 'FFFFFF'), PAN).out).toBe(PIN);
  expect(find(m.memory(), patterns['digits one per byte']!)).toBeGreaterThanOrEqual(0); // the I/O buffer still holds it
  expect(leftovers()).toEqual([]);
});

test.each([
  ['format 0 encode', () => m.encode(0, PIN, PAN)],
  ['format 0 decode', () => m.decode(0, refBlock(0, PIN, PAN, 'FFFFFF'), PAN)],
  ['format 1 encode (TEE fill)', () => m.encode(1, PIN, '')],
  ['format 2 encode/decode', () => m.decode(2, m.encode(2, PIN).out)],
  ['format 3 encode (injected fill)', () => m.encode(3, PIN, PAN, 'ABCDEF')],
  ['format 3 decode', () => m.decode(3, refBlock(3, PIN, PAN, 'ABCDEF'), PAN)],
  ['format 4 PIN field', () => m.pinField4(PIN, RND)],
  ['format 4 encipher', () => m.encipher4(KEY, PIN, PAN, RND)],
  ['format 4 decipher', () => m.decipher4(KEY, m.encipher4(KEY, PIN, PAN, RND).out, PAN)],
  ['UnionPay SM4 encipher/decipher', () => m.sm4Decode(m.sm4Encode('enciphered', PIN, PAN, KEY).out, PAN, KEY)],
  ['errors after a PIN was copied in', () => m.encipher4(KEY.slice(2), PIN, PAN)],
])('%s leaves no trace of the PIN', (_name, op) => {
  const r = op();
  expect(r.status).toBeGreaterThanOrEqual(_name.startsWith('errors') ? -100 : 0);
  expect(leftovers()).toEqual([]);
});
