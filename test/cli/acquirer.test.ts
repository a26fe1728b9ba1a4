// `trusttap acquirer` (issue 16 §1): acquirers written into a back end's database; the
// back-office token printed once and stored only as SHA-256; bad ids and limits refused with a
// clear line; operators bound to an acquirer.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRepository } from '../../backend/store/sqlite.ts';
import { tokenHashOf } from '../../backend/tenants.ts';
import { BIN, ROOT, STACK } from './cli.ts';

const run = (args: string[], o: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input: o.input ?? '', env: { ...process.env, ...o.env }, encoding: 'utf8' });

describe('trusttap acquirer', () => {
  let data = '';
  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'tt-acquirer-'));
    await new SqliteRepository(join(data, 'backend.db')).close(); // as `trusttap serve --data` leaves it
  });

  it('adds an acquirer with a new back-office token (printed once, stored as SHA-256), lists it, changes its limits', async () => {
    const r = run(['acquirer', 'add', 'bank-b', '--name', 'Bank B', '--new-token', '--data', data]);
    expect(r.status, r.stderr).toBe(0);
    const token = /back-office token \(shown once\): (\S+)/.exec(r.stdout)?.[1] ?? '';
    expect(token.length).toBeGreaterThanOrEqual(32);
    let repo = new SqliteRepository(join(data, 'backend.db'));
    const row = (await repo.getAcquirer('bank-b'))!;
    await repo.close();
    expect(row).toMatchObject({ name: 'Bank B', route: 'issuer-sim', limits: '', adminTokenHash: tokenHashOf(token) });
    expect(readFileSync(join(data, 'backend.db')).includes(Buffer.from(token))).toBe(false);
    const limits = '[{"currency":"156","transactionLimit":500000,"cvmRequiredLimit":100001}]';
    const l = run(['acquirer', 'add', 'bank-b', '--limits', limits, '--data', data]);
    expect([l.status, l.stdout]).toEqual([0, 'acquirer bank-b (bank-b) saved: route issuer-sim, limits its own\n']);
    repo = new SqliteRepository(join(data, 'backend.db'));
    expect((await repo.getAcquirer('bank-b'))?.adminTokenHash).toBe(tokenHashOf(token)); // kept without --new-token
    await repo.close();
    const list = run(['acquirer', 'list', '--data', data]);
    expect(list.stdout).toMatch(/^bank-b\s+issuer-sim\s+token\s+bank-b$/m);
    expect(list.stdout).toMatch(/^default\s+issuer-sim\s+no token\s+default$/m);
  });

  it('puts an acquirer on the upstream route with its URL (issue 16 §1)', async () => {
    const r = run(['acquirer', 'add', 'bank-u', '--route', 'upstream', '--upstream-url', 'http://127.0.0.1:8090/v1/authorize', '--data', data]);
    expect([r.status, r.stdout], r.stderr).toEqual([0, 'acquirer bank-u (bank-u) saved: route upstream http://127.0.0.1:8090/v1/authorize, limits the back end\'s\n']);
    const repo = new SqliteRepository(join(data, 'backend.db'));
    expect(await repo.getAcquirer('bank-u')).toMatchObject({ route: 'upstream', upstreamUrl: 'http://127.0.0.1:8090/v1/authorize' });
    await repo.close();
    expect(run(['acquirer', 'list', '--data', data]).stdout).toMatch(/^bank-u\s+upstream\s+no token\s+bank-u$/m);
  });

  it.each([
    [['add', 'bank-v', '--route', 'upstream'], 'the upstream route needs an upstream URL (--upstream-url URL)'],
    [['add', 'bank-v', '--route', 'upstream', '--upstream-url', 'ftp://x/y'], 'the upstream URL must be http:// or https://'],
    [['add', 'bank-v', '--upstream-url', 'http://x/y'], 'an upstream URL is only for the upstream route'],
    [['add', 'Bank B'], 'an acquirer id is 2..32 characters of [a-z0-9-], starting with a letter or digit'],
    [['add', 'bank-c', '--limits', '[{"currency":"156","transactionLimit":100,"cvmRequiredLimit":200}]'], 'cvmRequiredLimit of 156 is above its transactionLimit'],
  ])('acquirer %j is refused with one line, exit 1', (args, message) => {
    const r = run(['acquirer', ...args, '--data', data]);
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toBe(`trusttap acquirer: ${message}\n`);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('usage errors: exit 2', () => {
    expect(run(['acquirer', 'add', 'bank-d']).status).toBe(2); // no --data or --db
    expect(run(['acquirer', 'remove', 'bank-b', '--data', data]).status).toBe(2);
    expect(run(['acquirer', 'add', 'bank-d', '--route', 'moon', '--data', data]).status).toBe(2);
  });

  it('an operator belongs to an acquirer that exists', async () => {
    const ok = run(['operator', 'add', 'bob', '--role', 'viewer', '--acquirer', 'bank-b', '--data', data], { input: 'bob-viewer-password\n' });
    expect([ok.status, ok.stdout]).toEqual([0, 'operator bob (viewer, acquirer bank-b) saved\n']);
    const no = run(['operator', 'add', 'eve', '--role', 'viewer', '--acquirer', 'nobody', '--data', data], { input: 'eve-viewer-password\n' });
    expect(no.status).toBe(1);
    expect(no.stderr).toMatch(/no acquirer nobody/);
  });
});
