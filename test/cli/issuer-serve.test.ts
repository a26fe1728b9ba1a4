// `trusttap issuer-serve` (issue 16 §1): the simulated issuer as an acquirer's upstream, on a back
// end's state directory; it answers the upstream message (a malformed one HTTP 400, a card it does
// not know a typed decline) and stops on SIGTERM with exit 0. The payments through it are in
// test/backend/upstream.test.ts.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRepository } from '../../backend/store/sqlite.ts';
import { SoftwareHsm } from '../../backend/hsm/software-hsm.ts';
import { BIN, ROOT } from './cli.ts';

const started: ChildProcess[] = [];
afterAll(() => { for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); });

describe('trusttap issuer-serve', () => {
  it('serves the upstream message on a back end\'s state directory, then stops on SIGTERM', async () => {
    const data = mkdtempSync(join(tmpdir(), 'tt-issuer-serve-'));
    const repo = new SqliteRepository(join(data, 'backend.db'));
    await SoftwareHsm.open(join(data, 'hsm'), repo); // as `trusttap serve --data` leaves it: the HSM's master key and service keys
    await repo.close();
    const p = spawn(process.execPath, [BIN, 'issuer-serve', '--port', '0', '--data', data], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(p);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '', err = '';
      p.stdout!.on('data', (b) => { out += b; const m = /listening on (http:\/\/\S+)/.exec(out); if (m) resolve(m[1]); });
      p.stderr!.on('data', (b) => { err += b; });
      p.on('exit', (code) => reject(new Error(`issuer-serve exited ${code} before listening: ${err}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/authorize$/);
    expect((await fetch(url, { method: 'POST', body: '{"version":1}' })).status).toBe(400);
    const msg = {
      version: 1, acquirerId: 'bank-u', merchantId: 'M', terminalId: 'T', clientTransactionId: 'c1', reference: 'TT1', type: 'purchase', amountMinor: 100,
      currency: '156', maskedPan: '999999******0000', card: { pan: '9999990000000000', psn: '01', expiry: '3012', iccData: '9f36020001' }, timeMs: 0,
    };
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(msg) });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ version: 1, approved: false, responseCode: '14', reason: 'DECLINE_REASON_UNKNOWN_CARD' });
    const code = await new Promise<number | null>((resolve) => { p.on('exit', resolve); p.kill('SIGTERM'); });
    expect(code).toBe(0);
  }, 120_000);

  it('usage and state errors', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'issuer-serve', ...args], { cwd: ROOT, encoding: 'utf8' });
    expect(run([]).status).toBe(2);
    expect(run(['--data', '/tmp', '--port', '70000']).status).toBe(2);
    const none = run(['--data', mkdtempSync(join(tmpdir(), 'tt-issuer-serve-none-'))]);
    expect([none.status, none.stderr]).toEqual([1, expect.stringMatching(/^trusttap issuer-serve: no back-end database in /)]);
  });
});
