// The TAs run on AssemblyScript's two-colour collector (asconfig.json runtime "minimal"), which
// frees nothing until it is asked: ta/lib/entry.ts collects as each entry point returns. Each TA
// may grow to its 1 MiB (16 pages); here every TA answers 48 commands of 60 KiB each (2.8 MiB of
// request copies, plus the error reasons of an unknown command) in one session, which it can only
// do if what each command left behind is freed.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeRuntime, loadTaImages } from '../../tee/index.ts';
import { Status } from '../../proto/status.ts';

const NAMES = ['keystore', 'pinpad', 'txsign', 'attest'];
const big = new Uint8Array(60 * 1024).fill(0x5a);

describe('TA memory across commands', () => {
  let rt: TeeRuntime;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tt-tamem-'));
    rt = await TeeRuntime.start({ tas: loadTaImages({ only: NAMES }).images, dataDir: dir });
  }, 120_000);
  afterAll(() => { rt?.shutdown(); rmSync(dir, { recursive: true, force: true }); });

  test.each(NAMES)('%s answers 48 large commands in one session', (name) => {
    const open = rt.openSession({ name });
    expect(open.status).toBe(Status.SUCCESS);
    for (let i = 0; i < 24; i++) {
      expect(rt.invoke(open.session!, 0, big).status).toBe(Status.SUCCESS); // PING copies the request too
      const unknown = rt.invoke(open.session!, 0x7fff, big);
      expect(unknown.status).not.toBe(Status.ERROR_TARGET_DEAD);
      expect(unknown.message).toMatch(/command/);
    }
    expect(rt.closeSession(open.session!).status).toBe(Status.SUCCESS);
  }, 120_000);
});
