// Issue 4: trusted PIN entry end to end through the REE client (in-process and worker
// isolation), layout randomness, the limits (length, timeout, cancel, abort, try counter with
// backoff and lockout that survives a restart), the verdict-token gate (stale, forged,
// replayed, wrong device) and who may call what. Every PIN block is decrypted with an
// independent DUKPT derivation from the BDK. The same file runs on the C host
// (c-host-pinpad.test.ts sets the fixture's runtime hook); the worker-isolation runs and the
// synchronous driver exist on the reference runtime only (the factory's capabilities).
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { Status } from '../../proto/status.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { enterPin, PinpadClient, pp, type PinEntryRequest } from '../../ree/pin/pin-entry.ts';
import { enterPin as types, handleClientRequest, type Person } from '../../tee/index.ts';
import { AttestClient } from '../../ree/attestation/client.ts';
import { ks } from '../../ree/tee-client/index.ts';
import { expectTeeError, probeImages } from '../../conformance/index.ts';
import { startPhone, withPinpad, phoneRuntime, PAN, decryptFormat4, decryptFormat0, decryptUnionPaySm4, TestBackend, hex, type Phone } from './fixture.ts';
import { createHash } from 'node:crypto';
import { readKeys } from '../../tee/tui/eyes.ts';
import { SPOKEN } from '../../tee/tui/scripted.ts';

const at = trusttap.attest.v1;
const { caps } = phoneRuntime();
const req = (phone: Phone, more: Partial<PinEntryRequest> = {}): PinEntryRequest =>
  ({ pan: PAN, amountMinor: 4250, currency: 'EUR', keySetId: 'pin-aes', attest: phone.attest, ...more });

async function entry(phone: Phone, who: Person, more: Partial<PinEntryRequest> = {}) {
  phone.person.enqueue(who);
  return enterPin(phone.ctx, req(phone, more));
}

