// `trusttap <command> --help` / `-h` prints that command's usage (options, defaults, exit codes)
// and exits 0, for every command; `trusttap --version` and `trusttap help`.
import { test, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { main } from '../../cli/main.ts';
import { ROOT, runCaptured, spawnCli } from './cli.ts';

const version = (JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string }).version;
const commands = readdirSync(`${ROOT}/cli/commands`).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();

test('there are commands to check', () => {
  expect(commands).toEqual(expect.arrayContaining(['demo', 'serve', 'read-card', 'verify-evidence', 'build', 'audit']));
});

test.each(commands.flatMap((c) => [[c, '--help'], [c, '-h']]))('trusttap %s %s: its usage, exit 0', async (c, flag) => {
  const r = await runCaptured(main, [c, flag]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(new RegExp(`^usage: trusttap ${c}\\b`));
  expect(r.stdout).toMatch(/\noptions:\n/);
  expect(r.stdout).toMatch(/--help, -h/);
  expect(r.stdout).toMatch(/\nexit codes:\n {2}0 {2}/);
  // `trusttap help <command>` prints the same.
  expect((await runCaptured(main, ['help', c])).stdout).toBe(r.stdout);
});

test('demo --help documents the exit codes and the defaults', async () => {
  const r = await spawnCli(['demo', '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/ {2}0 {2}approved\n {2}1 {2}declined, failed, result unknown or cancelled\n {2}2 {2}usage error/);
  expect(r.stdout).toMatch(/--isolation in-process\|worker\s+TEE isolation \(default in-process\)/);
  expect(r.stdout).toMatch(/--currency CODE .*\(default CNY\)/);
  for (const card of ['unionpay', 'visa', 'visa-cvn22', 'mastercard', 'unionpay-sm', 'unionpay-sm-wrong-key', 'unionpay-low-balance', 'visa-blocked', 'unionpay-expired']) expect(r.stdout).toContain(`  ${card}: `);
});

test('trusttap --version prints the package version', async () => {
  const r = await spawnCli(['--version']);
  expect([r.code, r.stdout, r.stderr]).toEqual([0, `${version}\n`, '']);
});

test('trusttap help lists every command, exit 0; no command at all is a usage error (2)', async () => {
  const r = await spawnCli(['help']);
  expect(r.code).toBe(0);
  for (const c of commands) expect(r.stdout).toMatch(new RegExp(`^ {2}${c} +\\S`, 'm'));
  const none = await runCaptured(main, []);
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/^usage: trusttap <command>/);
  const unknown = await runCaptured(main, ['pay']);
  expect([unknown.code, unknown.stderr]).toEqual([2, "trusttap: unknown command 'pay' (try 'trusttap help')"]);
});
