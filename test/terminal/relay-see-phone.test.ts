// Issue 14 through the app API (ree/terminal) and the back end: a relayed Mastercard card is
// flagged by Kernel 2 relay resistance (simulated clock shared by the card and the kernel), the
// acquirer declines it RELAY_SUSPECTED with a threat alert, and the phone's next attestation
// carries the relay (RRP result, APDU timing anomalies) as health signals: step-up, or suspend
// when the policy says so. HCE and accessibility signals do the same. "See Phone": the wallet's
// first tap ends with the see-phone event, the second tap pays with CDCVM.
import { test, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend, type Backend } from '../../backend/http/server.ts';
import { startRuntimeFromBuild, InProcessTeeDriver, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY, type TeeRuntime } from '../../tee/index.ts';
import { ScriptedUiProvider } from '../../tee/tui/scripted.ts';
import { TEST_OEM_ROOT, simulatedDevice } from '../../sim/oem/index.ts';
import { MastercardCardSim, SimulatedClock } from '../../sim/cards/index.ts';
import { DEMO_CARDS } from '../../sim/demo-cards.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { Terminal, type PaymentEvent } from '../../ree/terminal/index.ts';
import type { HealthSnapshot } from '../../ree/attestation/collector.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { ALL_ACQUIRERS } from '../../backend/store/repository.ts';
import { u64 } from '../../backend/util.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });

async function backend(): Promise<Backend> {
  const be = await startBackend({
    dataDir: mkdtempSync(join(tmpdir(), 'tt-relay-be-')), port: 0, sweepIntervalMs: 0,
    oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
    manifestKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY),
    manifests: [{ bytes: new Uint8Array(readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json'))), signature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8') }],
  });
  cleanup.push(() => be.close().catch(() => undefined));
  return be;
}

let terminals = 0;
async function phone(be: Backend, card: MastercardCardSim, clock: SimulatedClock) {
  const dir = mkdtempSync(join(tmpdir(), 'tt-relay-'));
  const device = simulatedDevice(dir);
  const rt: TeeRuntime = await startRuntimeFromBuild({ dataDir: dir, bootState: device.bootState, ui: { standard: new ScriptedUiProvider() } });
  cleanup.push(() => rt.shutdown());
  const nfc = new InProcessTransport(card);
  const health: HealthSnapshot = {
    rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false,
    deviceId: 'relay-test', ipAddress: '127.0.0.1', location: { latitude: 31.23, longitude: 121.47, accuracyM: 25 }, osVersion: 'Android 14', appVersion: '0.1.0',
  };
  const terminal = await Terminal.open({
    tee: new InProcessTeeDriver(rt), backendUrl: be.url, health: () => health, nfc, clock,
    kernelConfig: loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey),
  });
  cleanup.push(() => terminal.close());
  const res = await fetch(`${be.url}/v1/admin/terminals`, {
    method: 'POST', headers: { authorization: `Bearer ${be.adminToken}`, 'content-type': 'application/x-protobuf' },
    body: Buffer.from(trusttap.attest.v1.CreateTerminalRequest.encode({ merchantId: 'M-RELAY-0001', terminalId: `TRLY${String(++terminals).padStart(4, '0')}` }).finish()),
  });
  const { activationCode } = trusttap.attest.v1.CreateTerminalResponse.decode(new Uint8Array(await res.arrayBuffer()));
  const { deviceId } = await terminal.enroll(activationCode);
  const pay = async (id: string, amount: number, onEvent: (e: PaymentEvent) => void = () => {}) => {
    const payment = terminal.startPayment({ amount, currency: 'CNY', clientTransactionId: id });
    const events: PaymentEvent[] = [];
    for await (const e of payment.events) {
      events.push(e);
      onEvent(e);
      if (e.type === 'card-requested') setTimeout(() => nfc.tap(), 5);
      if (e.type === 'card-read') nfc.remove();
    }
    return { result: await payment.result, events };
  };
  return { terminal, health, deviceId, pay, nfc };
}

const mastercard = (clock: SimulatedClock, addedDelayUs: number) => DEMO_CARDS.mastercard!.make({ relayResistance: { clock, addedDelayUs } }) as MastercardCardSim;

test('an un-relayed Mastercard card: relay resistance passes, approved, the next attestation allows', { timeout: 120_000 }, async () => {
  const be = await backend();
  const clock = new SimulatedClock();
  const p = await phone(be, mastercard(clock, 0), clock);
  const { result } = await p.pay('relay-ok-1', 25_00);
  expect(result.outcome).toBe('approved');
  await expect(p.terminal.prepare()).resolves.toMatchObject({ verdict: 'allow' });
});

test('a relayed card: declined RELAY_SUSPECTED (59), a threat alert, and the next attestation asks for a step-up with the relay signals', { timeout: 120_000 }, async () => {
  const be = await backend();
  const clock = new SimulatedClock();
  const p = await phone(be, mastercard(clock, 150_000), clock);
  const { result } = await p.pay('relay-bad-1', 25_00);
  expect(result).toMatchObject({ outcome: 'declined', reason: 'RELAY_SUSPECTED' });
  expect(result.outcome === 'declined' && result.receipt.responseCode).toBe('59');
  const notices = await be.service.repo.listNotices({ deviceId: p.deviceId, scope: ALL_ACQUIRERS });
  expect(notices.map((n) => `${n.type}: ${n.reason}`).join('\n')).toMatch(/THREAT_ALERT: payment relay-bad-1: suspected relay/);
  // The device must attest again; its evidence says what the phone saw.
  const refused = await p.terminal.prepare().then(() => null, (e: Error) => e.message);
  expect(refused).toMatch(/VERDICT_STEP_UP/);
  expect(refused).toMatch(/step-up: relay suspected: relay resistance time limits exceeded on 1 of 1 card reads/);
  expect(refused).toMatch(/step-up: relay suspected: \d+ APDU round trips over the anomaly threshold \(slowest 1\d\d ms\)/);
  // Reported once: the next attestation starts from zero (and the device is still not suspended).
  await expect(p.terminal.prepare()).resolves.toMatchObject({ verdict: 'allow' });
});

