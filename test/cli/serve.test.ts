// `trusttap serve` as a user meets it: a port in use is one line and exit 1, the temporary state
// directory goes at SIGINT/SIGTERM (kept with --data), and `demo --backend URL` can be run again
// and again against it (the simulated cards' transaction counters go on between runs).
import { test, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as demo } from '../../cli/commands/demo.ts';
import { BIN, ROOT, runCaptured, spawnCli, STACK } from './cli.ts';

const started: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tt-cli-serve-'));
  dirs.push(d);
  return d;
}

/** Starts `trusttap serve` and resolves once it listens, with its URL and data directory. */
function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ p: ChildProcess; url: string; data: string; exited: Promise<number | null> }> {
  const p = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--quiet', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(p);
  const exited = new Promise<number | null>((r) => p.on('exit', (code, sig) => r(code ?? (sig as unknown as number))));
  return new Promise((resolve, reject) => {
    let out = '', err = '';
    p.stderr!.on('data', (d) => { err += d; });
    p.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+) \(data ([^,)]+)/.exec(out);
      if (m) resolve({ p, url: m[1]!, data: m[2]!, exited });
    });
    p.on('exit', (code) => reject(new Error(`serve exited ${code} before listening: ${err}`)));
  });
}

test('a port in use: one line naming it, exit 1, no stack, no directory left', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  const tmp = tempDir();
  try {
    const r = await spawnCli(['serve', '--port', String(port)], { env: { TMPDIR: tmp } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`trusttap serve: port ${port} on 127.0.0.1 is in use (another trusttap serve?); choose another with --port N, or --port 0 for any free one`);
    expect(r.stderr).not.toMatch(STACK);
    expect(readdirSync(tmp).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
  } finally {
    blocker.close();
  }
}, 60_000);

test('--port out of range is a usage error', async () => {
  const { run } = await import('../../cli/commands/serve.ts');
  const r = await runCaptured(run, ['--port', '70000']);
  expect([r.code, r.stderr]).toEqual([2, "trusttap serve: --port must be 0..65535 (got '70000')\n(see trusttap serve --help)"]);
});

test('--cors-origin takes plain origins only: "*" or a path is a usage error', async () => {
  const { run } = await import('../../cli/commands/serve.ts');
  for (const bad of ['*', 'https://localhost,https://app.example/path']) {
    const r = await runCaptured(run, ['--cors-origin', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^trusttap serve: --cors-origin: not an origin: /);
  }
});

test.each(['SIGINT', 'SIGTERM'] as const)('%s: the temporary state directory is removed', async (signal) => {
  const tmp = tempDir();
  const s = await serve([], { TMPDIR: tmp });
  expect(s.data.startsWith(tmp)).toBe(true);
  expect(existsSync(s.data)).toBe(true);
  s.p.kill(signal);
  expect(await s.exited).toBe(0);
  expect(existsSync(s.data)).toBe(false);
  expect(readdirSync(tmp).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
}, 60_000);

test('without --quiet: one JSON log line per request on stderr with its request id; /metrics for the printed metrics token', async () => {
  const p = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { cwd: ROOT, env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'TRUSTTAP_METRICS_TOKEN')), stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(p);
  let out = '', err = '';
  p.stderr!.on('data', (d) => { err += d; });
  const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    p.stdout!.on('data', (d) => {
      out += d;
      const u = /listening on (http:\/\/\S+)/.exec(out), t = /^metrics token: (\S+)$/m.exec(out);
      if (u && t) resolve({ url: u[1]!, token: t[1]! });
    });
    p.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  expect((await fetch(`${url}/healthz`, { headers: { 'x-request-id': 'cli-test-1' } })).status).toBe(200);
  expect((await fetch(`${url}/metrics`)).status).toBe(401);
  const m = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect([m.status, /^process_cpu_user_seconds_total /m.test(await m.text())]).toEqual([200, true]);
  await expect.poll(() => err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.reqId === 'cli-test-1'), { timeout: 10_000 })
    .toMatchObject({ msg: 'request', path: '/healthz', status: 200, route: 'healthz' });
  p.kill('SIGTERM');
}, 60_000);

test('--data DIR is kept', async () => {
  const data = join(tempDir(), 'state');
  const s = await serve(['--data', data]);
  expect(s.data).toBe(data);
  s.p.kill('SIGTERM');
  expect(await s.exited).toBe(0);
  expect(readdirSync(data).length).toBeGreaterThan(0);
}, 60_000);

test('demo --backend URL twice against one serve: both approved, the card counter goes on', async () => {
  const s = await serve(['--admin-token', 'cli-test-token']);
  const state = join(tempDir(), 'cards.json');
  const args = ['--backend', s.url, '--admin-token', 'cli-test-token', '--card-state', state, '--card', 'visa', '--currency', 'USD', '--amount', '4.00', '--json'];
  const first = await runCaptured(demo, args);
  expect([first.code, JSON.parse(first.stdout).outcome]).toEqual([0, 'approved']);
  const atc1 = (JSON.parse(readFileSync(state, 'utf8')) as { cards: Record<string, { atc: number }> }).cards['4761739001010119']!.atc;
  const second = await runCaptured(demo, args);
  expect(second.stderr).toBe('');
  expect([second.code, JSON.parse(second.stdout).outcome]).toEqual([0, 'approved']);
  const atc2 = (JSON.parse(readFileSync(state, 'utf8')) as { cards: Record<string, { atc: number }> }).cards['4761739001010119']!.atc;
  expect(atc2).toBeGreaterThan(atc1);
  // Without the counter file the card starts over and its issuer, rightly, refuses a repeated ATC.
  const forgetful = await runCaptured(demo, args.map((a) => (a === state ? join(tempDir(), 'none.json') : a)));
  expect(forgetful.code).toBe(1);
  expect(JSON.parse(forgetful.stdout)).toMatchObject({ outcome: 'declined', reason: 'CRYPTOGRAM_FAILED' });
  const wrongToken = await runCaptured(demo, args.map((a) => (a === 'cli-test-token' ? 'wrong' : a)));
  expect(wrongToken.code).toBe(1);
  expect(JSON.parse(wrongToken.stdout)).toMatchObject({ outcome: 'failed', reason: 'BACKEND_REFUSED', httpStatus: 401 });
  s.p.kill('SIGTERM');
  expect(await s.exited).toBe(0);
}, 120_000);
