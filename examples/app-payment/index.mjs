// App developer: one contactless payment through the app API, from Terminal.open() to the
// result, with the package's simulators standing in for what a real phone and acquirer provide:
//   the phone's TEE      -> the reference runtime (trusttap/runtime) on the shipped signed TAs,
//                           provisioned by the test OEM (trusttap/sim)
//   the trusted keypad   -> a scripted person who types the PIN on the TEE's trusted UI
//   the NFC antenna      -> an in-process transport to a simulated UnionPay card
//   the acquirer         -> the back end (trusttap/backend) on loopback, SQLite in a temp folder
// Run: node index.mjs   (exit 0 when approved, 1 otherwise)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Terminal, InProcessTransport, loadSignedConfig, formatAmount, currencyOf } from 'trusttap';
import { FileStateStore } from 'trusttap/node';
import { startRuntimeFromBuild, InProcessTeeDriver, ScriptedUiProvider, enterPin, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from 'trusttap/runtime';
import { startBackend } from 'trusttap/backend';
import { UnionPayCardSim, simulatedDevice, TEST_OEM_ROOT, signedTestTerminalConfig, testConfigSigningKey } from 'trusttap/sim';

const work = mkdtempSync(join(tmpdir(), 'trusttap-app-payment-'));
let backend, runtime, terminal;
let approved = false;
try {
  // The acquirer: trusts the test OEM root (device certificates) and the shipped manifest
  // (which TA hashes a genuine device runs), signed with the package's DEVELOPMENT key.
  backend = await startBackend({
    dataDir: join(work, 'backend'), port: 0, sweepIntervalMs: 0,
    oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
    manifestKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY),
    manifests: [{
      bytes: new Uint8Array(readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json'))),
      signature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8'),
    }],
  });
  console.log(`acquirer on ${backend.url}`);

  // The phone's TEE: provisioned (simulated OEM key in its fuses), verified boot, the signed TAs
  // loaded from the package, a person at the trusted keypad.
  const deviceDir = join(work, 'device');
  const device = simulatedDevice(deviceDir);
  const person = new ScriptedUiProvider();
  runtime = await startRuntimeFromBuild({ dataDir: deviceDir, bootState: device.bootState, ui: { standard: person } });

  const nfc = new InProcessTransport(new UnionPayCardSim());
  terminal = await Terminal.open({
    tee: new InProcessTeeDriver(runtime),              // a TeeTransport; on a phone, its TEE client
    backendUrl: backend.url,
    health: () => ({                                    // what the platform's root/hook/emulator checks report
      rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false,
      deviceId: 'example-android-id', ipAddress: '127.0.0.1', osVersion: 'Android 14', appVersion: '1.0.0',
    }),
    kernelConfig: loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey),
    nfc,                                                // a CardTransport; on a phone, over IsoDep
    state: new FileStateStore(join(work, 'terminal.json')),
  });

  const cap = await terminal.checkCapability();
  console.log(`capability: contactless ${cap.contactless}, PIN ${cap.pin}, keys in ${cap.keyStorage}${cap.missing.length ? `, missing: ${cap.missing.map((m) => m.what).join(', ')}` : ''}`);

  // The merchant portal creates the terminal and shows its activation code; the merchant types it.
  const { activationCode } = await backend.service.createTerminal('M-EXAMPLE-01', 'T0000001');
  const enrolled = await terminal.enroll(activationCode);
  console.log(`enrolled as ${enrolled.deviceId} (merchant ${enrolled.merchantId}, terminal ${enrolled.terminalId})`);

  const ready = await terminal.prepare();
  console.log(`prepared: ${ready.transactionsLeft} DUKPT transactions left`);

  // CNY 1288.00 is above the card's no-CVM limit: the customer types the PIN on the trusted keypad.
  person.enqueue(enterPin('1234'));
  const amount = 128800, currency = 'CNY';
  const payment = terminal.startPayment({ amount, currency, clientTransactionId: `example-${Date.now()}` });
  console.log(`payment of ${formatAmount(amount, currencyOf(currency))}:`);
  for await (const e of payment.events) {
    console.log(`  event ${e.type}`);
    if (e.type === 'card-requested') setTimeout(() => nfc.tap(), 10); // the customer taps the card
    if (e.type === 'card-read') nfc.remove();                          // ... and takes it away
  }
  const result = await payment.result;
  approved = result.outcome === 'approved';
  if (result.outcome === 'approved' || result.outcome === 'declined') {
    const r = result.receipt;
    console.log(`result: ${result.outcome.toUpperCase()}${result.outcome === 'declined' ? ` ${result.reason}` : ''} — ${r.application} ${r.maskedPan}, auth ${r.authorizationCode || '-'}, ref ${r.transactionReference}`);
  } else if (result.outcome === 'failed') {
    console.log(`result: FAILED ${result.code}: ${result.message} (remedy: ${result.remedy})`);
  } else {
    console.log(`result: ${result.outcome.toUpperCase()}`);
  }
} finally {
  await terminal?.close().catch(() => undefined);
  runtime?.shutdown();
  await backend?.close();
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = approved ? 0 : 1;