describe.each(caps.workerIsolation ? ['in-process', 'worker'] as const : ['in-process'] as const)('PIN entry through the REE client (%s)', (isolation) => {
  let phone: Phone;
  beforeAll(async () => { phone = await startPhone({ isolation }); });
  afterAll(async () => { await phone.close(); });

  test('format 4 under AES DUKPT: the block decrypts to the PIN from the BDK; one KSN per entry', async () => {
    const ksns: string[] = [];
    for (const pin of ['4826', '190573', '777777777777']) {
      const r = await entry(phone, types(pin));
      expect(r.kind).toBe('pin-block');
      if (r.kind !== 'pin-block') return;
      expect(r.format).toBe('iso4');
      expect(r.encryptedPinBlock.length).toBe(16);
      expect(decryptFormat4(r.encryptedPinBlock, r.ksn, PAN)).toBe(pin);
      ksns.push(hex(r.ksn));
    }
    expect(new Set(ksns).size).toBe(3);
  });

  test('format 0 under TDES DUKPT for legacy hosts', async () => {
    const r = await entry(phone, types('86420'), { format: 'iso0', keySetId: 'pin-tdes' });
    expect(r.kind).toBe('pin-block');
    if (r.kind === 'pin-block') {
      expect(r.format).toBe('iso0');
      expect(r.encryptedPinBlock.length).toBe(8);
      expect(decryptFormat0(r.encryptedPinBlock, r.ksn, PAN)).toBe('86420');
    }
  });

  test('UnionPay SM4 under the downloaded SM4 PIN key: the block decrypts to the PIN; no KSN', async () => {
    for (const [pin, pan] of [['123654', '6230606601007726888'], ['9081726354', PAN], ['0000', '621700123456789']] as const) {
      const r = await entry(phone, types(pin), { pan, format: 'unionpay-sm4', keySetId: 'pin-sm4', currency: 'CNY' });
      expect(r.kind).toBe('pin-block');
      if (r.kind !== 'pin-block') return;
      expect(r.format).toBe('unionpay-sm4');
      expect(r.ksn.length).toBe(0);
      expect(r.encryptedPinBlock.length).toBe(16);
      expect(decryptUnionPaySm4(r.encryptedPinBlock, pan)).toBe(pin);
    }
  });

  test('the person sees the amount, reads the digits off the TA\'s pixels, and only coordinates come back', async () => {
    const before = phone.person.opened.length;
    await entry(phone, types('2468'));
    const screen = phone.person.opened[before];
    expect(screen.lines).toContain('Amount: EUR 42.50');
    // The keys carry rectangles, no label and no speech: what they show is only in the pixels.
    expect(screen.keys.every((k) => !k.label && !k.speech && (k.width ?? 0) > 0 && (k.height ?? 0) > 0)).toBe(true);
    expect(screen.pixels?.length).toBe(Math.ceil((screen.width ?? 0) * (screen.height ?? 0) / 8));
    expect(readKeys(screen).map((k) => k.text).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'CANCEL', 'CLEAR', 'OK']);
    expect(screen.keys.map((k) => k.position ?? -1).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // Masked progress: the display learns how many digits, never which.
    expect(phone.person.display.history.map((s) => s.entered)).toEqual(expect.arrayContaining([1, 2, 3, 4]));
    expect(phone.person.closed).toBe(phone.person.opened.length); // every entry's display was closed
  });

  test('clear, cancel, client abort (AbortSignal) and a closed session each end cleanly', async () => {
    const r1 = await entry(phone, [{ digits: '99' }, 'clear', { digits: '1357' }, 'ok']);
    expect(r1.kind === 'pin-block' && decryptFormat4(r1.encryptedPinBlock, r1.ksn, PAN)).toBe('1357');
    expect((await entry(phone, [{ digits: '12' }, 'cancel'])).kind).toBe('cancelled');
    const ac = new AbortController();
    phone.person.enqueue([{ digits: '5' }]);
    const pending = enterPin(phone.ctx, req(phone, { signal: ac.signal }));
    setTimeout(() => ac.abort(), 50);
    expect((await pending).kind).toBe('aborted');
    // Closing the session while the entry is on screen answers the pending command.
    await withPinpad(phone, async (p) => {
      phone.person.enqueue([]);
      const nonce = await p.nonce();
      const v = await phone.attest(nonce);
      const start = pp.StartEntryRequest.encode({ pan: PAN, amountMinor: 1, currency: 'EUR', keySetId: 'pin-aes', verdictToken: v.token, verdictSignature: v.signature } as unknown as trusttap.pinpad.v1.IStartEntryRequest).finish();
      const inflight = p.session.invoke(pp.Command.COMMAND_START_ENTRY, start);
      await new Promise((r) => setTimeout(r, 30));
      await p.close();
      expect(pp.EntryResponse.decode(await inflight).outcome).toBe(pp.Outcome.OUTCOME_ABORTED);
    });
    // Three failures in a row: the next entry waits. A success resets the counter.
    expect((await withPinpad(phone, (p) => p.status())).failures).toBe(3);
  });
});

