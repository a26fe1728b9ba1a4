// The app API (ree/terminal) as the CLI's users meet it through the demo:
// - checkCapability() tells the truth about PIN entry: the pinpad TA answering is not enough, the
//   TEE must have a trusted UI to draw the keypad on. Without one: pin false with a reason and a
//   remedy, and a payment that needs a PIN fails PIN_ENTRY_FAILED saying why (not TEE_ERROR
//   "restart the app").
// - back-end problems are named as such: BACKEND_UNREACHABLE (no answer), BACKEND_REFUSED (an
//   HTTP error, with its status), not TEE_ERROR.
import { test, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend, type Backend } from '../../backend/http/server.ts';
import { startRuntimeFromBuild, InProcessTeeDriver, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY, type TeeRuntime } from '../../tee/index.ts';
import { ScriptedUiProvider } from '../../tee/tui/scripted.ts';
import { TEST_OEM_ROOT, simulatedDevice } from '../../sim/oem/index.ts';
import { UnionPayCardSim } from '../../sim/cards/index.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { Terminal } from '../../ree/terminal/index.ts';
import { failureOf } from '../../ree/terminal/request.ts';
import { BackendError } from '../../ree/attestation/backend-link.ts';
import { TeeError } from '../../ree/tee-client/index.ts';
import { Status, Origin } from '../../proto/status.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });

async function phone(withTrustedUi: boolean, backendUrl = 'http://127.0.0.1:9', now?: () => number) {
  const dir = mkdtempSync(join(tmpdir(), 'tt-cap-'));
  const device = simulatedDevice(dir);
  const rt: TeeRuntime = await startRuntimeFromBuild({ dataDir: dir, bootState: device.bootState, ...(withTrustedUi ? { ui: { standard: new ScriptedUiProvider() } } : {}) });
  cleanup.push(() => rt.shutdown());
  const nfc = new InProcessTransport(new UnionPayCardSim());
  const health = {
    rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false,
    deviceId: 'cap-test', ipAddress: '127.0.0.1', location: { latitude: 31.23, longitude: 121.47, accuracyM: 25 }, osVersion: 'Android 14', appVersion: '0.1.0',
  };
  const terminal = await Terminal.open({
    tee: new InProcessTeeDriver(rt), backendUrl, health: () => health, nfc,
    kernelConfig: loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey), ...(now ? { now } : {}),
  });
  cleanup.push(() => terminal.close());
  return { terminal, nfc };
}

test('with a trusted UI: pin true, nothing missing about PIN entry', async () => {
  const cap = await (await phone(true)).terminal.checkCapability();
  expect(cap.pin).toBe(true);
  expect(cap.missing.map((m) => m.what)).not.toContain('PIN entry');
});

test('without a trusted UI: pin false, with the reason and a remedy', async () => {
  const cap = await (await phone(false)).terminal.checkCapability();
  expect(cap.pin).toBe(false);
  expect(cap.keyStorage).toBe('tee');
  expect(cap.contactless).toBe(true);
  const m = cap.missing.find((x) => x.what === 'PIN entry');
  expect(m?.reason).toBe('this TEE has no trusted UI to show the PIN keypad on');
  expect(m?.remedy).toMatch(/above the CVM limit .* cannot be taken on this phone/);
});

async function backend(): Promise<Backend> {
  const be = await startBackend({
    dataDir: mkdtempSync(join(tmpdir(), 'tt-cap-be-')), port: 0, sweepIntervalMs: 0,
    oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
    manifestKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY),
    manifests: [{ bytes: new Uint8Array(readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json'))), signature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8') }],
  });
  let closed = false;
  cleanup.push(() => { if (!closed) return be.close(); });
  return { ...be, close: async () => { closed = true; await be.close(); } };
}

async function enrol(be: Backend, terminal: Terminal, terminalId: string): Promise<void> {
  const res = await fetch(`${be.url}/v1/admin/terminals`, {
    method: 'POST', headers: { authorization: `Bearer ${be.adminToken}`, 'content-type': 'application/x-protobuf' },
    body: Buffer.from(trusttap.attest.v1.CreateTerminalRequest.encode({ merchantId: 'M-CAP-0001', terminalId }).finish()),
  });
  const { activationCode } = trusttap.attest.v1.CreateTerminalResponse.decode(new Uint8Array(await res.arrayBuffer()));
  await terminal.enroll(activationCode);
}

