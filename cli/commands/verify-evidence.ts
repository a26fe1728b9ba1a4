// `trusttap verify-evidence FILE --manifest build/manifest.json [--key PUBLIC.pem] [--nonce HEX]
// [--device-key HEX] [--json]`: verifies a saved evidence blob (an encoded SignedEvidence, binary
// or hex) offline: its signature, its manifest hash against the signed manifest, every TA hash,
// the boot state and the REE signals. Exit 0 when every check passes, 1 otherwise, 2 on usage.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { verifyEvidenceOffline } from '../../backend/attestation/offline.ts';
import { DEV_MANIFEST_PUBLIC_KEY } from '../../tee/loader/from-build.ts';
import { defineCommand, readUserFile, UsageError, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'verify-evidence', summary: 'verify a saved evidence blob offline: verify-evidence FILE --manifest build/manifest.json [--key PEM] [--nonce HEX] [--json]',
  synopsis: 'FILE --manifest build/manifest.json [options]',
  positionals: { max: 1, help: [['FILE', 'an encoded trusttap.attest.v1.SignedEvidence (binary, or hex text)']] },
  options: [
    { name: 'manifest', value: 'FILE', help: 'manifest.json of the build (manifest.sig is read next to it); required' },
    { name: 'key', value: 'PUBLIC.pem', help: 'trusted Ed25519 manifest key', default: '$TRUSTTAP_MANIFEST_KEY, else the DEVELOPMENT key' },
    { name: 'nonce', value: 'HEX', help: 'the nonce the evidence must answer' },
    { name: 'device-key', value: 'HEX', help: 'the device public key the evidence must be signed with' },
    { name: 'json', help: 'the report as JSON' },
  ],
  exitCodes: [[0, 'every check passed'], [1, 'a check failed'], [2, 'usage error, or a file cannot be read']],
};
export const summary = spec.summary;

const HEX = /^([0-9a-fA-F]{2})*$/;

export const run = defineCommand(spec, async ({ opts, flags, positionals }) => {
  const [file] = positionals;
  const { manifest, key, nonce } = opts;
  const deviceKey = opts['device-key'];
  if (!file) throw new UsageError('which evidence file? (trusttap verify-evidence FILE --manifest build/manifest.json)');
  if (!manifest) throw new UsageError('--manifest FILE is required');
  if (nonce && !HEX.test(nonce)) throw new UsageError('--nonce must be hex');
  if (deviceKey && !HEX.test(deviceKey)) throw new UsageError('--device-key must be hex');
  const json = flags.has('json');
  let blob = await readUserFile(file, 'evidence file');
  const text = blob.toString('latin1').trim();
  if (/^([0-9a-fA-F]{2})+$/.test(text)) blob = Buffer.from(text, 'hex');
  const manifestBytes = await readUserFile(manifest, 'manifest');
  const keyPem = await readUserFile(key ?? process.env.TRUSTTAP_MANIFEST_KEY ?? DEV_MANIFEST_PUBLIC_KEY, 'manifest key');
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
});
