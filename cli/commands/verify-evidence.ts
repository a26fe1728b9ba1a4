// `trusttap verify-evidence FILE --manifest build/manifest.json [--key PUBLIC.pem] [--nonce HEX]
// [--device-key HEX] [--oem-root PEM --chain FILE] [--json]`: verifies a saved evidence blob (an
// encoded SignedEvidence, binary or hex) offline: its signature, its manifest hash against the
// signed manifest, every TA hash, the boot state and the REE signals. Which device made it is
// proven only with --oem-root (a root the auditor trusts) and the device's OEM chain: the
// signature is then checked with the key the chain certifies; without a root the output says the
// device identity is unproven. Exit 0 when every check passes, 1 otherwise, 2 on usage.
import { readFileSync, existsSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
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
    { name: 'oem-root', value: 'FILE', help: 'the OEM root public key you trust (P-256: PEM, or the 65-byte point in hex); proves which device made the evidence' },
    { name: 'chain', value: 'FILE', help: 'the device\'s OEM certificate chain (an encoded trusttap.attest.v1.CertificateChain, binary or hex, as the attest TA\'s GET_IDENTITY returns it); with --oem-root' },
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
  const oemRootFile = opts['oem-root'];
  const chainFile = opts.chain;
  if (oemRootFile && !chainFile) throw new UsageError('--oem-root needs --chain FILE (the device\'s OEM certificate chain)');
  if (chainFile && !oemRootFile) throw new UsageError('--chain needs --oem-root FILE (the OEM root you trust)');
  const json = flags.has('json');
  const blob = hexOrBinary(await readUserFile(file, 'evidence file'));
  const manifestBytes = await readUserFile(manifest, 'manifest');
  const keyPem = await readUserFile(key ?? process.env.TRUSTTAP_MANIFEST_KEY ?? DEV_MANIFEST_PUBLIC_KEY, 'manifest key');
  const sigPath = join(dirname(manifest), 'manifest.sig');
  const oemRoot = oemRootFile ? parseP256PublicKey(await readUserFile(oemRootFile, 'OEM root'), oemRootFile) : undefined;
  const oemChain = chainFile ? hexOrBinary(await readUserFile(chainFile, 'OEM chain')) : undefined;
  const report = verifyEvidenceOffline({
    signedEvidence: blob, manifest: manifestBytes, manifestSignature: existsSync(sigPath) ? readFileSync(sigPath, 'utf8') : null,
    trustedKeyPem: keyPem, nonce: nonce ? Buffer.from(nonce, 'hex') : undefined, deviceKey: deviceKey ? Buffer.from(deviceKey, 'hex') : undefined,
    oemRoot, oemChain,
  });
  const identity = report.identity === 'proven'
    ? 'device identity: proven — the OEM chain leads from the given root to the key that signed the evidence'
    : oemRoot
      ? 'device identity: NOT proven — the OEM chain does not lead from the given root to the key that signed the evidence'
      : 'device identity: UNPROVEN — no --oem-root given: the signature was checked with the key the evidence names itself, which shows only that whoever holds that key signed it, not which device did';
  if (json) {
    const ev = report.evidence;
    console.log(JSON.stringify({
      ok: report.ok, identity: report.identity, checks: report.checks,
      nonce: ev ? Buffer.from(ev.nonce).toString('hex') : null,
      devicePublicKey: ev ? Buffer.from(ev.devicePublicKey).toString('hex') : null,
      runtimeVersion: ev?.measurements?.runtimeVersion ?? null,
      ree: ev?.ree ?? null,
    }, null, 2));
  } else {
    for (const c of report.checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(20)} ${c.detail}`);
    console.log(identity);
    console.log(report.ok ? 'evidence verified' : 'evidence NOT verified');
  }
  return report.ok ? 0 : 1;
});

/** A file's bytes, or the bytes its text spells in hex. */
function hexOrBinary(b: Buffer): Buffer {
  const text = b.toString('latin1').trim();
  return /^([0-9a-fA-F]{2})+$/.test(text) ? Buffer.from(text, 'hex') : b;
}

/** An uncompressed P-256 point from a PEM public key (SPKI) or 65 bytes of hex. */
function parseP256PublicKey(b: Buffer, file: string): Uint8Array {
  const text = b.toString('latin1').trim();
  if (/^04[0-9a-fA-F]{128}$/.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  try {
    const jwk = createPublicKey(text).export({ format: 'jwk' });
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new Error('not a P-256 key');
    return new Uint8Array(Buffer.concat([Buffer.of(4), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]));
  } catch (e) {
    throw new UsageError(`--oem-root ${file}: not a P-256 public key (PEM, or the 65-byte point in hex): ${(e as Error).message}`);
  }
}
