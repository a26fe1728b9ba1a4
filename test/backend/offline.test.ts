// Offline store-and-forward through the app API and the back end (issue 14 §2): a phone (the
// reference TEE with the signed TAs, the Terminal API, a simulated card) reaches the back end
// through a gate that can refuse connections, as a dead network does. Back end down → payments
// queue within the signed offline policy's limits (each refused past its limit; never with a
// PIN); an app restart keeps the queue; back end up → the queue goes up in order, is journaled
// once, and the app hears of it; a decline after the fact is a risk event on the device; an
// altered queue and a whole-device restore are detected. Each limit's exact boundary on the
// TEE's clock is test/txsign/offline.test.ts.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntimeFromBuild, InProcessTeeDriver, type TeeRuntime } from '../../tee/index.ts';
import { simulatedDevice } from '../../sim/oem/index.ts';
import { DEMO_CARDS } from '../../sim/demo-cards.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import type { CardTransport } from '../../ree/nfc/transport.ts';
import { Terminal, type PaymentResult, type PaymentEvent } from '../../ree/terminal/index.ts';
import type { OfflineUploadEvent } from '../../ree/terminal/types.ts';
import { FileStateStore } from '../../ree/node/state.ts';
import { TxsignClient } from '../../ree/tee-client/index.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { phoneHealth } from '../helpers/phone.ts';
import { startTestBackend, Admin, tid, tableRows, a, type Backend } from './harness.ts';

const pay = trusttap.payment.v1;
const TXSIGN_DIR = '7a1c5e007e5f4c0d9a117857a7e5f160';

/** A TCP gate in front of the back end: down() refuses connections (and cuts open ones), as a
 * phone without a network sees it; up() lets them through again, on the same port. */
