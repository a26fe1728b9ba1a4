// Issue 17 §2: every ECDSA verifier takes the canonical low-S form only, and signed bytes only in
// their canonical encoding. For each verifier — the back end's (device requests over HTTP, evidence,
// OEM certificates), the verdict-token check (REE and back end) and the offline `verify-evidence`
// CLI — the high-S twin (r, n − s) of a valid signature is refused, and so are trailing bytes
// (an appended field under a valid signature, or a signature longer than 64 bytes). The signers
// (attest TA, back-end HSM, OEM signers) give low-S, so genuine traffic is unaffected.
import { test, expect, beforeAll, afterAll, describe } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { verifyP256 as backendVerify, signP256, generateP256 } from '../../backend/crypto/p256.ts';
import { verifyP256, verifyToken, isLowS, toLowS, TokenError } from '../../common/verdict-token.ts';
import { openEvidence } from '../../backend/attestation/evidence.ts';
import { verifyOemChain } from '../../backend/attestation/certs.ts';
import { labelled, LABEL } from '../../common/signature-labels.ts';
import { TEST_OEM_ROOT } from '../../sim/oem/index.ts';
import { DEFAULT_BUILD_DIR } from '../../tee/index.ts';
import { run as verifyEvidenceCli } from '../../cli/commands/verify-evidence.ts';
import { startDevice, type Device } from './device.ts';
import { startTestBackend, Admin, enrolledDevice, type Backend } from '../backend/harness.ts';

