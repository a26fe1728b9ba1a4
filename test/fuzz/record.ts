// The fuzzers' seeds (issue 17 §8): one real session recorded at its two boundaries — every
// request the client API sent into the TEE (TA, command, payload) and every HTTP request the
// terminal and the back office sent to the back end — on a fresh device and back end: enrolment,
// attestation, a payment above the CVM limit with the PIN typed on the trusted keypad, one below
// it, a status query. Kept in memory only (never written: the payloads hold a PAN).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { startRuntimeFromBuild, InProcessTeeDriver, loadTaImages, ScriptedUiProvider, enterPin } from '../../tee/index.ts';
import type { TeeTransport } from '../../common/tee-transport.ts';
import { simulatedDevice } from '../../sim/oem/index.ts';
import { DEMO_CARDS } from '../../sim/demo-cards.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { Terminal } from '../../ree/terminal/index.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { Admin, startTestBackend, a } from '../backend/harness.ts';
import { TEST_WALLETS } from '../../backend/issuer-sim/wallet.ts';

export interface TeeSeed { ta: string; command: number; payload: Uint8Array }
export interface HttpSeed { method: string; path: string; body: Uint8Array; admin: boolean }
export interface Recording {
  tee: TeeSeed[];
  http: HttpSeed[];
  /** A copy of the device's data directory after the session (provisioned, keys injected). */
  deviceDir: string;
  /** A copy of the back end's data directory after the session (the device enrolled). */
  backendDir: string;
  /** The enrolled device's id (admin routes name it). */
  deviceId: string;
  dispose(): void;
}

const v1 = trusttap.tee.v1;

/** Records the TEE requests crossing a transport: sessions are mapped to their TA by the answer
 * to OpenSession. */
class RecordingTee implements TeeTransport {
  readonly seeds: TeeSeed[] = [];
  private readonly sessions = new Map<number, string>();
  constructor(private readonly inner: TeeTransport, private readonly names: Map<string, string>) {}
  async exchange(request: Uint8Array): Promise<Uint8Array> {
    const req = v1.ClientRequest.decode(request);
    const answer = await this.inner.exchange(request);
    if (req.openSession) {
      const res = v1.ClientResponse.decode(answer);
      const ta = req.openSession.name || this.names.get(Buffer.from(req.openSession.uuid ?? []).toString('hex')) || '?';
      if (!res.status) this.sessions.set(res.session ?? 0, ta);
    } else if (req.invoke) {
      const ta = this.sessions.get(req.invoke.session ?? 0);
      if (ta) this.seeds.push({ ta, command: req.invoke.command ?? 0, payload: Uint8Array.from(req.invoke.payload ?? []) });
    }
    return answer;
  }
}

export async function recordSession(): Promise<Recording> {
  const work = mkdtempSync(join(tmpdir(), 'tt-fuzz-rec-'));
  const be = await startTestBackend({ dataDir: join(work, 'backend') });
  const http: HttpSeed[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.origin === new URL(be.url).origin) {
      const body = init?.body ? new Uint8Array(init.body as ArrayBufferLike | Uint8Array as Uint8Array) : new Uint8Array(0);
      http.push({ method: init?.method ?? 'GET', path: url.pathname, body: Uint8Array.from(body), admin: /^\/v1\/admin\//.test(url.pathname) });
    }
    return realFetch(input, init);
  }) as typeof fetch;
  const device = simulatedDevice(join(work, 'device'));
  const person = new ScriptedUiProvider();
  const rt = await startRuntimeFromBuild({ dataDir: join(work, 'device'), bootState: device.bootState, ui: { standard: person } });
  const names = new Map(loadTaImages().images.map((i) => [Buffer.from(i.uuid.replace(/-/g, ''), 'hex').toString('hex'), i.name]));
  const tee = new RecordingTee(new InProcessTeeDriver(rt), names);
  const card = DEMO_CARDS.unionpay!;
  const nfc = new InProcessTransport(card.make());
  const health = () => ({
    rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false,
    deviceId: 'fuzz-recording', ipAddress: '127.0.0.1', location: { latitude: 31.23, longitude: 121.47, accuracyM: 25 }, osVersion: 'Android 14', appVersion: '0.1.0',
  });
  const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
  let deviceId = '';
  try {
    const terminal = await Terminal.open({ tee, backendUrl: be.url, health, nfc, kernelConfig: config });
    const admin = new Admin(be);
    const t = await admin.createTerminal('M-FUZZ-0001', 'TFUZZREC');
    deviceId = t.deviceId;
    await terminal.enroll(t.activationCode);
    await terminal.prepare();
    for (const amount of [1288_00, 25_00]) {
      if (amount > 1000_00) person.enqueue(enterPin(card.pin));
      const p = terminal.startPayment({ amount, currency: 'CNY', clientTransactionId: `fuzz-rec-${amount}` });
      for await (const e of p.events) {
        if (e.type === 'card-requested') setTimeout(() => nfc.tap(), 1);
        if (e.type === 'card-read') nfc.remove();
      }
      const r = await p.result;
      if (r.outcome !== 'approved') throw new Error(`the recorded payment was not approved: ${JSON.stringify(r)}`);
    }
    await admin.device(deviceId);
    await admin.history(deviceId);
    await admin.req('GET', '/v1/admin/policy');
    await admin.req('POST', '/v1/admin/wallets/login', trusttap.payment.v1.WalletLoginRequest.encode({ accountId: TEST_WALLETS[0]!.id }).finish());
    await admin.setState(deviceId, a.DeviceState.DEVICE_STATE_ACTIVE, 'fuzz recording');
    await realFetch(`${be.url}/v1/keys`).then((r) => r.arrayBuffer());
    http.push({ method: 'GET', path: '/v1/keys', body: new Uint8Array(0), admin: false });
    await terminal.close();
  } finally {
    globalThis.fetch = realFetch;
    rt.shutdown();
    await be.close();
  }
  const deviceDir = join(work, 'device-copy'), backendDir = join(work, 'backend-copy');
  cpSync(join(work, 'device'), deviceDir, { recursive: true });
  cpSync(join(work, 'backend'), backendDir, { recursive: true });
  return { tee: tee.seeds, http, deviceDir, backendDir, deviceId, dispose: () => rmSync(work, { recursive: true, force: true }) };
}
