// Issue 13 §4: ECDSA P-256 on libuv's thread pool (backend/crypto/p256.ts verifyP256Async,
// signP256Async) gives the same answers as on the event loop, and backend/crypto/verify-ahead.ts
// hands a check an answer found ahead only for the very same key, message and signature bytes.
import { describe, test, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateP256, p256PrivateKey, signP256, signP256Async, verifyP256, verifyP256Async } from '../../backend/crypto/p256.ts';
import { VerifyAhead } from '../../backend/crypto/verify-ahead.ts';
import { isLowS, toLowS } from '../../common/verdict-token.ts';
import { WYCHEPROOF_DIR } from '../vectors/published.ts';

const unhex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** The high-S twin (r, n − s) of a low-S signature: the same point, refused by the verifiers. */
const twin = (sig: Uint8Array) => {
  const out = Uint8Array.from(sig);
  out.set(unhex((N - BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`)).toString(16).padStart(64, '0')), 32);
  return out;
};

describe('ECDSA P-256 on the thread pool', () => {
  test('verifyP256Async answers as verifyP256 on every Wycheproof P1363 vector, as given and as its low-S form', async () => {
    const j = JSON.parse(readFileSync(join(WYCHEPROOF_DIR, 'ecdsa_secp256r1_sha256_p1363_test.json'), 'utf8')) as
      { testGroups: { publicKey: { uncompressed: string }; tests: { tcId: number; msg: string; sig: string; result: string }[] }[] };
    const differ: number[] = [];
    let valid = 0;
    for (const g of j.testGroups) {
      const pub = unhex(g.publicKey.uncompressed);
      await Promise.all(g.tests.map(async (t) => {
        const msg = unhex(t.msg), sig = unhex(t.sig);
        for (const s of sig.length === 64 ? [sig, toLowS(sig)] : [sig]) {
          const sync = verifyP256(pub, msg, s);
          if ((await verifyP256Async(pub, msg, s)) !== sync) differ.push(t.tcId);
          if (sync) valid++;
        }
      }));
    }
    expect(differ).toEqual([]);
    expect(valid).toBeGreaterThan(0); // the table holds accepted signatures, not only refusals
  });

  test('malformed inputs: false, never a rejection', async () => {
    const k = generateP256();
    const msg = new Uint8Array([1, 2, 3]);
    const sig = signP256(k.privateKey, msg);
    const offCurve = Uint8Array.from(k.publicKey);
    offCurve[64] ^= 1;
    for (const [what, pub, s] of [
      ['genuine', k.publicKey, sig],
      ['high-S twin', k.publicKey, twin(sig)],
      ['63 bytes', k.publicKey, sig.subarray(0, 63)],
      ['zeros', k.publicKey, new Uint8Array(64)],
      ['point off the curve', offCurve, sig],
      ['compressed point', k.publicKey.subarray(0, 33), sig],
    ] as const) {
      expect(await verifyP256Async(pub, msg, s), what).toBe(what === 'genuine');
    }
  });

  test('signP256Async: low-S signatures that verify, a fresh one each time', async () => {
    const k = generateP256();
    const key = p256PrivateKey(k.privateKey);
    const msg = new TextEncoder().encode('answer');
    const sigs = await Promise.all(Array.from({ length: 16 }, () => signP256Async(key, msg)));
    for (const s of sigs) {
      expect(s.length).toBe(64);
      expect(isLowS(s)).toBe(true);
      expect(verifyP256(k.publicKey, msg, s)).toBe(true);
    }
    expect(new Set(sigs.map((s) => Buffer.from(s).toString('hex'))).size).toBe(16);
  });
});

describe('VerifyAhead', () => {
  const a = generateP256(), b = generateP256();
  const msg = new TextEncoder().encode('request'), other = new TextEncoder().encode('another request');
  const sigB = signP256(b.privateKey, msg);

  test('an answer found ahead is taken only for the same key, message and signature bytes', async () => {
    const ahead = new VerifyAhead();
    // Started with the wrong key (the guess was stale): the answer found ahead is false …
    const s = ahead.start(a.publicKey, msg, sigB);
    await s.done;
    expect(ahead.verify(Uint8Array.from(a.publicKey), Uint8Array.from(msg), Uint8Array.from(sigB))).toBe(false);
    // … and a check with the right key verifies again rather than take it.
    expect(ahead.verify(b.publicKey, msg, sigB)).toBe(true);
    s.forget();
    // Started with the right key and message: true; another message under the same signature is not.
    const t = ahead.start(b.publicKey, msg, sigB);
    await t.done;
    expect(ahead.verify(b.publicKey, msg, sigB)).toBe(true);
    expect(ahead.verify(b.publicKey, other, sigB)).toBe(false);
    expect(ahead.verify(a.publicKey, msg, sigB)).toBe(false);
    t.forget();
    expect(ahead.size).toBe(0);
  });

  test('arrays changed by their caller after start(): the check compares the bytes it is given, not the arrays', async () => {
    const ahead = new VerifyAhead();
    const m = Uint8Array.from(msg);
    const s = ahead.start(b.publicKey, m, sigB);
    await s.done;
    m[0]! ^= 1; // the same array now holds another message: its signature does not verify
    expect(ahead.verify(b.publicKey, m, sigB)).toBe(false);
    expect(ahead.verify(b.publicKey, msg, sigB)).toBe(true);
    s.forget();
  });

  test('still running, nothing started, or forgotten: verified then and there', async () => {
    const ahead = new VerifyAhead();
    expect(ahead.verify(b.publicKey, msg, sigB)).toBe(true);
    expect(ahead.verify(b.publicKey, msg, twin(sigB))).toBe(false);
    const s = ahead.start(a.publicKey, msg, sigB); // a wrong guess, still running
    expect(ahead.verify(b.publicKey, msg, sigB)).toBe(true);
    await s.done;
    s.forget();
    expect(ahead.size).toBe(0);
    expect(ahead.verify(b.publicKey, msg, sigB)).toBe(true);
  });

  test('the same signature started twice keeps the first entry until its own forget()', async () => {
    const ahead = new VerifyAhead();
    const first = ahead.start(b.publicKey, msg, sigB);
    const second = ahead.start(a.publicKey, msg, sigB);
    await Promise.all([first.done, second.done]);
    expect(ahead.size).toBe(1);
    expect(ahead.verify(b.publicKey, msg, sigB)).toBe(true);
    expect(ahead.verify(a.publicKey, msg, sigB)).toBe(false);
    second.forget();
    expect(ahead.size).toBe(1);
    first.forget();
    expect(ahead.size).toBe(0);
  });
});
