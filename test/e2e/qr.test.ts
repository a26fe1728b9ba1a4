// Issue 7: QR payments end to end through the real components — the back end over loopback HTTP
// (SQLite journal, simulated issuer with wallet accounts), the reference TEE with the signed TAs
// (every device request signed by the attest TA), the app API (Terminal.startQrPayment) and a
// simulated customer wallet (sim/wallet) that parses codes with common/qr and pays over HTTP.
import { describe, test, expect, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntimeFromBuild, InProcessTeeDriver, type TeeRuntime } from '../../tee/index.ts';
import { simulatedDevice } from '../../sim/oem/index.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { Terminal, type PaymentEvent, type PaymentResult, type QrPaymentRequest } from '../../ree/terminal/index.ts';
import type { HealthSnapshot } from '../../ree/attestation/collector.ts';
import { parseMerchantQr, parseUnionPayAccount, generateMerchantQr } from '../../common/qr/merchant-presented.ts';
import { crcHex } from '../../common/qr/crc16.ts';
import { QrError } from '../../common/qr/errors.ts';
import { decodeTlv, encodeTlv, findTag, type TlvEntry } from '../../common/tlv.ts';
import { toHex } from '../../common/hex.ts';
import { SimWallet, WalletError } from '../../sim/wallet/index.ts';
import { startTestBackend, Admin, tid, type Backend } from '../backend/harness.ts';
import { run as runDemo } from '../../cli/commands/demo.ts';

let be: Backend;
let runtime: TeeRuntime;
let terminal: Terminal;
let skewMs = 0;
let seq = 0;
const ctid = (what: string) => `qr-${what}-${seq++}-${Date.now().toString(36)}`;

const health: HealthSnapshot = {
  rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false,
  deviceId: 'qr-test-android-id', ipAddress: '127.0.0.1', location: { latitude: 31.2304, longitude: 121.4737, accuracyM: 25 },
  osVersion: 'Android 14', appVersion: '0.1.0',
};

beforeAll(async () => {
  // The back end's clock may be moved forward (expiry), never back.
  be = await startTestBackend({ now: () => Date.now() + skewMs });
  const dir = mkdtempSync(join(tmpdir(), 'tt-qr-'));
  const device = simulatedDevice(dir);
  runtime = await startRuntimeFromBuild({ dataDir: dir, bootState: device.bootState });
  terminal = await Terminal.open({
    tee: new InProcessTeeDriver(runtime), backendUrl: be.url, health: () => health,
    kernelConfig: loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey), nfc: null,
  });
  const t = await new Admin(be).createTerminal('M-QR-0001', tid());
  await terminal.enroll(t.activationCode);
  await terminal.prepare();
});

afterAll(async () => {
  await terminal?.close();
  runtime?.shutdown();
  await be?.close();
});

const wallet = (id: string) => SimWallet.login(be.url, be.adminToken, id);

/** Runs a QR payment; `onQr` plays the customer when the code is shown. */
async function run(req: QrPaymentRequest, onQr?: (payload: string, cancel: () => void) => void | Promise<void>): Promise<{ result: PaymentResult; events: PaymentEvent[] }> {
  const p = terminal.startQrPayment(req);
  const events: PaymentEvent[] = [];
  for await (const e of p.events) {
    events.push(e);
    if (e.type === 'qr-displayed' && onQr) await onQr(e.payload, () => p.cancel());
  }
  return { result: await p.result, events };
}

const mpm = (amount: number, id = ctid('mpm'), o: Partial<QrPaymentRequest> = {}): QrPaymentRequest =>
  ({ mode: 'merchant-presented', amount, currency: 'CNY', clientTransactionId: id, pollIntervalMs: 30, ...o } as QrPaymentRequest);

