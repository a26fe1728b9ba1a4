// The C host against the Node table, and the kit against deliberately broken C hosts.
//  - `tt-host --abi-table` prints the C host's import table; it must equal tee/abi/table.ts
//    (names, signatures, debug-only flags): a function added to one runtime and not the other
//    fails here.
//  - A C host built with -DBROKEN_BOUNDS (tee.random skips its pointer check) and one built with
//    -DBROKEN_SIGNATURE (ecc_sign declared with a wrong signature) must be caught by the kit's
//    own assertions.
import { describe, test, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostAbi, debugOnlyImports } from '../../tee/abi/table.ts';
import { formatSignature } from '../../tee/loader/imports.ts';
import { TeeContext } from '../../ree/tee-client/index.ts';
import { Status } from '../../proto/status.ts';
import { buildHost } from '../../tee-c/build.ts';
import { cHostFactory } from './c-host.ts';
import { onCHost } from './c-host-gate.ts';
import { probeImages, expectTeeError } from '../../conformance/index.ts';

const table = (variant: Parameters<typeof buildHost>[0]) =>
  execFileSync(buildHost(variant), ['--abi-table'], { encoding: 'utf8' }).trim().split('\n').sort();
const nodeTable = () => hostAbi.map((f) => `${f.module}.${f.name} ${formatSignature(f.params, f.results)}${debugOnlyImports.has(`${f.module}.${f.name}`) ? ' debug' : ''}`).sort();

await onCHost('C host vs the host ABI table', () => describe('C host vs the host ABI table', () => {
  test('the C host implements exactly the functions and signatures of tee/abi/table.ts', () => {
    expect(table('release')).toEqual(nodeTable());
  });

  test('a C host with a wrong signature is caught: its table differs, and the kit cannot load the probe TA', async () => {
    const broken = table('broken-signature');
    expect(broken).not.toEqual(nodeTable());
    expect(broken.find((l) => l.startsWith('tee.ecc_sign '))).toBe('tee.ecc_sign (i32, i32, i32, i32) -> i32');
    const f = cHostFactory({ variant: 'broken-signature' });
    await expect(f.start(await probeImages(), mkdtempSync(join(tmpdir(), 'tt-broken-')))).rejects.toThrow(/BAD_IMPORT_SIGNATURE: import tee\.ecc_sign/);
  });

  test('a C host that skips one pointer check fails the kit\'s out-of-bounds cases for it', async () => {
    const f = cHostFactory({ variant: 'broken-bounds' });
    // The kit's check for OOB case 22 (tee.random with a length past the end) and case 0 (a
    // pointer past the end): TARGET_DEAD expected; the broken host lets the write through
    // (corrupting memory or crashing the host), so the kit's assertion fails.
    for (const which of [22, 0]) {
      const rt = await f.start(await probeImages(), mkdtempSync(join(tmpdir(), 'tt-broken-')));
      const ctx = await TeeContext.initialize(rt.transport);
      try {
        const s = await ctx.openSession('probe');
        await expect(expectTeeError(s.invoke(3, Uint8Array.of(which)), Status.ERROR_TARGET_DEAD)).rejects.toThrow();
      } finally {
        await rt.close().catch(() => undefined);
      }
    }
  });
}));