const a = trusttap.attest.v1;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** The other valid encoding of a signature: (r, n − s). */
const twin = (sig: Uint8Array) => {
  const s = BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`);
  const out = Uint8Array.from(sig);
  out.set(Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
};
/** An unknown field (number 15, varint 1) appended: still decodes, not the canonical encoding. */
const junk = (b: Uint8Array) => Uint8Array.from([...b, 0x78, 0x01]);

let dev: Device;
beforeAll(async () => { dev = await startDevice(); });
afterAll(() => dev.close());

describe('low-S only', () => {
  test('toLowS/isLowS: a signature and its twin verify as ECDSA, only the low-S one is accepted', () => {
    const k = generateP256();
    const msg = new TextEncoder().encode('m');
    for (let i = 0; i < 8; i++) {
      const sig = signP256(k.privateKey, msg);
      expect(isLowS(sig)).toBe(true); // the back end's signer
      const high = twin(sig);
      expect(isLowS(high)).toBe(false);
      expect(toLowS(high)).toEqual(sig);
      expect([backendVerify(k.publicKey, msg, sig), verifyP256(k.publicKey, msg, sig)]).toEqual([true, true]);
      expect([backendVerify(k.publicKey, msg, high), verifyP256(k.publicKey, msg, high)]).toEqual([false, false]);
      expect([backendVerify(k.publicKey, msg, Uint8Array.from([...sig, 0])), verifyP256(k.publicKey, msg, Uint8Array.from([...sig, 0]))]).toEqual([false, false]);
    }
  });

  test('isLowS at its boundary: s = floor(n/2) is low, floor(n/2) + 1 is high, whatever r; only 64 bytes', () => {
    const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const withS = (s: bigint, r = 0xabn) => Uint8Array.from(Buffer.from(r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0'), 'hex'));
    const half = N >> 1n;
    const cases: [bigint, boolean][] = [[0n, true], [1n, true], [half - 1n, true], [half, true], [half + 1n, false], [N - 1n, false], [2n ** 256n - 1n, false], [half - (1n << 200n), true], [half + (1n << 200n), false]];
    for (const [s, low] of cases) {
      expect(isLowS(withS(s)), s.toString(16)).toBe(low);
      expect(isLowS(withS(s, N - 1n)), s.toString(16)).toBe(low);
    }
    expect(isLowS(withS(1n).subarray(1))).toBe(false);
    expect(isLowS(Uint8Array.from([...withS(1n), 0]))).toBe(false);
    // toLowS maps the high half onto the low half (n − s) and leaves the low half and s ≥ n alone.
    expect(toLowS(withS(half + 1n))).toEqual(withS(N - half - 1n));
    expect(toLowS(withS(half))).toEqual(withS(half));
    expect(toLowS(withS(N))).toEqual(withS(N));
  });

  test('the attest TA signs low-S every time (evidence, requests)', async () => {
    for (let i = 0; i < 16; i++) expect(isLowS((await dev.attest.getEvidence(new Uint8Array(32).fill(i), dev.collector.collect())).signature)).toBe(true);
  });

  test('evidence: the high-S twin and trailing bytes are refused', async () => {
    const e = await dev.attest.getEvidence(new Uint8Array(32).fill(7), dev.collector.collect());
    expect(openEvidence(e).evidence.formatVersion).toBe(1);
    expect(() => openEvidence({ evidence: e.evidence, signature: twin(e.signature) })).toThrow(/signature does not verify/);
    // Trailing bytes under a valid signature: a key of our own signs evidence + an appended field.
    const k = generateP256();
    const ev = a.Evidence.decode(e.evidence);
    ev.devicePublicKey = k.publicKey;
    const bytes = junk(a.Evidence.encode(ev).finish());
    expect(() => openEvidence({ evidence: bytes, signature: signP256(k.privateKey, labelled(LABEL.evidence, bytes)) })).toThrow(/canonical/);
  });

  test('verify-evidence CLI: the high-S twin fails the signature check (exit 1)', async () => {
    const e = await dev.attest.getEvidence(new Uint8Array(32).fill(8), dev.collector.collect());
    const dir = mkdtempSync(join(tmpdir(), 'tt-lows-'));
    const good = join(dir, 'good.bin'), high = join(dir, 'high.bin'), trailing = join(dir, 'trailing.bin');
    writeFileSync(good, a.SignedEvidence.encode(e).finish());
    writeFileSync(high, a.SignedEvidence.encode({ evidence: e.evidence, signature: twin(e.signature) }).finish());
    writeFileSync(trailing, junk(a.SignedEvidence.encode(e).finish()));
    const quiet = async (args: string[]) => {
      const log = console.log, lines: string[] = [];
      console.log = (...x: unknown[]) => { lines.push(x.join(' ')); };
      try { return { code: await verifyEvidenceCli(args), out: lines.join('\n') }; } finally { console.log = log; }
    };
    const manifest = join(DEFAULT_BUILD_DIR, 'manifest.json');
    expect((await quiet([good, '--manifest', manifest])).code).toBe(0);
    const h = await quiet([high, '--manifest', manifest]);
    expect(h.code).toBe(1);
    expect(h.out).toMatch(/FAIL +signature/);
    const t = await quiet([trailing, '--manifest', manifest]);
    expect(t.code).toBe(1);
    expect(t.out).toMatch(/canonical/);
  });

  test('OEM chain: a high-S twin on either certificate, or a certificate body with trailing bytes, is refused', async () => {
    const chain = (await dev.attest.getIdentity()).chain!;
    const now = Date.now();
    expect(verifyOemChain(chain, [TEST_OEM_ROOT], 'a77e5700-0d1c-4e0a-9b5e-a77e57a77e57', now).publicKey.length).toBe(65);
    const [leaf, oem] = chain.certificates!;
    expect(() => verifyOemChain({ certificates: [{ ...leaf, signature: twin(leaf.signature!) }, oem] }, [TEST_OEM_ROOT], 'a77e5700-0d1c-4e0a-9b5e-a77e57a77e57', now)).toThrow(/not signed by the device attestation key/);
    expect(() => verifyOemChain({ certificates: [leaf, { ...oem, signature: twin(oem.signature!) }] }, [TEST_OEM_ROOT], 'a77e5700-0d1c-4e0a-9b5e-a77e57a77e57', now)).toThrow(/not signed by a trusted OEM root/);
    expect(() => verifyOemChain({ certificates: [{ ...leaf, tbs: junk(leaf.tbs!) }, oem] }, [TEST_OEM_ROOT], 'a77e5700-0d1c-4e0a-9b5e-a77e57a77e57', now)).toThrow(/canonical/);
  });
});

describe('over HTTP and in the verdict token', () => {
  let be: Backend;
  beforeAll(async () => { be = await startTestBackend(); }, 60_000);
  afterAll(async () => { await be?.close(); });

  test('a device request: the high-S twin → 401, trailing bytes under a valid signature → 400; the device still works', async () => {
    const admin = new Admin(be);
    const { dev: d, link } = await enrolledDevice(be, admin);
    try {
      const send = async (request: Uint8Array, signature: Uint8Array, outer = (b: Uint8Array) => b) => {
        const r = await fetch(`${be.url}/v1/device/heartbeat`, { method: 'POST', body: Buffer.from(outer(a.SignedDeviceRequest.encode({ request, signature }).finish())) });
        return [r.status, r.headers.get('x-trusttap-error')];
      };
      const req = (c: number) => a.DeviceRequest.encode({ deviceId: link.state.deviceId, counter: c, timeMs: Date.now(), heartbeat: {} } as any).finish();
      const r1 = req(Date.now() * 1000 + 1_000_000);
      const sig = await d.attest.signRequest(r1);
      expect(await send(r1, twin(sig))).toEqual([401, 'ERROR_BAD_SIGNATURE']);
      const r2 = junk(req(Date.now() * 1000 + 2_000_000));
      expect(await send(r2, await d.attest.signRequest(r2))).toEqual([400, 'ERROR_MALFORMED']);
      const r3 = req(Date.now() * 1000 + 3_000_000);
      expect(await send(r3, await d.attest.signRequest(r3), junk)).toEqual([400, 'ERROR_MALFORMED']);
      expect(await send(r1, sig)).toEqual([200, null]); // the genuine one: nothing was consumed
      link.state.lastCounter = Date.now() * 1000 + 3_000_000;
      await link.heartbeat();
    } finally {
      await d.close();
    }
  });

  test('verdict token: the high-S twin and a token with trailing bytes are refused (common/verdict-token.ts, as the REE and the QR path run it)', async () => {
    const admin = new Admin(be);
    const { dev: d, link } = await enrolledDevice(be, admin);
    try {
      const { signed } = await link.attestNow();
      const devKey = (await d.attest.getIdentity()).publicKey;
      const tokenKey = link.state.keys!.token;
      expect(verifyToken(signed, tokenKey, devKey).verdict).toBe(a.Verdict.VERDICT_ALLOW);
      expect(() => verifyToken({ token: signed.token, signature: twin(signed.signature) }, tokenKey, devKey)).toThrow(TokenError);
      const longer = junk(signed.token);
      const resigned = be.service.hsm.sign('token', longer);
      expect(verifyP256(tokenKey, longer, resigned)).toBe(true); // a valid signature over the longer bytes...
      expect(() => verifyToken({ token: longer, signature: resigned }, tokenKey, devKey)).toThrow(/canonical/); // ...still refused
    } finally {
      await d.close();
    }
  });
});
