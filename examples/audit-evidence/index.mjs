// Security team: obtain attestation evidence from a device and verify it offline against the
// signed manifest — the same checks as `trusttap verify-evidence`, no back end involved.
//   the device -> the reference TEE runtime (trusttap/runtime) on the shipped signed TAs, provisioned
//                 by the test OEM (trusttap/sim); on a real phone, its TEE behind a TeeTransport
//   evidence   -> asked of the attest TA through the TEE Client API (trusttap/tee-client) with a
//                 fresh nonce: measurements the runtime took (TA hashes, manifest hash, boot state)
//                 plus the REE's health signals, signed by the device identity key
//   verifying  -> verifyEvidenceOffline (trusttap/backend) against manifest.json + manifest.sig and
//                 the trusted manifest key (here the package's DEVELOPMENT key)
// Run: node index.mjs [OUT.bin]   (writes the evidence to OUT.bin, default a temp file;
//      exit 0 when every check passes, 1 otherwise)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HealthCollector } from 'trusttap';
import { TeeContext, AttestClient, encodeSignedEvidence } from 'trusttap/tee-client';
import { startRuntimeFromBuild, InProcessTeeDriver, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from 'trusttap/runtime';
import { verifyEvidenceOffline } from 'trusttap/backend';
import { simulatedDevice } from 'trusttap/sim';

const hex = (b) => Buffer.from(b).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'trusttap-audit-'));
const out = resolve(process.argv[2] ?? join(work, 'evidence.bin'));
let runtime;
let ok = false;
try {
  // 1. The device: provisioned, verified boot, running the TAs of the shipped build.
  const deviceDir = join(work, 'device');
  const device = simulatedDevice(deviceDir);
  runtime = await startRuntimeFromBuild({ dataDir: deviceDir, bootState: device.bootState });

  // 2. Through the TEE Client API, as an app on the phone would: the device key, then evidence
  //    bound to the auditor's nonce.
  const ctx = await TeeContext.initialize(new InProcessTeeDriver(runtime));
  const attest = await AttestClient.open(ctx);
  const identity = await attest.getIdentity();
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const ree = new HealthCollector({ deviceId: 'audited-phone', osVersion: 'Android 14', appVersion: '1.0.0' }).collect();
  const evidence = await attest.getEvidence(nonce, ree);
  await attest.close();
  writeFileSync(out, encodeSignedEvidence(evidence));
  console.log(`evidence written to ${out} (${evidence.evidence.length} bytes signed by device key ${hex(identity.publicKey).slice(0, 16)}…)`);

  // 3. Offline, from the file: signature, nonce, device key, manifest signature and hash, every
  //    TA hash against the manifest, boot state, REE signals.
  const manifestPath = join(DEFAULT_BUILD_DIR, 'manifest.json');
  const report = verifyEvidenceOffline({
    signedEvidence: readFileSync(out),
    manifest: readFileSync(manifestPath),
    manifestSignature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8'),
    trustedKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY),
    nonce,
    deviceKey: identity.publicKey,
  });
  for (const c of report.checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(20)} ${c.detail}`);
  console.log(report.ok ? 'evidence verified' : 'evidence NOT verified');
  console.log(`the same from the command line: npx trusttap verify-evidence ${out} --manifest ${manifestPath} --nonce ${hex(nonce)}`);
  ok = report.ok;
} finally {
  runtime?.shutdown();
  // The evidence file stays when the caller named it.
  if (process.argv[2]) rmSync(join(work, 'device'), { recursive: true, force: true });
  else rmSync(work, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
