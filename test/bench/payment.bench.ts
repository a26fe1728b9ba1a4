// End-to-end figures (issue 7): tap-to-outcome for a purchase without and with PIN through the
// app API — kernel, trusted PIN entry (the scripted person answers at once), txsign, the back end
// on loopback with its durable journal — from "card presented" to the result.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend } from '../../backend/http/server.ts';
import { startRuntimeFromBuild, InProcessTeeDriver, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from '../../tee/index.ts';
import { ScriptedUiProvider, enterPin } from '../../tee/tui/scripted.ts';
import { TEST_OEM_ROOT, simulatedDevice } from '../../sim/oem/index.ts';
import { DEMO_CARDS } from '../../sim/demo-cards.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { Terminal } from '../../ree/terminal/index.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { median, type Section } from './measure.ts';

export async function run(): Promise<Section> {
  const work = mkdtempSync(join(tmpdir(), 'tt-bench-pay-'));
  const be = await startBackend({
    dataDir: join(work, 'backend'), port: 0, sweepIntervalMs: 0,
    oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
    manifestKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY),
    manifests: [{ bytes: new Uint8Array(readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json'))), signature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8') }],
  });
  const device = simulatedDevice(join(work, 'device'));
  const person = new ScriptedUiProvider();
  const runtime = await startRuntimeFromBuild({ dataDir: join(work, 'device'), bootState: device.bootState, ui: { standard: person } });
  // Mastercard in EUR: CVM from EUR 50.00, so a PIN payment stays small against the test balance.
  const card = DEMO_CARDS.mastercard.make();
  const nfc = new InProcessTransport(card);
  const health = { rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false, deviceId: 'bench', ipAddress: '127.0.0.1', location: { latitude: 31.23, longitude: 121.47, accuracyM: 20 }, osVersion: 'Android 14', appVersion: '0.1.0' };
  const terminal = await Terminal.open({ tee: new InProcessTeeDriver(runtime), backendUrl: be.url, health: () => health, kernelConfig: loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey), nfc });
  const r = await fetch(`${be.url}/v1/admin/terminals`, { method: 'POST', headers: { authorization: `Bearer ${be.adminToken}` }, body: Buffer.from(trusttap.attest.v1.CreateTerminalRequest.encode({ merchantId: 'M-BENCH', terminalId: 'TBENCH01' }).finish()) });
  await terminal.enroll(trusttap.attest.v1.CreateTerminalResponse.decode(new Uint8Array(await r.arrayBuffer())).activationCode);
  await terminal.prepare();

  let seq = 0;
  async function tap(amount: number, withPin: boolean): Promise<number> {
    if (withPin) person.enqueue(enterPin(DEMO_CARDS.mastercard.pin));
    const p = terminal.startPayment({ amount, currency: 'EUR', clientTransactionId: `bench-${seq++}` });
    let t0 = 0;
    for await (const e of p.events) {
      if (e.type === 'card-requested') nfc.tap();
      if (e.type === 'card-presented') t0 = performance.now();
      if (e.type === 'card-read') nfc.remove();
    }
    const res = await p.result;
    if (res.outcome !== 'approved') throw new Error(`bench payment not approved: ${JSON.stringify(res)}`);
    return performance.now() - t0;
  }
  const noPin: number[] = [], pin: number[] = [];
  for (let i = 0; i < 3; i++) { await tap(10_00, false); await tap(60_00, true); } // warm up
  for (let i = 0; i < 25; i++) { noPin.push(await tap(10_00, false)); pin.push(await tap(60_00, true)); }
  await terminal.close();
  runtime.shutdown();
  await be.close();
  const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
  return {
    title: 'End to end (app API → TEE → back end on loopback)',
    figures: [
      { name: 'tap to outcome, no CVM (Mastercard EUR 10.00), median', value: median(noPin), unit: 'ms' },
      { name: 'tap to outcome, no CVM, p90', value: p90(noPin), unit: 'ms' },
      { name: 'tap to outcome, online PIN (EUR 60.00), person excluded, median', value: median(pin), unit: 'ms' },
      { name: 'tap to outcome, online PIN, p90', value: p90(pin), unit: 'ms' },
    ],
    notes: ['includes the fresh attestation the pinpad requires before each PIN entry, the txsign TA, fsync\'d sealed state and the back end\'s fsync\'d journal'],
  };
}