test('without a trusted UI a payment that needs a PIN fails PIN_ENTRY_FAILED, saying why', async () => {
  const be = await backend();
  const { terminal, nfc } = await phone(false, be.url);
  await enrol(be, terminal, 'TCAP0001');
  const payment = terminal.startPayment({ amount: 1288_00, currency: 'CNY', clientTransactionId: 'cap-pin-1' });
  const events: string[] = [];
  for await (const e of payment.events) {
    events.push(e.type);
    if (e.type === 'card-requested') nfc.tap();
  }
  const r = await payment.result;
  expect(r).toMatchObject({ outcome: 'failed', code: 'PIN_ENTRY_FAILED', message: 'this TEE has no trusted UI to show the PIN keypad on' });
  expect(events).toContain('pin-requested');
  expect(events).not.toContain('processing');
});

test('the back end gone after enrolment: the payment fails BACKEND_UNREACHABLE before any tap', async () => {
  const be = await backend();
  let skew = 0;
  const { terminal } = await phone(true, be.url, () => Date.now() + skew);
  await enrol(be, terminal, 'TCAP0002');
  await be.close();
  skew = 3_600_000; // the verdict token has expired: the terminal must attest again, and cannot
  const payment = terminal.startPayment({ amount: 10_00, currency: 'CNY', clientTransactionId: 'cap-net-1' });
  const events: string[] = [];
  for await (const e of payment.events) events.push(e.type);
  const r = await payment.result;
  expect(r).toMatchObject({ outcome: 'failed', code: 'BACKEND_UNREACHABLE' });
  expect(r.outcome === 'failed' && r.message).toMatch(/^the acquirer is unreachable \(ECONNREFUSED\)$/);
  expect(r.outcome === 'failed' && r.httpStatus).toBeFalsy();
  expect(events).toEqual([]);
});

test('each back-end or TEE error has its own code; an HTTP error carries its status', () => {
  expect(failureOf(new BackendError(503, 0, 'overloaded'))).toMatchObject({ code: 'BACKEND_REFUSED', httpStatus: 503, message: 'the acquirer answered HTTP 503: overloaded' });
  expect(failureOf(new BackendError(409, 7, 'replayed'))?.message).toMatch(/^the acquirer answered HTTP 409 \S+: replayed$/);
  expect(failureOf(new BackendError(403, 0, 'suspended'))).toMatchObject({ code: 'DEVICE_NOT_TRUSTED', httpStatus: 403 });
  expect(failureOf(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })))
    .toMatchObject({ code: 'BACKEND_UNREACHABLE', message: 'the acquirer is unreachable (ECONNREFUSED)' });
  expect(failureOf(new TeeError(Status.ERROR_COMMUNICATION, Origin.COMMS, 'gone'))).toMatchObject({ code: 'TEE_ERROR' });
  expect(failureOf(new RangeError('a bug'))).toBeNull();
});

// Issue 17 §3: the app learns a payment's current state. Approved, then reversed: resolve() and a
// payment started again under the same id both say 'reversed' (no money moved), never 'approved'.
test('a reversed approval resolves to reversed, and a restart under its id does not charge again', async () => {
  const be = await backend();
  const { terminal, nfc } = await phone(true, be.url);
  await enrol(be, terminal, 'TCAP0002');
  const pay = async () => {
    const payment = terminal.startPayment({ amount: 12_00, currency: 'CNY', clientTransactionId: 'cap-rev-1' });
    for await (const e of payment.events) {
      if (e.type === 'card-requested') nfc.tap();
      if (e.type === 'card-read') nfc.remove();
    }
    return payment.result;
  };
  const first = await pay();
  expect(first).toMatchObject({ outcome: 'approved' });
  expect(await terminal.resolve('cap-rev-1')).toMatchObject({ outcome: 'approved' });
  expect(await terminal.reverse('cap-rev-1')).toBe(true);
  const ref = first.outcome === 'approved' ? first.receipt.transactionReference : '';
  expect(await terminal.resolve('cap-rev-1')).toMatchObject({ outcome: 'reversed', receipt: { transactionReference: ref, amount: 12_00 }, reversedMs: expect.any(Number) });
  expect(await pay()).toMatchObject({ outcome: 'reversed', receipt: { transactionReference: ref } });
});
