// `trusttap audit build [DIR | --dir DIR] [--key PUBLIC.pem] [--json]`: the security team's view of
// a build (build/audit.ts). Exit 0 only when the manifest signature verifies with the trusted key,
// every file matches its hash, every import is in the host ABI with the declared signature, no
// release TA imports a debug-only function, and every TA has the TA ABI exports and a memory cap.
import { auditBuild, formatAudit } from '../../build/audit.ts';
import { DEV_PUBLIC_KEY_PATH, BUILD_DIR } from '../../build/paths.ts';
import { defineCommand, readUserFile, UsageError, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'audit', summary: 'audit a build: audit build [--dir build] [--key PUBLIC.pem] [--json]; non-zero on any finding',
  synopsis: 'build [DIR | --dir DIR] [--key PUBLIC.pem] [--json]',
  positionals: { max: 2, help: [['build', 'what to audit (the only subject so far)'], ['DIR', 'the build directory (default build/)']] },
  options: [
    { name: 'dir', value: 'DIR', help: 'the build directory', default: 'build/' },
    { name: 'key', value: 'PUBLIC.pem', help: 'trusted Ed25519 public key', default: '$TRUSTTAP_PUBLIC_KEY, else the DEVELOPMENT key build/keys/dev-signing-key.pub.pem' },
    { name: 'json', help: 'the report as JSON' },
  ],
  exitCodes: [[0, 'every check passed'], [1, 'a finding (signature, hash, import, export or memory cap)'], [2, 'usage error, or the key cannot be read']],
};
export const summary = spec.summary;

export const run = defineCommand(spec, async ({ opts, flags, positionals }) => {
  const [what, positionalDir] = positionals;
  if (what !== 'build') throw new UsageError(what ? `cannot audit '${what}' (only 'build')` : 'what to audit? (trusttap audit build)');
  if (positionalDir && opts.dir) throw new UsageError('the directory is given twice');
  const dir = positionalDir ?? opts.dir ?? BUILD_DIR;
  let keyPath = opts.key ?? process.env.TRUSTTAP_PUBLIC_KEY;
  const keyNote = keyPath ? '' : '(the DEVELOPMENT key; pass --key for a release key)';
  keyPath ??= DEV_PUBLIC_KEY_PATH;
  const pem = (await readUserFile(keyPath, 'trusted key')).toString('utf8');
  const report = auditBuild(dir, pem);
  console.log(flags.has('json') ? JSON.stringify(report, null, 2) : formatAudit(report, { keyNote }));
  return report.ok ? 0 : 1;
});