describe('merchant-presented (dynamic) QR', () => {
  test('approved: the acquirer\'s EMVCo payload (UnionPay account, reference in 62), paid by the wallet; idempotent retries', async () => {
    const w = await wallet('wallet-cny');
    const before = (await w.balance()).balanceMinor;
    const id = ctid('mpm-ok');
    let shown = '';
    const { result, events } = await run(mpm(128_80, id), async (payload) => {
      shown = payload;
      const paid = await w.pay(payload);
      expect(paid.result.reasonText).toBe('approved');
    });
    expect(events.map((e) => e.type)).toEqual(['qr-displayed']);
    expect(result.outcome).toBe('approved');
    if (result.outcome !== 'approved') return;
    const q = parseMerchantQr(shown);
    expect(q.pointOfInitiation).toBe('dynamic');
    expect([q.amount, q.currency, q.countryCode]).toEqual(['128.80', '156', 'CN']);
    expect(parseUnionPayAccount(q.accounts['15']!).acquirerIin).toBe('48020000');
    expect(q.additionalData?.['05']).toBe(result.receipt.transactionReference);
    expect(result.receipt).toMatchObject({ amount: 128_80, currency: 'CNY', maskedPan: '623501******0001', responseCode: '00', qr: 'merchant-presented', clientTransactionId: id });
    expect(result.receipt.authorizationCode).toMatch(/^[0-9A-Z]{6}$/);
    expect((await w.balance()).balanceMinor).toBe(before - 128_80);

    // The app retries the same id: the same result, no new code; the wallet retries: no second debit.
    const again = await run(mpm(128_80, id));
    expect(again.events).toEqual([]);
    expect(again.result).toEqual(result);
    expect((await w.pay(shown)).result.transactionReference).toBe(result.receipt.transactionReference);
    expect((await w.balance()).balanceMinor).toBe(before - 128_80);
    // Another wallet cannot pay it again.
    await expect((await wallet('wallet-usd')).pay(shown)).rejects.toMatchObject({ http: 409 });
    // The journal answers resolve() for it like for a card payment.
    expect(await terminal.resolve(id)).toEqual(result);
  });

  test('insufficient funds: declined with the reason, nothing debited', async () => {
    const w = await wallet('wallet-low');
    const before = (await w.balance()).balanceMinor;
    const { result } = await run(mpm(88_00), async (payload) => { await w.pay(payload); });
    expect(result).toMatchObject({ outcome: 'declined', reason: 'INSUFFICIENT_FUNDS' });
    if (result.outcome === 'declined') expect(result.receipt).toMatchObject({ maskedPan: '623501******0019', responseCode: '51' });
    expect((await w.balance()).balanceMinor).toBe(before);
  });

  test('cancel(): the order is cancelled at the acquirer and cannot be paid afterwards', async () => {
    const id = ctid('mpm-cancel');
    let shown = '';
    const { result } = await run(mpm(10_00, id), (payload, cancel) => { shown = payload; cancel(); });
    expect(result).toEqual({ outcome: 'cancelled' });
    const w = await wallet('wallet-cny');
    await expect(w.pay(shown)).rejects.toMatchObject({ http: 409, message: expect.stringContaining('cancelled') });
    expect(await terminal.resolve(id)).toEqual({ outcome: 'cancelled' });
  });

  test('cancel() after the wallet paid: the payment is reversed, so "cancelled" is true; USD orders carry no UnionPay account', async () => {
    const w = await wallet('wallet-usd');
    const before = (await w.balance()).balanceMinor;
    const id = ctid('mpm-race');
    const { result } = await run(mpm(15_00, id, { currency: 'USD', pollIntervalMs: 5_000 }), async (payload, cancel) => {
      expect(parseMerchantQr(payload).accounts).toEqual({});
      expect((await w.pay(payload)).result.reasonText).toBe('approved');
      cancel();
    });
    expect(result).toEqual({ outcome: 'cancelled' });
    expect((await w.balance()).balanceMinor).toBe(before);
    // Asked later, the acquirer's journal says what happened: approved, then reversed (issue 17 §3).
    expect(await terminal.resolve(id)).toMatchObject({ outcome: 'reversed', receipt: { amount: 15_00 }, reversedMs: expect.any(Number) });
  });

  test('invalid CRC, altered amount and malformed payloads: typed errors in the wallet and at the acquirer', async () => {
    const w = await wallet('wallet-cny');
    const { result } = await run(mpm(5_00), async (payload, cancel) => {
      const badCrc = payload.slice(0, -4) + (payload.endsWith('0000') ? '0001' : '0000');
      let err: unknown;
      try { await w.pay(badCrc); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(QrError);
      expect((err as QrError).code).toBe('CRC_INVALID');
      await expect(w.payUnchecked(badCrc)).rejects.toMatchObject({ http: 400, qrError: 'CRC_INVALID' });
      // A well-formed code with a valid CRC but another amount is not the order's.
      const altered = generateMerchantQr({ ...parseMerchantQr(payload), amount: '0.01' });
      await expect(w.pay(altered)).rejects.toMatchObject({ http: 400, qrError: 'INVALID_FIELD' });
      const garbage = '0002010102115299' + '6304';
      await expect(w.payUnchecked(garbage + crcHex(garbage))).rejects.toMatchObject({ http: 400, qrError: 'MALFORMED' });
      await expect(new SimWallet(be.url, 'not-a-real-wallet-token-at-all').pay(payload)).rejects.toBeInstanceOf(WalletError);
      cancel();
    });
    expect(result.outcome).toBe('cancelled');
  });

  test('expired: not paid in time → failed QR_EXPIRED, and the wallet is refused', async () => {
    let shown = '';
    const { result } = await run(mpm(7_00, ctid('mpm-exp'), { timeoutMs: 10_000 }), (payload) => {
      shown = payload;
      skewMs += 11_000; // the acquirer's clock passes the order's expiry
    });
    expect(result).toMatchObject({ outcome: 'failed', code: 'QR_EXPIRED' });
    expect((result as { remedy: string }).remedy).toBeTruthy();
    await expect((await wallet('wallet-cny')).pay(shown)).rejects.toMatchObject({ http: 409, message: expect.stringContaining('expired') });
  });
});

const cpm = (code: string, amount: number, id = ctid('cpm')): QrPaymentRequest => ({ mode: 'consumer-presented', code, amount, currency: 'CNY', clientTransactionId: id });

describe('consumer-presented QR', () => {
  test('approved with the wallet\'s one-time CPM code; idempotent retry; the code replayed under a new id is refused', async () => {
    const w = await wallet('wallet-cny');
    const before = (await w.balance()).balanceMinor;
    const code = await w.paymentCode();
    const id = ctid('cpm-ok');
    const { result, events } = await run(cpm(code.cpm, 66_60, id));
    expect(events.map((e) => e.type)).toEqual(['processing']);
    expect(result.outcome).toBe('approved');
    if (result.outcome !== 'approved') return;
    expect(result.receipt).toMatchObject({ amount: 66_60, maskedPan: '623501******0001', qr: 'consumer-presented', responseCode: '00' });
    expect(JSON.stringify(result)).not.toContain(code.code);
    expect((await w.balance()).balanceMinor).toBe(before - 66_60);

    expect((await run(cpm(code.cpm, 66_60, id))).result).toEqual(result);
    expect((await w.balance()).balanceMinor).toBe(before - 66_60);

    const replay = await run(cpm(code.cpm, 66_60));
    expect(replay.result).toMatchObject({ outcome: 'declined', reason: 'CODE_USED' });
    const bare = await run(cpm(code.code, 1_00));
    expect(bare.result).toMatchObject({ outcome: 'declined', reason: 'CODE_USED' });
    expect((await w.balance()).balanceMinor).toBe(before - 66_60);
  });

  test('a code laid out as EMV QRCPS CPM example B.2 (AID and label in 61, PAN in 62, cryptogram in 64) is approved; 63 takes precedence over 64', async () => {
    const w = await wallet('wallet-cny');
    // The wallet's own code (61 { 4F, 50, 5A, 63 { 9F26, 9F27 } }) taken apart and laid out again.
    const parts = async () => {
      const nodes = decodeTlv(Buffer.from((await w.paymentCode()).cpm, 'base64'));
      return { aid: toHex(findTag(nodes, '4F')!.value), pan: toHex(findTag(nodes, '5A')!.value), ac: toHex(findTag(nodes, '9F26')!.value) };
    };
    const label = Buffer.from('TrustTap Wallet').toString('hex');
    const b2 = (p: { aid: string; pan: string }, inner: TlvEntry[], common: TlvEntry[]) => Buffer.from(encodeTlv([
      ['85', Buffer.from('CPV01').toString('hex')],
      ['61', [['4F', 'A0000000031010'], ['50', Buffer.from('Visa').toString('hex')]]],
      ['61', [['4F', p.aid], ['50', label], ...inner]],
      ['62', [['5A', p.pan], ['64', common]]],
    ])).toString('base64');
    const one = await parts();
    expect((await run(cpm(b2(one, [], [['9F26', one.ac], ['9F27', '80']]), 2_00))).result).toMatchObject({ outcome: 'approved', receipt: { maskedPan: '623501******0001', qr: 'consumer-presented' } });
    const two = await parts();
    const wrong = 'FFFFFFFFFFFFFFFF';
    expect((await run(cpm(b2(two, [['63', [['9F26', wrong]]]], [['9F26', two.ac]]), 2_00))).result).toMatchObject({ outcome: 'declined', reason: 'UNKNOWN_CARD' });
    expect((await run(cpm(b2(two, [['63', [['9F26', two.ac]]]], [['9F26', wrong]]), 2_00))).result).toMatchObject({ outcome: 'approved' });
  });

  test('the 19-digit form of a fresh code is approved', async () => {
    const w = await wallet('wallet-cny');
    const code = await w.paymentCode();
    expect(code.code).toMatch(/^62\d{17}$/);
    expect((await run(cpm(code.code, 3_00))).result.outcome).toBe('approved');
  });

  test('insufficient funds: declined, and the code is used up', async () => {
    const w = await wallet('wallet-low');
    const code = await w.paymentCode();
    expect((await run(cpm(code.cpm, 99_00))).result).toMatchObject({ outcome: 'declined', reason: 'INSUFFICIENT_FUNDS' });
    expect((await run(cpm(code.cpm, 1_00))).result).toMatchObject({ outcome: 'declined', reason: 'CODE_USED' });
  });

  test('malformed codes are typed failures before anything is sent; an unknown code is declined', async () => {
    expect((await run(cpm('not base64!', 1_00))).result).toMatchObject({ outcome: 'failed', code: 'QR_INVALID', qrError: 'BASE64_INVALID' });
    const wrongPfi = Buffer.from(encodeTlv([['85', '4350563032']])).toString('base64');
    expect((await run(cpm(wrongPfi, 1_00))).result).toMatchObject({ outcome: 'failed', code: 'QR_INVALID', qrError: 'VERSION_UNSUPPORTED' });
    expect((await run(cpm('6200000000000000000', 1_00))).result).toMatchObject({ outcome: 'declined', reason: 'UNKNOWN_CARD' });
  });

  test('a lost answer is result-unknown; resolve() gives the journaled approval, charged once', async () => {
    const w = await wallet('wallet-cny');
    const before = (await w.balance()).balanceMinor;
    const code = await w.paymentCode();
    const id = ctid('cpm-lost');
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const res = await realFetch(input, init);
      if (String(input).endsWith('/v1/device/qr-authorize')) { await res.arrayBuffer(); throw new TypeError('fetch failed: connection reset'); }
      return res;
    }) as typeof fetch;
    let r: PaymentResult;
    try {
      r = (await run(cpm(code.cpm, 12_00, id))).result;
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(r).toMatchObject({ outcome: 'result-unknown', clientTransactionId: id });
    expect(await terminal.resolve(id)).toMatchObject({ outcome: 'approved', receipt: { amount: 12_00 } });
    expect((await run(cpm(code.cpm, 12_00, id))).result.outcome).toBe('approved');
    expect((await w.balance()).balanceMinor).toBe(before - 12_00);
  });
});

