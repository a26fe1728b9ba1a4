// A phone as the demo runs one (cli/commands/demo.ts), for tests that need real payments against
// a running back end: the reference TEE with the signed TAs, a scripted person at the trusted
// keypad, a simulated UnionPay card at the antenna, the app API (Terminal) enrolled on a terminal
// made with the admin token. One device for the phone's life, so the back office can act on it.
import { join } from 'node:path';
import { startRuntimeFromBuild, InProcessTeeDriver, ScriptedUiProvider, enterPin, type TeeRuntime } from '../../tee/index.ts';
import { simulatedDevice } from '../../sim/oem/index.ts';
import { DEMO_CARDS } from '../../sim/demo-cards.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { Terminal, type PaymentResult } from '../../ree/terminal/index.ts';
import type { HealthSnapshot } from '../../ree/attestation/collector.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

export interface Phone {
  deviceId: string;
  terminal: Terminal;
  health: HealthSnapshot;
  /** A CNY payment (default 1288.00: online PIN, typed by the scripted person; a wrong one
   * — each digit plus one — when asked, which the issuer declines INCORRECT_PIN). */
  pay(clientTransactionId: string, o?: { amountMinor?: number; wrongPin?: boolean }): Promise<PaymentResult>;
  close(): Promise<void>;
}

export const phoneHealth = (): HealthSnapshot => ({
  rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false,
  deviceId: 'test-phone-android-id', ipAddress: '198.51.100.7', location: { latitude: 22.5431, longitude: 114.0579, accuracyM: 30 },
  osVersion: 'Android 14', appVersion: '0.1.0',
});

export async function startPhone(o: { backendUrl: string; adminToken: string; dataDir: string; merchantId: string; terminalId: string }): Promise<Phone> {
  const card = DEMO_CARDS.unionpay;
  const person = new ScriptedUiProvider();
  const device = simulatedDevice(join(o.dataDir, 'device'));
  const runtime: TeeRuntime = await startRuntimeFromBuild({ dataDir: join(o.dataDir, 'device'), bootState: device.bootState, ui: { standard: person } });
  const nfc = new InProcessTransport(card.make());
  const health = phoneHealth();
  const terminal = await Terminal.open({
    tee: new InProcessTeeDriver(runtime), backendUrl: o.backendUrl, health: () => health, nfc,
    kernelConfig: loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey),
  });
  const r = await fetch(`${o.backendUrl}/v1/admin/terminals`, {
    method: 'POST', headers: { authorization: `Bearer ${o.adminToken}`, 'content-type': 'application/x-protobuf' },
    body: Buffer.from(trusttap.attest.v1.CreateTerminalRequest.encode({ merchantId: o.merchantId, terminalId: o.terminalId }).finish()),
  });
  if (r.status !== 201) throw new Error(`create terminal: HTTP ${r.status} ${r.headers.get('x-trusttap-error')}`);
  const code = trusttap.attest.v1.CreateTerminalResponse.decode(new Uint8Array(await r.arrayBuffer())).activationCode;
  const { deviceId } = await terminal.enroll(code);
  await terminal.prepare();
  return {
    deviceId, terminal, health,
    async pay(clientTransactionId, { amountMinor = 1288_00, wrongPin = false } = {}) {
      const pin = wrongPin ? card.pin.split('').map((d) => String((Number(d) + 1) % 10)).join('') : card.pin;
      if (person.pending === 0) person.enqueue(enterPin(pin)); // a refused payment leaves its PIN unused
      const payment = terminal.startPayment({ amount: amountMinor, currency: 'CNY', clientTransactionId });
      for await (const e of payment.events) {
        if (e.type === 'card-requested') setTimeout(() => nfc.tap(), 10); // the customer taps
        if (e.type === 'card-read') nfc.remove();
      }
      return payment.result;
    },
    async close() {
      await terminal.close().catch(() => undefined);
      runtime.shutdown();
    },
  };
}
