// `trusttap operator`: accounts of the operators' console written into a back end's database.
// The password comes from standard input or the environment, never argv, and is never printed.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRepository } from '../../backend/store/sqlite.ts';
import { verifyPassword } from '../../backend/console/accounts.ts';
import { BIN, ROOT, STACK } from './cli.ts';

const run = (args: string[], o: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(process.execPath, [BIN, 'operator', ...args], { cwd: ROOT, input: o.input ?? '', env: { ...process.env, ...o.env }, encoding: 'utf8' });

describe('trusttap operator', () => {
  let data = '';
  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'tt-operator-'));
    await new SqliteRepository(join(data, 'backend.db')).close(); // as `trusttap serve --data` leaves it
  });

  it('adds an operator with the password from standard input, stores only its scrypt hash, lists it', async () => {
    const password = 'a-long-enough-password';
    const r = run(['add', 'carol', '--role', 'operator', '--data', data], { input: `${password}\n` });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('operator carol (operator, acquirer default) saved\n');
    expect(r.stdout + r.stderr).not.toContain(password);
    const repo = new SqliteRepository(join(data, 'backend.db'));
    const row = (await repo.getOperator('carol'))!;
    await repo.close();
    expect(row.role).toBe('operator');
    expect(row.passwordHash).not.toContain(password);
    expect(await verifyPassword(password, row.passwordHash)).toBe(true);
    // The same name again replaces the role and password ($TRUSTTAP_OPERATOR_PASSWORD).
    expect(run(['add', 'carol', '--role', 'viewer', '--data', data], { env: { TRUSTTAP_OPERATOR_PASSWORD: 'another-long-password' } }).status).toBe(0);
    expect(run(['list', '--data', data]).stdout).toMatch(/^carol\s+viewer\s+default\s+active/m);
    const off = run(['disable', 'carol', '--data', data]);
    expect([off.status, off.stdout]).toEqual([0, 'operator carol disabled\n']);
    expect(run(['list', '--data', data]).stdout).toMatch(/^carol\s+viewer\s+default\s+disabled/m);
    expect(run(['disable', 'nobody', '--data', data]).status).toBe(1);
  }, 60_000);

  it('refuses a short password, a bad name, a missing --data or database: one line, no stack', () => {
    const short = run(['add', 'dave', '--role', 'viewer', '--data', data], { input: 'short\n' });
    expect([short.status, short.stderr.trim()]).toEqual([1, 'trusttap operator: the password must be at least 12 characters']);
    const bad = run(['add', 'Not A Name', '--role', 'viewer', '--data', data], { input: 'long-enough-password\n' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/username must be/);
    expect(run(['add', 'dave', '--role', 'root', '--data', data]).status).toBe(2);
    expect(run(['add', 'dave', '--role', 'viewer']).status).toBe(2);
    const none = run(['add', 'dave', '--role', 'viewer', '--data', join(data, 'nowhere')], { input: 'long-enough-password\n' });
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no back-end database/);
    for (const r of [short, bad, none]) expect(r.stderr).not.toMatch(STACK);
  });
});
