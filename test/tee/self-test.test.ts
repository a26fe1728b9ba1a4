// The TEE's power-on self-tests (tee/crypto/self-test.ts): the core's primitives (node:crypto, the
// host AES of common/aes) pass every known answer;
// a primitive that answers wrongly, throws, or (Ed25519) accepts anything stops the boot with
// SelfTestError naming the algorithm.
import { test, expect } from 'vitest';
import { runSelfTests, corePrimitives, SelfTestError, type SelfTestPrimitives } from '../../tee/crypto/self-test.ts';

test('the core\'s primitives pass every known-answer test', () => {
  expect(() => runSelfTests()).not.toThrow();
});

const flip = (b: Uint8Array) => { const c = Uint8Array.from(b); c[0]! ^= 1; return c; };
const broken: Array<[string, Partial<SelfTestPrimitives>]> = [
  ['SHA-256', { sha256: (d) => flip(corePrimitives.sha256(d)) }],
  ['HMAC-SHA256', { hmacSha256: (k, d) => flip(corePrimitives.hmacSha256(k, d)) }],
  ['HKDF-SHA256', { hkdfSha256: (i, s, n, l) => corePrimitives.hkdfSha256(i, s, n, l).subarray(0, l - 1) }],
  ['Ed25519', { ed25519Verify: () => false }],
  ['Ed25519', { ed25519Verify: () => true }], // accepts everything
  ['AES-128', { aesEcbEncrypt: () => { throw new Error('provider gone'); } }],
  ['AES-128 decryption', { aesEcbDecrypt: (k, b) => flip(corePrimitives.aesEcbDecrypt(k, b)) }],
  ['AES-256-GCM', { aesGcmEncrypt: (k, iv, p) => ({ ...corePrimitives.aesGcmEncrypt(k, iv, p), tag: new Uint8Array(16) }) }],
];

test.each(broken)('a wrong %s stops the boot, naming the algorithm', (algorithm, bad) => {
  let e: unknown;
  try { runSelfTests({ ...corePrimitives, ...bad }); } catch (x) { e = x; }
  expect(e).toBeInstanceOf(SelfTestError);
  expect((e as SelfTestError).algorithm).toBe(algorithm);
  expect((e as Error).message).toBe(`cryptographic self-test failed: ${algorithm} gave a wrong answer; the TEE does not start`);
});
