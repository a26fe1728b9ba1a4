// `trusttap audit build [DIR | --dir DIR] [--key PUBLIC.pem] [--json]`: the security team's view of
// a build (build/audit.ts). Exit 0 only when the manifest signature verifies with the trusted key,
// every file matches its hash, every import is in the host ABI with the declared signature, no
// release TA imports a debug-only function, and every TA has the TA ABI exports and a memory cap.
import { readFileSync } from 'node:fs';
import { auditBuild, formatAudit } from '../../build/audit.ts';
import { DEV_PUBLIC_KEY_PATH, BUILD_DIR } from '../../build/paths.ts';

export const summary = 'audit a build: audit build [--dir build] [--key PUBLIC.pem] [--json]; non-zero on any finding';

const USAGE = 'usage: trusttap audit build [DIR | --dir DIR] [--key PUBLIC.pem] [--json]\n' +
  '  --key   trusted Ed25519 public key (default: $TRUSTTAP_PUBLIC_KEY, else the DEVELOPMENT key build/keys/dev-signing-key.pub.pem)';

export async function run(args: string[]): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'build') {
    console.error(USAGE);
    return 2;
  }
  let dir: string | undefined, keyPath: string | undefined, json = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--json') json = true;
    else if ((a === '--dir' || a === '--key') && rest[i + 1] !== undefined) {
      if (a === '--dir') dir = rest[++i]; else keyPath = rest[++i];
    } else if (!a.startsWith('-') && dir === undefined) dir = a;
    else {
      console.error(`trusttap audit: unexpected argument ${a}\n${USAGE}`);
      return 2;
    }
  }
  dir ??= BUILD_DIR;
  keyPath ??= process.env.TRUSTTAP_PUBLIC_KEY;
  const keyNote = keyPath ? '' : '(the DEVELOPMENT key; pass --key for a release key)';
  keyPath ??= DEV_PUBLIC_KEY_PATH;
  let pem: string;
  try {
    pem = readFileSync(keyPath, 'utf8');
  } catch (e) {
    console.error(`trusttap audit: cannot read trusted key ${keyPath}: ${(e as Error).message}`);
    return 2;
  }
  const report = auditBuild(dir, pem);
  console.log(json ? JSON.stringify(report, null, 2) : formatAudit(report, { keyNote }));
  return report.ok ? 0 : 1;
}