describe('trusttap demo --qr', () => {
  async function demo(...args: string[]): Promise<Record<string, any>> {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((x: unknown) => { lines.push(String(x)); });
    let code: number;
    try {
      code = await runDemo([...args, '--json']);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]);
    expect(code).toBe(r.outcome === 'approved' ? 0 : 1); // exit 0 only for an approval
    return r;
  }

  test.each([
    ['merchant', 'wallet-cny', 'approved', 'APPROVED', ['qr-displayed']],
    ['consumer', 'wallet-cny', 'approved', 'APPROVED', ['processing']],
    ['consumer', 'wallet-low', 'declined', 'INSUFFICIENT_FUNDS', ['processing']],
  ])('--qr %s --wallet %s → %s (%s)', async (mode, walletId, outcome, reason, events) => {
    const r = await demo('--qr', mode, '--wallet', walletId, '--amount', '88.00');
    expect(r).toMatchObject({ outcome, reason, qr: mode, wallet: walletId, events, application: 'QR wallet' });
    expect(r.maskedPan).toMatch(/^623501\*+\d{4}$/);
  });

  test('usage errors exit 2', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await runDemo(['--qr', 'moon'])).toBe(2);
      expect(await runDemo(['--qr', 'merchant', '--scenario', 'wrong-pin'])).toBe(2);
      expect(await runDemo(['--qr', 'merchant', '--wallet', 'nobody'])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});
