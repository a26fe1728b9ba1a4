// `npm run fuzz -- --target http` (issue 17 §8): the back end's HTTP API on loopback, one route
// family at a time — device operations (all of /v1/device/*), service keys (/v1/keys), the back
// office (/v1/admin/*) and the simulated issuer's wallet routes (/v1/wallet/*) — with mutated
// recorded requests (body, and sometimes path, method or credentials) and random ones, on a copy
// of the recorded back end (the device enrolled). A 4xx is the right answer to bad input; a 5xx,
// a reset or refused connection is a crash, no answer within 15 s a hang.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest, Agent } from 'node:http';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { DEVICE_OPS } from '../../backend/service.ts';
import type { Backend } from '../../backend/http/server.ts';
import { startTestBackend } from '../backend/harness.ts';
import { TEST_WALLETS } from '../../backend/issuer-sim/wallet.ts';
import { mulberry32, mutate, randomMessage, int, pick, randomBytes, type Rand } from './mutate.ts';
import { newCounts, finding, deadline, closingLine, Hang, type Counts } from './counts.ts';
import type { Recording, HttpSeed } from './record.ts';

export const FAMILIES = ['device', 'keys', 'admin', 'wallet'] as const;
export type Family = typeof FAMILIES[number];
const HANG_MS = 15_000;

const familyOf = (path: string): Family | null =>
  path.startsWith('/v1/device/') ? 'device' : path === '/v1/keys' ? 'keys' : path.startsWith('/v1/admin/') ? 'admin' : path.startsWith('/v1/wallet/') ? 'wallet' : null;

function seedsFor(rec: Recording, family: Family): HttpSeed[] {
  const out = rec.http.filter((s) => familyOf(s.path) === family);
  // Routes the recorded session did not call still get their requests, empty-bodied.
  if (family === 'device') for (const op of Object.keys(DEVICE_OPS)) if (!out.some((s) => s.path === `/v1/device/${op}`)) out.push({ method: 'POST', path: `/v1/device/${op}`, body: new Uint8Array(0), admin: false });
  if (family === 'wallet') {
    out.push({ method: 'POST', path: '/v1/wallet/pay', body: trusttap.payment.v1.WalletPayRequest.encode({ payload: '000201010212' }).finish(), admin: false });
    out.push({ method: 'POST', path: '/v1/wallet/codes', body: new Uint8Array(0), admin: false });
    out.push({ method: 'GET', path: '/v1/wallet/balance', body: new Uint8Array(0), admin: false });
  }
  if (family === 'admin') out.push({ method: 'POST', path: '/v1/admin/sweep', body: new Uint8Array(0), admin: true });
  return out;
}

/** Path damage: another route of the family, an extra or missing segment, odd encodings. */
function mutatePath(r: Rand, path: string, others: HttpSeed[]): string {
  switch (int(r, 6)) {
    case 0: return pick(r, others).path;
    case 1: return `${path}/${pick(r, ['x', '..', '%00', '%2F', 'a'.repeat(int(r, 300)), ''])}`;
    case 2: return path.split('/').slice(0, -1).join('/') || '/';
    case 3: return path.replace(/[a-z]/, (c) => c.toUpperCase());
    case 4: return `${path}?${pick(r, ['a=1', '%zz', '&&', 'x='.repeat(50)])}`;
    default: return path.replace(/\/[^/]*$/, `/${encodeURIComponent(String.fromCharCode(...randomBytes(r, 1 + int(r, 8))))}`);
  }
}

/** One request over the fuzzer's keep-alive connections: the status and the error header, the
 * body read to its end. Rejects if the connection is refused or reset (a crash). */
function send(agent: Agent, port: number, method: string, path: string, headers: Record<string, string>, body: Uint8Array | undefined): Promise<{ status: number; error: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent, headers: body ? { ...headers, 'content-length': String(body.length) } : headers }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, error: String(res.headers['x-trusttap-error'] ?? '') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body ? Buffer.from(body) : undefined);
  });
}

/** `runs` inputs into each route family; one Counts per family, named `http:<family>`. Requests
 * go over `inFlight` keep-alive connections at once (the inputs are drawn in order from the seed;
 * with more than one in flight the server may see them in another order, so a finding is replayed
 * from the input it prints, not from the seed alone). */