class Gate {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: number) {}
  async up(): Promise<void> {
    this.server = createServer((s) => {
      const b = connect(this.target, '127.0.0.1');
      this.sockets.add(s).add(b);
      const drop = () => { s.destroy(); b.destroy(); this.sockets.delete(s); this.sockets.delete(b); };
      s.on('error', drop).on('close', drop);
      b.on('error', drop).on('close', drop);
      s.pipe(b).pipe(s);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}

/** The card at the antenna can be swapped (the Terminal keeps its one transport). */
class CardSlot implements CardTransport {
  constructor(public current: InProcessTransport) {}
  transceive(c: Uint8Array) { return this.current.transceive(c); }
  onCardEvent(l: Parameters<CardTransport['onCardEvent']>[0]) { return this.current.onCardEvent(l); }
}

describe('offline store-and-forward through the app API and the back end', () => {
  let be: Backend;
  let admin: Admin;
  let gate: Gate;
  const dir = mkdtempSync(join(tmpdir(), 'tt-offline-'));
  const store = new FileStateStore(join(dir, 'terminal.json'));
  const slot = new CardSlot(new InProcessTransport(DEMO_CARDS.unionpay.make()));
  let runtime: TeeRuntime;
  let terminal: Terminal;
  let deviceId = '';
  const uploads: OfflineUploadEvent[] = [];

  /** Starts (or restarts) the app and its TEE on the same directories. */
  const open = async () => {
    const device = simulatedDevice(join(dir, 'device'));
    runtime = await startRuntimeFromBuild({ dataDir: join(dir, 'device'), bootState: device.bootState });
    terminal = await Terminal.open({
      tee: new InProcessTeeDriver(runtime), backendUrl: `http://127.0.0.1:${gate.port}`, health: phoneHealth, nfc: slot, state: store,
      kernelConfig: loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey),
    });
    terminal.onOfflineUpload((e) => uploads.push(e));
  };
  const close = async () => { await terminal.close(); runtime.shutdown(); };
  const payment = async (amount: number, clientTransactionId: string): Promise<{ result: PaymentResult; events: PaymentEvent['type'][] }> => {
    const p = terminal.startPayment({ amount, currency: 'CNY', clientTransactionId, timeoutMs: 10_000 });
    const events: PaymentEvent['type'][] = [];
    for await (const e of p.events) {
      events.push(e.type);
      if (e.type === 'card-requested') setTimeout(() => slot.current.tap(), 10);
      if (e.type === 'card-read') slot.current.remove();
    }
    return { result: await p.result, events };
  };
  const pay1 = async (amount: number, id: string) => (await payment(amount, id)).result;
  const failure = (r: PaymentResult) => (r.outcome === 'failed' ? `${r.code}: ${r.message}` : r.outcome);
  const journal = async () => (await tableRows(be, `SELECT client_transaction_id AS id, record_counter AS c, response FROM payments WHERE device_id = '${deviceId}' ORDER BY record_counter`))
    .map((r) => ({ id: r.id as string, counter: Number(r.c), answer: pay.AuthorizeResponse.decode(r.response as Uint8Array) }));

  beforeAll(async () => {
    be = await startTestBackend();
    admin = new Admin(be);
    await admin.putPolicy({
      offlineLimits: [{ currency: '156', perTransactionLimitMinor: 200_00, cumulativeLimitMinor: 500_00 }], offlineMaxCount: 3, offlineMaxAgeMs: 3_600_000,
    });
    gate = new Gate(be.port);
    await gate.up();
    await open();
    const t = await admin.createTerminal('M-OFFLINE', tid());
    deviceId = (await terminal.enroll(t.activationCode)).deviceId;
    await terminal.prepare();
  }, 180_000);
  afterAll(async () => {
    await close().catch(() => undefined);
    await gate?.down();
    await be?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('back end down: payments within the limits are approved offline and queued; past each limit refused; never with a PIN', async () => {
    await gate.down();
    const first = await pay1(200_00, 'off-1'); // exactly the per-payment limit
    expect(first.outcome, failure(first)).toBe('approved-offline');
    if (first.outcome !== 'approved-offline') return;
    expect(first.receipt).toMatchObject({ offline: true, responseCode: 'Y3', authorizationCode: '', amount: 200_00, currency: 'CNY', cvm: 'NO_CVM', clientTransactionId: 'off-1' });
    expect(first.receipt.maskedPan).toMatch(/^\d{6}\*+\d{4}$/);
    expect(failure(await pay1(200_01, 'off-over'))).toMatch(/^OFFLINE_LIMIT: .*PER_TRANSACTION_LIMIT/);
    expect((await pay1(200_00, 'off-2')).outcome).toBe('approved-offline');
    expect(failure(await pay1(100_01, 'off-sum'))).toMatch(/^OFFLINE_LIMIT: .*CUMULATIVE_LIMIT/); // 500.01 in all
    expect((await pay1(100_00, 'off-3')).outcome).toBe('approved-offline'); // 500.00: exactly the cumulative limit, 3 queued
    expect(failure(await pay1(1_00, 'off-count'))).toMatch(/^OFFLINE_LIMIT: .*MAX_COUNT/);
    // Above the CVM limit the card asks for online PIN: that never goes offline (no PIN is asked).
    const pin = await payment(1288_00, 'off-pin');
    expect(failure(pin.result)).toMatch(/^BACKEND_UNREACHABLE: .*online PIN cannot be taken offline/);
    expect(pin.events).not.toContain('pin-requested');
    expect((await terminal.offlineQueue()).map((r) => [r.clientTransactionId, r.amount])).toEqual([['off-1', 200_00], ['off-2', 200_00], ['off-3', 100_00]]);
    expect((await terminal.resolve('off-2')).outcome).toBe('approved-offline');
  });

  test('an app restart keeps the queue; a retry of a queued id answers that approval without a second tap', async () => {
    await close();
    await open();
    expect((await terminal.offlineQueue()).map((r) => r.clientTransactionId)).toEqual(['off-1', 'off-2', 'off-3']);
    const again = await payment(200_00, 'off-1');
    expect(again.result.outcome).toBe('approved-offline');
    expect(again.events).not.toContain('card-requested');
  });

  test('back end up: the queue goes up in order, is journaled once, the app hears of it; resending changes nothing', async () => {
    const tx = await TxsignClient.open(terminal.ctx);
    const queued = (await tx.offlineStatus()).queue;
    await tx.close();
    await gate.up();
    uploads.length = 0;
    await terminal.prepare();
    expect(uploads).toHaveLength(1);
    expect(uploads[0].remaining).toBe(0);
    expect(uploads[0].results.map((r) => [r.outcome, 'receipt' in r ? r.receipt.clientTransactionId : ''])).toEqual([['approved', 'off-1'], ['approved', 'off-2'], ['approved', 'off-3']]);
    expect(uploads[0].results.every((r) => 'receipt' in r && r.receipt.offline && r.receipt.authorizationCode.length === 6)).toBe(true);
    expect(await terminal.offlineQueue()).toEqual([]);
    const rows = await journal();
    expect(rows.map((r) => r.id)).toEqual(['off-1', 'off-2', 'off-3']);
    expect(rows.every((r) => r.answer.approvedOffline && r.answer.decision === pay.Decision.DECISION_APPROVED)).toBe(true);
    // The same record again (a retried upload): the journaled answer, nothing new.
    const { signed } = await terminal.link.attestNow();
    const resent = await terminal.link.authorize({ signedTransaction: queued[0].signedTransaction, signedToken: a.SignedToken.encode(signed).finish(), cvm: pay.Cvm.CVM_NO_CVM, aid: queued[0].aid });
    expect(resent.transactionReference).toBe(rows[0].answer.transactionReference);
    await terminal.prepare();
    expect(uploads).toHaveLength(1); // nothing queued: no upload
    expect(await journal()).toHaveLength(3);
    const resolved = await terminal.resolve('off-2');
    expect(resolved.outcome === 'approved' && resolved.receipt.offline).toBe(true);
    // Online again: the next payment is authorized online, after the uploaded ones.
    const online = await pay1(50_00, 'on-1');
    expect(online.outcome, failure(online)).toBe('approved');
    expect((await journal()).map((r) => r.id)).toEqual(['off-1', 'off-2', 'off-3', 'on-1']);
  });

  test('a decline after the fact (the issuer refuses an offline approval on upload) is a risk event on the device', async () => {
    const kept = slot.current;
    slot.current = new InProcessTransport(DEMO_CARDS['unionpay-low-balance'].make()); // CNY 20.00 left
    try {
      await gate.down();
      expect((await pay1(150_00, 'off-poor')).outcome).toBe('approved-offline');
      await gate.up();
      uploads.length = 0;
      await terminal.prepare();
      const r = uploads[0].results[0];
      expect(r.outcome === 'declined' && [r.reason, r.receipt.offline]).toEqual(['INSUFFICIENT_FUNDS', true]);
      const history = await admin.history(deviceId);
      expect(history.some((h) => h.kind === 'risk' && /offline payment declined after the fact: off-poor .*INSUFFICIENT_FUNDS/.test(h.detail ?? ''))).toBe(true);
      expect(history.some((h) => h.kind === 'notice' && /^THREAT_ALERT: offline payment declined after the fact/.test(h.detail ?? ''))).toBe(true);
      expect(a.DeviceState[(await admin.device(deviceId)).state]).toBe('DEVICE_STATE_ACTIVE'); // monitoring decides, not this rule
    } finally {
      slot.current = kept;
    }
  });

  test('an altered queue is detected: no payment is taken until it is whole again', async () => {
    await gate.down();
    expect((await pay1(10_00, 'off-alter')).outcome).toBe('approved-offline');
    const file = join(dir, 'device', 'storage', TXSIGN_DIR, 'objects', `${Buffer.from('offline').toString('hex')}.blob`);
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    bad[bad.length - 3] ^= 0x40;
    writeFileSync(file, bad);
    expect(failure(await pay1(10_00, 'off-after-alter'))).toMatch(/^OFFLINE_QUEUE_INVALID: /);
    writeFileSync(file, good);
    await gate.up();
    await terminal.prepare();
    expect((await journal()).some((r) => r.id === 'off-alter')).toBe(true);
  });

  test('a whole-device restore (sealed storage and RPMB) is detected on reconnect: the device is suspended, the replayed queue never journaled', async () => {
    await close();
    const copy = mkdtempSync(join(tmpdir(), 'tt-offline-copy-'));
    cpSync(join(dir, 'device'), copy, { recursive: true });
    await open();
    await gate.down();
    expect((await pay1(10_00, 'off-before-restore')).outcome).toBe('approved-offline');
    await gate.up();
    await terminal.prepare();
    await close();
    rmSync(join(dir, 'device'), { recursive: true, force: true });
    cpSync(copy, join(dir, 'device'), { recursive: true });
    rmSync(copy, { recursive: true, force: true });
    await open();
    await gate.down();
    expect((await pay1(11_00, 'off-after-restore')).outcome).toBe('approved-offline'); // inside the phone nothing can tell
    await gate.up();
    await expect(terminal.prepare()).rejects.toThrow(/rollback|suspend/i);
    const rec = await admin.device(deviceId);
    expect(a.DeviceState[rec.state]).toBe('DEVICE_STATE_SUSPENDED');
    expect(rec.stateReason).toMatch(/rollback/);
    expect((await journal()).some((r) => r.id === 'off-after-restore')).toBe(false);
  });
});
