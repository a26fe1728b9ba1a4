// `trusttap verify-evidence FILE --manifest build/manifest.json [--key PUBLIC.pem] [--nonce HEX]
// [--device-key HEX] [--json]`: verifies a saved evidence blob (an encoded SignedEvidence, binary
// or hex) offline: its signature, its manifest hash against the signed manifest, every TA hash,
// the boot state and the REE signals. Exit 0 when every check passes, 1 otherwise, 2 on usage.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { verifyEvidenceOffline } from '../../backend/attestation/offline.ts';
import { DEV_MANIFEST_PUBLIC_KEY } from '../../tee/loader/from-build.ts';

export const summary = 'verify a saved evidence blob offline: verify-evidence FILE --manifest build/manifest.json [--key PEM] [--nonce HEX] [--json]';

const USAGE = 'usage: trusttap verify-evidence FILE --manifest build/manifest.json [--key PUBLIC.pem] [--nonce HEX] [--device-key HEX] [--json]\n' +
  '  FILE       an encoded trusttap.attest.v1.SignedEvidence (binary, or hex text)\n' +
  '  --manifest manifest.json of the build (manifest.sig is read next to it)\n' +
  '  --key      trusted Ed25519 manifest key (default: $TRUSTTAP_MANIFEST_KEY, else the DEVELOPMENT key)';

export async function run(args: string[]): Promise<number> {
  let file: string | undefined, manifest: string | undefined, key: string | undefined, nonce: string | undefined, deviceKey: string | undefined, json = false;
  for (let i = 0; i < args.length; i++) {
    const x = args[i];
    const val = () => { const v = args[++i]; if (v === undefined) throw new Error(`${x} needs a value`); return v; };
    try {
      if (x === '--json') json = true;
      else if (x === '--manifest') manifest = val();
      else if (x === '--key') key = val();
      else if (x === '--nonce') nonce = val();
      else if (x === '--device-key') deviceKey = val();
      else if (!x.startsWith('-') && !file) file = x;
      else throw new Error(`unexpected argument ${x}`);
    } catch (e) {
      console.error(`trusttap verify-evidence: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
  }
  if (!file || !manifest) {
    console.error(USAGE);
    return 2;
  }
  let blob: Buffer, manifestBytes: Buffer, keyPem: Buffer;
  try {
    blob = readFileSync(file);
    const text = blob.toString('latin1').trim();
    if (/^([0-9a-fA-F]{2})+$/.test(text)) blob = Buffer.from(text, 'hex');
    manifestBytes = readFileSync(manifest);
    keyPem = readFileSync(key ?? process.env.TRUSTTAP_MANIFEST_KEY ?? DEV_MANIFEST_PUBLIC_KEY);
  } catch (e) {
    console.error(`trusttap verify-evidence: ${(e as Error).message}`);
    return 2;
  }
  const sigPath = join(dirname(manifest), 'manifest.sig');
  const report = verifyEvidenceOffline({
    signedEvidence: blob, manifest: manifestBytes, manifestSignature: existsSync(sigPath) ? readFileSync(sigPath, 'utf8') : null,
    trustedKeyPem: keyPem, nonce: nonce ? Buffer.from(nonce, 'hex') : undefined, deviceKey: deviceKey ? Buffer.from(deviceKey, 'hex') : undefined,
  });
  if (json) {
    const ev = report.evidence;
    console.log(JSON.stringify({
      ok: report.ok, checks: report.checks,
      nonce: ev ? Buffer.from(ev.nonce).toString('hex') : null,
      devicePublicKey: ev ? Buffer.from(ev.devicePublicKey).toString('hex') : null,
      runtimeVersion: ev?.measurements?.runtimeVersion ?? null,
      ree: ev?.ree ?? null,
    }, null, 2));
  } else {
    for (const c of report.checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(20)} ${c.detail}`);
    console.log(report.ok ? 'evidence verified' : 'evidence NOT verified');
  }
  return report.ok ? 0 : 1;
}
