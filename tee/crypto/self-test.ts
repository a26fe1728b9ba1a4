// Power-on self-tests of the TEE core's own cryptography, run once when the runtime boots, as a
// FIPS 140-3 module runs its pre-operational and conditional algorithm self-tests (ISO/IEC 19790
// §7.10) before first use: one known-answer test per algorithm the core itself relies on — the
// TA manifest signature (Ed25519), image hashes (SHA-256), the RPMB frames' MAC (HMAC-SHA256),
// HUK derivations (HKDF-SHA256), sealed storage (AES-256-GCM) and the block cipher under the
// host ABI (AES on common/aes's WebAssembly module, both directions). A provider that answers wrongly stops the boot instead of quietly
// mis-verifying a TA. (The TA-facing algorithms are checked by the conformance kit.)
// Vectors: FIPS 180-4 example "abc"; RFC 4231 test case 2; RFC 5869 test case 1; RFC 8032 §7.1
// TEST 1; FIPS 197 Appendix C.1; the GCM specification's (McGrew–Viega) test case 14.
import { createCipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { nativeEd25519Verify } from '../loader/manifest.ts';
import { aesCrypt } from '../../common/aes/aes.ts';

export class SelfTestError extends Error {
  constructor(readonly algorithm: string) {
    super(`cryptographic self-test failed: ${algorithm} gave a wrong answer; the TEE does not start`);
    this.name = 'SelfTestError';
  }
}

/** The primitives under test (the ones the core uses by default; a test passes a broken one). */
export interface SelfTestPrimitives {
  sha256(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  aesEcbEncrypt(key: Uint8Array, block: Uint8Array): Uint8Array;
  aesEcbDecrypt(key: Uint8Array, block: Uint8Array): Uint8Array;
  aesGcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): { ciphertext: Uint8Array; tag: Uint8Array };
}

export const corePrimitives: SelfTestPrimitives = {
  sha256: (d) => createHash('sha256').update(d).digest(),
  hmacSha256: (k, d) => createHmac('sha256', k).update(d).digest(),
  hkdfSha256: (ikm, salt, info, n) => new Uint8Array(hkdfSync('sha256', ikm, salt, info, n)),
  ed25519Verify: nativeEd25519Verify,
  aesEcbEncrypt: (k, b) => { const o = new Uint8Array(b.length); aesCrypt('ecb', false, k, null, b, o); return o; },
  aesEcbDecrypt: (k, b) => { const o = new Uint8Array(b.length); aesCrypt('ecb', true, k, null, b, o); return o; },
  aesGcmEncrypt: (k, iv, p) => {
    const c = createCipheriv(`aes-${k.length * 8}-gcm` as 'aes-256-gcm', k, iv);
    const ciphertext = Buffer.concat([c.update(p), c.final()]);
    return { ciphertext, tag: c.getAuthTag() };
  },
};

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Runs every known-answer test; throws SelfTestError naming the first algorithm that fails. */
export function runSelfTests(p: SelfTestPrimitives = corePrimitives): void {
  const check = (algorithm: string, ok: () => boolean) => {
    let passed = false;
    try { passed = ok(); } catch { passed = false; }
    if (!passed) throw new SelfTestError(algorithm);
  };
  check('SHA-256', () => same(p.sha256(new TextEncoder().encode('abc')),
    hex('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')));
  check('HMAC-SHA256', () => same(p.hmacSha256(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?')),
    hex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')));
  check('HKDF-SHA256', () => same(p.hkdfSha256(new Uint8Array(22).fill(0x0b), range(0x00, 0x0c), range(0xf0, 0xf9), 42),
    hex('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865')));
  const ed25519Key = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  const ed25519Sig = hex('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');
  check('Ed25519', () => p.ed25519Verify(ed25519Sig, new Uint8Array(0), ed25519Key)
    // a verifier that accepts everything fails too: the same signature over another message
    && !p.ed25519Verify(ed25519Sig, Uint8Array.of(0), ed25519Key));
  check('AES-128', () => same(p.aesEcbEncrypt(range(0x00, 0x0f), hex('00112233445566778899aabbccddeeff')),
    hex('69c4e0d86a7b0430d8cdb78070b4c55a')));
  check('AES-128 decryption', () => same(p.aesEcbDecrypt(range(0x00, 0x0f), hex('69c4e0d86a7b0430d8cdb78070b4c55a')),
    hex('00112233445566778899aabbccddeeff')));
  check('AES-256-GCM', () => {
    const r = p.aesGcmEncrypt(new Uint8Array(32), new Uint8Array(12), new Uint8Array(16));
    return same(r.ciphertext, hex('cea7403d4d606b6e074ec5d3baf39d18')) && same(r.tag, hex('d0d1c8a799996bf0265b98b5d48ab919'));
  });
}