describe('limits, accessibility, layout (in-process, injected clocks)', () => {
  let phone: Phone;
  const now = { ree: Date.UTC(2026, 10, 25, 12), mono: 1_000 };
  beforeAll(async () => { phone = await startPhone({ now }); });
  afterAll(async () => { await phone.close(); });
  const policy = (p: trusttap.pinpad.v1.IPolicy) => withPinpad(phone, (c) => c.setPolicy({
    minLength: 4, maxLength: 12, timeoutMs: 30_000, tokenMaxAgeS: 60, accessibility: pp.Accessibility.ACCESSIBILITY_ON_REQUEST,
    defaultFormat: pp.PinFormat.PIN_FORMAT_ISO_4, freeTries: 3, lockoutTries: 10, ...p,
  }));

  test('layouts are fresh uniform permutations (chi-square over 120 entries)', async () => {
    const n = 120;
    const counts = Array.from({ length: 10 }, () => new Array(10).fill(0));
    const seen = new Set<string>();
    const start = phone.person.opened.length;
    for (let i = 0; i < n; i++) expect((await entry(phone, types('0000'))).kind).toBe('pin-block');
    for (const s of phone.person.opened.slice(start)) {
      const digits = readKeys(s).filter((k) => /^\d$/.test(k.text));
      expect(digits.length).toBe(10);
      seen.add(digits.map((k) => k.text).join(''));
      for (const k of digits) counts[k.position][Number(k.text)]++;
    }
    // 10! layouts: among 120 fresh ones one repeated pair has probability 0.2 %, two about 2e-6.
    expect(seen.size).toBeGreaterThanOrEqual(n - 1);
    const e = n / 10;
    const chi2 = counts.flat().reduce((a, c) => a + (c - e) ** 2 / e, 0);
    // 81 degrees of freedom: P(chi2 > 183) < 1e-9 for a uniform shuffle (Wilson-Hilferty), so the
    // test never fails by chance; a shuffle that favours a position (e.g. a modulo bias or a
    // fixed digit) lands far above it.
    expect(chi2).toBeLessThan(183);
  }, 120_000);

  test('length limits: OK below the minimum is PIN_TOO_SHORT; digits past the maximum are ignored', async () => {
    await policy({ minLength: 5, maxLength: 6 });
    expect((await entry(phone, types('1234'))).kind).toBe('pin-too-short');
    const r = await entry(phone, types('12345678'));
    expect(r.kind === 'pin-block' && decryptFormat4(r.encryptedPinBlock, r.ksn, PAN)).toBe('123456');
    expect(phone.person.display.history.some((s) => s.notice === 'Maximum PIN length')).toBe(true);
    await expectTeeError(policy({ minLength: 3 }), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(policy({ freeTries: 50 }), Status.ERROR_BAD_PARAMETERS);
    await policy({});
  });

  test('a person who does nothing times out (runtime timer), typed TIMEOUT', async () => {
    await policy({ timeoutMs: 150 });
    const r = await entry(phone, []);
    expect(r.kind).toBe('timeout');
    await policy({});
  });

  test('accessible mode by policy: large keys, the layout spoken on the TEE audio path (not to the display), found by listening', async () => {
    const heard = phone.blind.heard.length;
    const r = await (phone.blind.enqueue(types('9513')), enterPin(phone.ctx, req(phone, { accessible: true })));
    expect(r.kind === 'pin-block' && r.accessible && decryptFormat4(r.encryptedPinBlock, r.ksn, PAN)).toBe('9513');
    const s = phone.blind.opened.at(-1)!;
    expect(s.mode).toBe(trusttap.tee.v1.TuiMode.TUI_MODE_ACCESSIBLE);
    expect(s.columns).toBe(2);
    // The display provider got no speech at all; the ears got the ten digit words in key order,
    // which are what the drawn keys show when read from the top left.
    expect(s.speech ?? []).toEqual([]);
    expect(s.keys.every((k) => !k.speech && !k.label)).toBe(true);
    const words = phone.blind.heard.slice(heard).filter((w) => SPOKEN.includes(w));
    const shown = readKeys(s).sort((a, b) => a.y - b.y || a.x - b.x).slice(0, 10).map((k) => SPOKEN[Number(k.text)]);
    expect(words).toEqual(shown);
    await policy({ accessibility: pp.Accessibility.ACCESSIBILITY_DISABLED });
    const d = await entry(phone, types('9513'), { accessible: true });
    expect(d.kind === 'pin-block' && d.accessible).toBe(false);
    await policy({ accessibility: pp.Accessibility.ACCESSIBILITY_ALWAYS });
    phone.blind.enqueue(types('9513'));
    const a = await enterPin(phone.ctx, req(phone));
    expect(a.kind === 'pin-block' && a.accessible).toBe(true);
    await policy({});
  });

  test('try counter: backoff after free tries, 24 h lockout, both survive a restart; REE clock games do not shorten them', async () => {
    await policy({ freeTries: 2, lockoutTries: 3 });
    expect((await entry(phone, ['cancel'])).kind).toBe('cancelled');
    const second = await entry(phone, ['cancel']);
    expect(second).toMatchObject({ kind: 'cancelled', failures: 2, retryAfterMs: 30_000 });
    const locked = await enterPin(phone.ctx, req(phone));
    expect(locked).toMatchObject({ kind: 'locked-out', failures: 2 });
    await phone.restart();
    expect(await enterPin(phone.ctx, req(phone))).toMatchObject({ kind: 'locked-out' });
    // Setting the REE clock back does not lengthen it past the backoff, nor does it reset it.
    now.ree -= 3_600_000;
    expect(await enterPin(phone.ctx, req(phone))).toMatchObject({ kind: 'locked-out', retryAfterMs: 30_000 });
    now.ree += 31_000;
    now.mono += 31_000;
    expect(await entry(phone, ['cancel'])).toMatchObject({ kind: 'cancelled', failures: 3, retryAfterMs: 86_400_000 });
  });

  test('lockout after lockout_tries: a day per entry, survives restart; a success resets', async () => {
    const st = await withPinpad(phone, (p) => p.status());
    expect(st.failures).toBe(3);
    expect(Number(st.retryAfterMs)).toBe(86_400_000);
    await phone.restart();
    expect(await enterPin(phone.ctx, req(phone))).toMatchObject({ kind: 'locked-out', retryAfterMs: 86_400_000 });
    now.ree += 86_400_001;
    now.mono += 86_400_001;
    const r = await entry(phone, types('2580'));
    expect(r.kind).toBe('pin-block');
    expect((await withPinpad(phone, (p) => p.status())).failures).toBe(0);
    await policy({});
  });

  test('verdict tokens: stale, expired, forged, tampered, replayed, wrong nonce, wrong device, wrong verdict, not provisioned', async () => {
    const b = phone.backend;
    const run = (make: (nonce: Uint8Array) => { token: Uint8Array; signature: Uint8Array }) => enterPin(phone.ctx, req(phone, { attest: async (n) => make(n) }));
    const refused = async (make: Parameters<typeof run>[0]) => {
      const r = await run(make);
      return r.kind === 'token-refused' ? r.reason : r.kind;
    };
    expect(await refused((n) => b.token(phone.deviceKeySha256, n, now.ree - 61_000))).toBe('stale');
    expect(await refused((n) => b.token(phone.deviceKeySha256, n, now.ree, { expiresMs: now.ree - 1 }))).toBe('stale');
    expect(await refused((n) => new TestBackend().token(phone.deviceKeySha256, n, now.ree))).toBe('forged');
    expect(await refused((n) => { const t = b.token(phone.deviceKeySha256, n, now.ree); t.token[5] ^= 1; return t; })).toBe('forged');
    // Issue 17 §2: the high-S twin of a genuine signature, and a token with a field appended under a
    // valid signature, are forged too.
    const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const twin = (sig: Uint8Array) => { const o = Uint8Array.from(sig); o.set(Buffer.from((N - BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`)).toString(16).padStart(64, '0'), 'hex'), 32); return o; };
    expect(await refused((n) => { const t = b.token(phone.deviceKeySha256, n, now.ree); return { token: t.token, signature: twin(t.signature) }; })).toBe('forged');
    expect(await refused((n) => { const t = Uint8Array.from([...b.token(phone.deviceKeySha256, n, now.ree).token, 0x78, 0x01]); return { token: t, signature: b.sign(t) }; })).toBe('forged');
    let kept: { token: Uint8Array; signature: Uint8Array } | null = null;
    phone.person.enqueue(types('1111'));
    expect((await run((n) => (kept = b.token(phone.deviceKeySha256, n, now.ree)))).kind).toBe('pin-block');
    expect(await refused(() => kept!)).toBe('nonce'); // replayed for a new nonce
    expect(await refused(() => b.token(phone.deviceKeySha256, new Uint8Array(32), now.ree))).toBe('nonce');
    expect(await refused((n) => b.token(new Uint8Array(32).fill(7), n, now.ree))).toBe('wrong-device');
    expect(await refused((n) => b.token(phone.deviceKeySha256, n, now.ree, { verdict: at.Verdict.VERDICT_STEP_UP }))).toBe('verdict');
    // A back end may prefix its own challenge to the pinpad's nonce.
    phone.person.enqueue(types('2222'));
    expect((await run((n) => b.token(phone.deviceKeySha256, Buffer.concat([Buffer.alloc(16, 9), n]), now.ree))).kind).toBe('pin-block');
    // The nonce itself goes stale: the TEE's monotonic clock counts from when it was issued.
    expect(await refused((n) => { now.mono += 61_000; return b.token(phone.deviceKeySha256, n, now.ree); })).toBe('stale');
    // Token refusals show nothing and do not count as tries.
    expect((await withPinpad(phone, (p) => p.status())).failures).toBe(0);
  });

  test('provisioning: the device binding comes from the attest TA; the token key is pinned once', async () => {
    const attest = await AttestClient.open(phone.ctx);
    const id = await attest.getIdentity();
    await attest.close();
    expect(hex(phone.deviceKeySha256)).toBe(hex(createHash('sha256').update(id.publicKey).digest()));
    await withPinpad(phone, async (p) => {
      expect((await p.provision(phone.backend.publicKey)).newlyProvisioned).toBe(false);
      await expectTeeError(p.provision(new TestBackend().publicKey), Status.ERROR_ACCESS_DENIED);
    });
  });
});

describe('who may do what', () => {
  let phone: Phone;
  beforeAll(async () => {
    const probe = (await probeImages())[0].wasm;
    phone = await startPhone({ extra: [{ name: 'stranger', uuid: '0c0fe7a0-0000-4000-8000-00000000beef', version: '1', wasm: probe }] });
  });
  afterAll(async () => { await phone.close(); });

  test('no TA may open a pinpad session; the REE may not encrypt PIN blocks at the keystore', async () => {
    const s = await phone.ctx.openSession('stranger');
    const call = new Uint8Array(20);
    call.set(Buffer.from('3f1c9a405a1e4b7d8c2e9b0d7e1a2c30', 'hex'));
    await expectTeeError(s.invoke(7, call), Status.ERROR_ACCESS_DENIED);
    await s.close();
    const k = await phone.ctx.openSession('keystore');
    const r = ks.DukptEncryptPinBlockRequest.encode({ keyId: 'pin-aes', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4, pinField: new Uint8Array(16), panField: new Uint8Array(16) }).finish();
    await expectTeeError(k.invoke(ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK, r), Status.ERROR_ACCESS_DENIED);
    const sm4 = ks.EncryptPinBlockRequest.encode({ keyId: 'pin-sm4', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_UNIONPAY_SM4, clearPinBlock: new Uint8Array(16) }).finish();
    await expectTeeError(k.invoke(ks.Command.COMMAND_ENCRYPT_PIN_BLOCK, sm4), Status.ERROR_ACCESS_DENIED);
    await k.close();
  });

  test('one entry at a time; its own session is BUSY while pending; Cancel aborts it; bad requests and SM4 are typed errors', async () => {
    await withPinpad(phone, async (a) => {
      phone.person.enqueue([]);
      const first = a.enter(req(phone));
      await new Promise((r) => setTimeout(r, 30));
      await withPinpad(phone, async (b) => {
        await expectTeeError(b.enter(req(phone)), Status.ERROR_BUSY);
        await expectTeeError(a.session.invoke(pp.Command.COMMAND_GET_STATUS), Status.ERROR_BUSY); // its own session is pending
        expect((await b.status()).entryActive).toBe(true);
        await a.session.requestCancellation();
      });
      expect((await first).kind).toBe('aborted');
    });
    await expectTeeError(enterPin(phone.ctx, req(phone, { pan: '41111' })), Status.ERROR_BAD_PARAMETERS);
    // SM4 needs a static SM4 P0 key: a DUKPT key set is refused by the key store (a typed error),
    // and a DUKPT format does not take the SM4 key.
    const sm4OnDukpt = enterPin(phone.ctx, req(phone, { format: 'unionpay-sm4' }));
    phone.person.enqueue(types('1234'));
    await expectTeeError(sm4OnDukpt, Status.ERROR_ACCESS_DENIED);
    // (A PIN block resets the try counter, so the failures here do not add up to a backoff.)
    expect((await entry(phone, types('2580'), { format: 'unionpay-sm4', keySetId: 'pin-sm4' })).kind).toBe('pin-block');
    const dukptOnSm4 = enterPin(phone.ctx, req(phone, { keySetId: 'pin-sm4' }));
    phone.person.enqueue(types('1234'));
    await expectTeeError(dukptOnSm4, Status.ERROR_ACCESS_DENIED);
    const unknownSet = enterPin(phone.ctx, req(phone, { keySetId: 'no-such-set' }));
    phone.person.enqueue(types('1234'));
    await expectTeeError(unknownSet, Status.ERROR_ITEM_NOT_FOUND);
  });

  // Only runtimes with a synchronous driver path (the reference runtime) have this to test.
  test.runIf(caps.syncDriver)(`the synchronous driver path cannot wait for a person: tui_begin is BAD_STATE there${caps.syncDriver ? '' : ' (skipped: this runtime has no synchronous driver path)'}`, async () => {
    const open = trusttap.tee.v1.ClientResponse.decode(handleClientRequest(phone.runtime, trusttap.tee.v1.ClientRequest.encode({ id: 1, openSession: { name: 'pinpad' } }).finish()));
    const nonce = pp.NonceResponse.decode(trusttap.tee.v1.ClientResponse.decode(handleClientRequest(phone.runtime, trusttap.tee.v1.ClientRequest.encode({ id: 2, invoke: { session: open.session, command: pp.Command.COMMAND_GET_NONCE } }).finish())).payload).nonce;
    const v = phone.backend.token(phone.deviceKeySha256, nonce, Date.now());
    const start = pp.StartEntryRequest.encode({ pan: PAN, amountMinor: 1, currency: 'EUR', keySetId: 'pin-aes', verdictToken: v.token, verdictSignature: v.signature } as unknown as trusttap.pinpad.v1.IStartEntryRequest).finish();
    const res = trusttap.tee.v1.ClientResponse.decode(handleClientRequest(phone.runtime, trusttap.tee.v1.ClientRequest.encode({ id: 3, invoke: { session: open.session, command: pp.Command.COMMAND_START_ENTRY, payload: start } }).finish()));
    expect(res.status >>> 0).toBe(Status.ERROR_BAD_STATE);
    phone.runtime.closeSession(open.session);
  });
});

// Issue 11 §3: the REE learns from the pinpad whether a PIN can be entered at all
// (Terminal.checkCapability reports it as pin: true/false).
describe('trusted UI presence', () => {
  test('GET_STATUS reports the trusted UI; without one it is false and START_ENTRY answers NOT_SUPPORTED', async () => {
    const withUi = await startPhone();
    try {
      expect((await withPinpad(withUi, (p) => p.status())).trustedUi).toBe(true);
    } finally {
      await withUi.close();
    }
    const noUi = await startPhone({ withUi: false });
    try {
      const st = await withPinpad(noUi, (p) => p.status());
      expect(st.trustedUi).toBe(false);
      expect(st.entryActive).toBe(false);
      await expectTeeError(enterPin(noUi.ctx, req(noUi)), Status.ERROR_NOT_SUPPORTED);
      // The probe showed nothing and counted no try.
      expect((await withPinpad(noUi, (p) => p.status())).failures).toBe(0);
    } finally {
      await noUi.close();
    }
  });
});