export async function fuzzHttp(rec: Recording, runs: number, seed: number, log: (s: string) => void = () => undefined, maxSeconds = Infinity, families: readonly Family[] = FAMILIES, inFlight = 1): Promise<Counts[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-fuzz-http-'));
  cpSync(rec.backendDir, dataDir, { recursive: true });
  let be: Backend = await startTestBackend({ dataDir });
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const login = await fetch(`${be.url}/v1/admin/wallets/login`, {
    method: 'POST', headers: { authorization: `Bearer ${be.adminToken}` },
    body: Buffer.from(trusttap.payment.v1.WalletLoginRequest.encode({ accountId: TEST_WALLETS[0]!.id }).finish()),
  });
  const walletToken = login.ok ? trusttap.payment.v1.WalletLoginResponse.decode(new Uint8Array(await login.arrayBuffer())).token : '';
  const out: Counts[] = [];
  const r = mulberry32(seed);
  let restarting: Promise<void> | null = null;
  const restart = (failed: Backend) => {
    if (be !== failed) return restarting ?? Promise.resolve(); // another request already restarted it
    restarting ??= (async () => {
      try { await failed.close(); } catch { /* already down */ }
      be = await startTestBackend({ dataDir });
      restarting = null;
    })();
    return restarting;
  };
  for (const family of families) {
    const c = newCounts(`http:${family}`);
    const seeds = seedsFor(rec, family);
    const t0 = Date.now();
    let i = 0;
    const one = async () => {
      const s = pick(r, seeds);
      const roll = r();
      const body = roll < 0.75 ? mutate(r, s.body) : roll < 0.85 ? s.body : randomMessage(r);
      const path = r() < 0.1 ? mutatePath(r, s.path, seeds) : s.path;
      const method = r() < 0.05 ? pick(r, ['GET', 'PUT', 'DELETE', 'PATCH', 'POST']) : s.method;
      const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
      const token = family === 'admin' ? be.adminToken : family === 'wallet' ? walletToken : '';
      if (token) headers.authorization = r() < 0.95 ? `Bearer ${token}` : pick(r, ['', 'Bearer', `Bearer ${token}x`, `Basic ${token}`]);
      c.inputs++;
      if (restarting) await restarting;
      const target = be;
      try {
        const res = await deadline(send(agent, target.port, method, path, headers, method === 'GET' || method === 'HEAD' ? undefined : body), HANG_MS);
        if (res.status < 300) c.accepted++;
        if (res.status >= 500) {
          c.crashes++;
          finding(c, `${res.status} ${res.error}: ${method} ${path} body ${Buffer.from(body).toString('hex')}`);
        }
      } catch (e) {
        if (e instanceof Hang) c.hangs++; else c.crashes++;
        finding(c, `${e instanceof Hang ? 'hang' : `no answer (${(e as Error)?.message})`}: ${method} ${path} body ${Buffer.from(body).toString('hex')}`);
        await restart(target);
      }
      if (c.inputs % 20_000 === 0) log(`  http:${family}: ${closingLine(c)} so far (${Math.round(c.inputs / ((Date.now() - t0) / 1000))}/s, ${c.accepted} accepted)`);
    };
    const loop = async () => {
      while (i < runs && Date.now() - t0 <= maxSeconds * 1000) { i++; await one(); } // out of time: the counts say how far it got
    };
    await Promise.all(Array.from({ length: inFlight }, loop));
    c.ms = Date.now() - t0;
    out.push(c);
  }
  // State intact afterwards: the back end, restarted on the data the fuzz left, is ready and
  // answers the service keys and the back office's policy.
  await be.close();
  be = await startTestBackend({ dataDir });
  const last = out[out.length - 1];
  for (const [path, token] of [['/readyz', ''], ['/v1/keys', ''], ['/v1/admin/policy', be.adminToken]] as const) {
    const res = await deadline(send(agent, be.port, 'GET', path, token ? { authorization: `Bearer ${token}` } : {}, undefined), HANG_MS).catch((e: Error) => ({ status: 0, error: e.message }));
    if (res.status !== 200 && last) { last.crashes++; finding(last, `state after the run: GET ${path} on the restarted back end answered ${res.status} ${res.error}`); }
  }
  agent.destroy();
  await be.close();
  rmSync(dataDir, { recursive: true, force: true });
  return out;
}