test('with relay_suspend the same relay suspends the device', { timeout: 120_000 }, async () => {
  const be = await backend();
  await be.service.updatePolicy({ ...be.service.currentPolicy(), relaySuspend: true });
  const clock = new SimulatedClock();
  const p = await phone(be, mastercard(clock, 150_000), clock);
  await p.pay('relay-bad-2', 25_00);
  await expect(p.terminal.prepare()).rejects.toThrow(/VERDICT_SUSPEND.*suspend: relay suspected/);
  expect((await be.service.repo.getDevice(p.deviceId))!.state).toBe('suspended');
});

test('with relay_decline off the relayed payment is approved, and the attestation still steps up', { timeout: 120_000 }, async () => {
  const be = await backend();
  await be.service.updatePolicy({ ...be.service.currentPolicy(), relayDecline: false });
  const clock = new SimulatedClock();
  const p = await phone(be, mastercard(clock, 150_000), clock);
  expect((await p.pay('relay-bad-3', 25_00)).result.outcome).toBe('approved');
  await expect(p.terminal.prepare()).rejects.toThrow(/VERDICT_STEP_UP/);
});

test('an HCE payment service or an accessibility service with payment-app access suspends (hce_suspend), or steps up', { timeout: 120_000 }, async () => {
  const be = await backend();
  const clock = new SimulatedClock();
  const p = await phone(be, mastercard(clock, 0), clock);
  p.health.accessibilityPaymentAccess = true;
  await be.service.updatePolicy({ ...be.service.currentPolicy(), hceSuspend: false });
  await expect(p.terminal.prepare()).rejects.toThrow(/VERDICT_STEP_UP.*step-up: an accessibility service can reach the payment app/);
  p.health.accessibilityPaymentAccess = false;
  p.health.hcePaymentService = true;
  await be.service.updatePolicy({ ...be.service.currentPolicy(), hceSuspend: true });
  await expect(p.terminal.prepare()).rejects.toThrow(/VERDICT_SUSPEND.*suspend: another app is registered as an HCE payment service/);
});

test('See Phone: the wallet asks, the app gets see-phone, the second tap is approved with CDCVM', { timeout: 120_000 }, async () => {
  const be = await backend();
  const clock = new SimulatedClock();
  const wallet = DEMO_CARDS['mastercard-wallet']!.make({ relayResistance: { clock } }) as MastercardCardSim;
  const p = await phone(be, wallet, clock);
  await p.terminal.prepare();
  const { result, events } = await p.pay('see-phone-1', 1288_00, (e) => {
    if (e.type === 'see-phone') { wallet.verifyOnDevice(); setTimeout(() => p.nfc.tap(), 5); }
  });
  expect(events.map((e) => e.type)).toEqual(['card-requested', 'card-presented', 'card-read', 'see-phone', 'card-presented', 'card-read', 'processing']);
  expect(events.find((e) => e.type === 'see-phone')).toEqual({ type: 'see-phone', tap: 2 });
  expect(result.outcome).toBe('approved');
  expect(result.outcome === 'approved' && [result.receipt.cvm, result.receipt.maskedPan]).toEqual(['CDCVM', '541333******0442']);
});

test('See Phone with a holder who never verifies: after the restarts, failed TRY_AGAIN saying why; nothing reaches the acquirer', { timeout: 120_000 }, async () => {
  const be = await backend();
  const clock = new SimulatedClock();
  const wallet = DEMO_CARDS['mastercard-wallet']!.make() as MastercardCardSim;
  const p = await phone(be, wallet, clock);
  await p.terminal.prepare();
  const { result, events } = await p.pay('see-phone-2', 1288_00, (e) => { if (e.type === 'see-phone') setTimeout(() => p.nfc.tap(), 5); });
  expect(events.filter((e) => e.type === 'see-phone')).toEqual([{ type: 'see-phone', tap: 2 }, { type: 'see-phone', tap: 3 }]);
  expect(result).toMatchObject({ outcome: 'failed', code: 'TRY_AGAIN', message: 'the cardholder must verify on their phone (SEE_PHONE)' });
  expect(events.map((e) => e.type)).not.toContain('processing');
  expect((await p.terminal.resolve('see-phone-2')).outcome).toBe('failed');
});

// Offline store-and-forward (issue 14 §2) never takes a read the kernel flagged as relayed: with
// the acquirer unreachable, an un-relayed card is approved offline, a relayed one is not.
test.each([
  ['un-relayed', 0, 'approved-offline'],
  ['relayed', 150_000, 'result-unknown'],
] as const)('acquirer unreachable, offline allowed: the %s card → %s', { timeout: 120_000 }, async (_what, delay, outcome) => {
  const be = await backend();
  await be.service.updatePolicy({
    ...be.service.currentPolicy(), offlineLimits: [{ currency: '156', perTransactionLimitMinor: u64(100_00), cumulativeLimitMinor: u64(500_00) }],
    offlineMaxCount: 5, offlineMaxAgeMs: u64(86_400_000), offlinePolicyTtlMs: u64(86_400_000),
  });
  const clock = new SimulatedClock();
  const p = await phone(be, mastercard(clock, delay), clock);
  await p.terminal.prepare(); // brings the signed offline policy
  await be.close();
  const { result } = await p.pay(`relay-offline-${delay}`, 25_00);
  expect(result.outcome).toBe(outcome);
});
