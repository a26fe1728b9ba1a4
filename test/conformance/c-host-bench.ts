// The keystore fixture's runtime hook (test/keystore/fixture.ts setBenchRuntime) for the C host:
// the test-hooks build of tt-host with the fixture's LCG random stream, every draw logged (so a
// test knows the keys a TA drew), and an REE clock read from a file the fixture writes whenever a
// test sets now.ms. The LCG continues across restarts, as the reference fixture's does.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchRuntime } from '../keystore/fixture.ts';
import { startCHost } from './c-host.ts';

/** LCG state after `bytes` draws from `seed` (the fixture's recordingRandom). */
function lcgAfter(seed: number, bytes: number): number {
  let x = seed >>> 0;
  for (let i = 0; i < bytes; i++) x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  return x;
}

export async function cBenchRuntime(tas: Parameters<typeof startCHost>[0], dataDir: string, seed: number, now: { ms: number }): Promise<BenchRuntime> {
  const side = mkdtempSync(join(tmpdir(), 'tt-ksc-'));
  const randomLog = join(side, 'random.log');
  const timeFile = join(side, 'ree-time');
  let ms = now.ms;
  writeFileSync(timeFile, String(ms));
  Object.defineProperty(now, 'ms', { get: () => ms, set: (v: number) => { ms = v; writeFileSync(timeFile, String(v)); }, enumerable: true });
  const drawn = (): Uint8Array[] => existsSync(randomLog)
    ? readFileSync(randomLog, 'utf8').split('\n').filter(Boolean).map((h) => new Uint8Array(Buffer.from(h, 'hex')))
    : [];
  const start = () => {
    const state = lcgAfter(seed, drawn().reduce((n, d) => n + d.length, 0));
    return startCHost(tas, dataDir, { extraArgs: ['--test-random-lcg', String(state), '--test-random-log', randomLog, '--test-ree-time-file', timeFile] });
  };
  let t = await start();
  return {
    transport: { exchange: (b) => t.exchange(b) },
    drawn,
    async restart() { await t.close(); t = await start(); },
    async close() { await t.close(); },
  };
}

