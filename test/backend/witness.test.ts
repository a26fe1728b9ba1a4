// backend/attestation/witness.ts: what the back end reads as a TEE counter.
import { test, expect } from 'vitest';
import { ksnCounter, pinpadEpoch } from '../../backend/attestation/witness.ts';

test('KSN counters: AES DUKPT (initial key ID || 32-bit counter), TDES DUKPT (21-bit counter); anything else null', () => {
  const aes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0, 1, 2]);
  expect(ksnCounter(aes)).toEqual({ name: 'ksn:0102030405060708', counter: 0x80000102 });
  const tdes = Uint8Array.from([0xff, 0xff, 0x98, 0x76, 0x54, 0x32, 0x10, 0xe3, 0x45, 0x67]);
  // The counter is the low 21 bits; the key set part keeps the rest with those bits cleared.
  expect(ksnCounter(tdes)).toEqual({ name: 'ksn:ffff9876543210e00000', counter: 0x034567 });
  expect(ksnCounter(new Uint8Array(11))).toBeNull();
});

test('the pinpad epoch rides in the evidence nonce after the 32-byte challenge, behind "TTpe"', () => {
  const own = new Uint8Array(32);
  own.set(Buffer.from('TTpe'), 0);
  own.set([0, 0, 0, 0, 0, 0, 1, 2], 4);
  const nonce = new Uint8Array(64);
  nonce.set(own, 32);
  expect(pinpadEpoch(nonce)).toBe(258);
  expect(pinpadEpoch(nonce.subarray(0, 32))).toBeNull(); // no device part
  const other = Uint8Array.from(nonce);
  other[32] = 0; // another device nonce, not the pinpad's
  expect(pinpadEpoch(other)).toBeNull();
});
