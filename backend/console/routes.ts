// The console over HTTP: the page (built by `trusttap build` into build/console/, served from
// there or from the package's dist/build/console/) under /console, and its JSON routes under
// /console/api/. Every route names the least role it needs and the server checks it; every
// change needs the session's CSRF token (x-csrf-token) and a JSON body, and a browser's Origin,
// when sent, must be this server's. Sign-in takes the admin token or an operator's password in
// the body, never in a URL. Answers are JSON; refusals {error, message} with the HTTP status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { BackendService } from '../service.ts';
import { ApiError, ErrorCode, malformed } from '../errors.ts';
import { checkPassword } from './accounts.ts';
import { createSession, sessionOf, csrfMatches, setCookie, clearCookie, cookieToken, tokenHash, RANK, type Role, type Session } from './sessions.ts';
import { ConsoleViews, type PolicyChange } from './views.ts';
import { ALL_ACQUIRERS, type Scope } from '../store/repository.ts';

/** build/console/ beside the sources (backend/console → ../../build), or dist/build/console/ in the package. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../build/console/', import.meta.url));
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8', 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8', 'licenses.txt': 'text/plain; charset=utf-8',
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** Failed sign-ins per name (and in all) within a window before sign-in is refused for a while. */
const MAX_FAILURES = 5, FAILURE_WINDOW_MS = 15 * 60_000;

type Handler = (c: { s: Session; scope: Scope; q: URLSearchParams; body: any; p: Record<string, string> }) => unknown;
/** path: under /console/api/, with :deviceId and :ctid for path parameters (%-decoded). */
export interface ConsoleRoute { method: 'GET' | 'POST'; path: string; role: Role; run: Handler }

/** Every JSON route of the console, one table (test/backend/tenants.test.ts tries each one as the
 * wrong tenant). Each handler gets the session's scope (issue 16 §1): an operator's acquirer, or
 * ALL_ACQUIRERS for the admin token and scheme operators; `?acquirer=` (or acquirerId in a body)
 * picks the acquirer whose policy a scheme session shows or changes. */
export function consoleRoutes(views: ConsoleViews): ConsoleRoute[] {
  const named = (q: URLSearchParams, body?: any) => (typeof body?.acquirerId === 'string' ? body.acquirerId : q.get('acquirer') ?? undefined);
  return [
    { method: 'GET', path: 'acquirers', role: 'viewer', run: ({ scope }) => views.acquirers(scope) },
    { method: 'GET', path: 'devices', role: 'viewer', run: ({ scope, q }) => views.devices(scope, { state: q.get('state') ?? undefined, text: q.get('q') ?? undefined }) },
    { method: 'GET', path: 'devices/:deviceId', role: 'viewer', run: ({ scope, p }) => views.device(scope, p.deviceId) },
    ...(['suspend', 'resume', 'retire'] as const).map((action): ConsoleRoute => ({
      method: 'POST', path: `devices/:deviceId/${action}`, role: 'operator', run: ({ scope, p, body, s }) => views.setState(scope, p.deviceId, action, body.reason, actor(s)),
    })),
    { method: 'POST', path: 'devices/:deviceId/expire-activation', role: 'operator', run: ({ scope, p, body, s }) => views.expireActivation(scope, p.deviceId, body.reason, actor(s)) },
    { method: 'POST', path: 'terminals', role: 'operator', run: ({ scope, body, s }) => views.createTerminal(scope, body.merchantId, body.terminalId, actor(s), body.acquirerId) },
    { method: 'GET', path: 'alerts', role: 'viewer', run: ({ scope, q }) => views.alerts(scope, { after: int(q, 'after'), device: q.get('device') ?? undefined, type: q.get('type') ?? undefined }) },
    {
      method: 'GET', path: 'payments', role: 'viewer',
      run: ({ scope, q }) => views.payments(scope, { reference: q.get('reference') ?? '', ctid: q.get('ctid') ?? '', device: q.get('device') ?? '', outcome: q.get('outcome') ?? '', from: int(q, 'from'), to: int(q, 'to') }),
    },
    { method: 'GET', path: 'payments/:deviceId/:ctid', role: 'viewer', run: ({ scope, p }) => views.payment(scope, p.deviceId, p.ctid) },
    { method: 'POST', path: 'payments/:deviceId/:ctid/reverse', role: 'operator', run: ({ scope, p, body, s }) => views.reverse(scope, p.deviceId, p.ctid, body.reason, actor(s)) },
    { method: 'GET', path: 'policy', role: 'viewer', run: ({ scope, q }) => views.policy(scope, named(q)) },
    { method: 'POST', path: 'policy/preview', role: 'viewer', run: ({ scope, q, body }) => views.preview(scope, policyChange(body), named(q, body)) },
    { method: 'POST', path: 'policy', role: 'operator', run: ({ scope, q, body, s }) => views.rollOut(scope, policyChange(body), body.reason, actor(s), named(q, body)) },
    { method: 'GET', path: 'stats', role: 'viewer', run: ({ scope, q }) => views.stats(scope, int(q, 'minutes') ?? 60) },
  ];
}

/** The route a method and path name, with its %-decoded parameters; null if none. A path
 * parameter is one non-empty segment (:deviceId of [A-Za-z0-9_-]). */
function matchRoute(routes: ConsoleRoute[], method: string, path: string): { route: ConsoleRoute; p: Record<string, string> } | 'wrong-method' | null {
  const parts = path.split('/');
  let other = false;
  for (const route of routes) {
    const t = route.path.split('/');
    if (t.length !== parts.length) continue;
    const p: Record<string, string> = {};
    let match = true;
    t.forEach((seg, i) => {
      if (seg === ':deviceId') { if (/^[\w-]+$/.test(parts[i])) p.deviceId = parts[i]; else match = false; }
      else if (seg.startsWith(':')) { if (parts[i]) p[seg.slice(1)] = decodePart(parts[i]); else match = false; }
      else if (seg !== parts[i]) match = false;
    });
    if (!match) continue;
    if (route.method !== method) { other = true; continue; }
    return { route, p };
  }
  return other ? 'wrong-method' : null;
}

export interface ConsoleOptions {
  service: BackendService;
  adminToken: string;
  /** Mark the cookie Secure even on plain HTTP (TLS ends at a proxy in front). */
  secureCookies?: boolean;
  dir?: string;
}

export function consoleHandler(o: ConsoleOptions) {
  const { service } = o;
  const views = new ConsoleViews(service);
  const dir = o.dir ?? CONSOLE_DIR;
  const failures = new Map<string, number[]>();
  const adminBytes = Buffer.from(o.adminToken);

  const routes = consoleRoutes(views);

  function secure(req: IncomingMessage): boolean {
    return !!o.secureCookies || (req.socket as TLSSocket).encrypted === true;
  }

  /** A browser's Origin, when sent, must be this server (the Host it was asked under). */
  function sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return true;
    return origin === `${secure(req) ? 'https' : 'http'}://${req.headers.host}`;
  }

  function throttled(name: string, now: number): boolean {
    for (const k of [name, '*']) {
      const list = (failures.get(k) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS);
      failures.set(k, list);
      if (list.length >= (k === '*' ? MAX_FAILURES * 20 : MAX_FAILURES)) return true;
    }
    return false;
  }
  const failed = (name: string, now: number) => {
    // Bounded: names tried by someone guessing are forgotten first (the global '*' count stays).
    if (failures.size > 10_000) for (const k of [...failures.keys()].slice(0, 5_000)) if (k !== '*') failures.delete(k);
    for (const k of [name, '*']) failures.set(k, [...(failures.get(k) ?? []), now]);
  };

  async function signIn(req: IncomingMessage, res: ServerResponse, body: any): Promise<void> {
    const now = service.now();
    const username = typeof body.username === 'string' ? body.username : '';
    const name = typeof body.adminToken === 'string' ? 'admin' : username;
    if (throttled(name, now)) throw new ApiError(429, ErrorCode.ERROR_UNAUTHORIZED, 'too many failed sign-ins: wait 15 minutes');
    let who: { username: string; role: Role; acquirerId: string };
    if (typeof body.adminToken === 'string') {
      const got = Buffer.from(body.adminToken);
      if (got.length !== adminBytes.length || !timingSafeEqual(got, adminBytes)) { failed(name, now); throw new ApiError(401, ErrorCode.ERROR_UNAUTHORIZED, 'wrong admin token'); }
      who = { username: 'admin', role: 'admin', acquirerId: ALL_ACQUIRERS };
    } else {
      if (!username || typeof body.password !== 'string') throw malformed('sign in with {username, password} or {adminToken}');
      try { who = await checkPassword(service.repo, username, body.password); } catch (e) { failed(name, now); throw e; }
    }
    const { token, session } = await createSession(service.repo, who.username, who.role, now, who.acquirerId);
    res.setHeader('set-cookie', setCookie(token, secure(req)));
    json(res, 200, me(session));
  }

  /** Answers a request under /console; the body was read by the server (at most MAX_BODY). */
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL, body: Uint8Array): Promise<void> {
    const method = req.method ?? 'GET';
    const rest = url.pathname.replace(/^\/console\/?/, '');
    if (!rest.startsWith('api/')) return page(res, rest || 'index.html', method);
    const path = rest.slice(4);
    try {
      if (method !== 'GET' && method !== 'HEAD') {
        if (!sameOrigin(req)) throw new ApiError(403, ErrorCode.ERROR_UNAUTHORIZED, 'cross-origin request refused');
        if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new ApiError(415, ErrorCode.ERROR_MALFORMED, 'changes are sent as application/json');
      }
      let parsed: any = {};
      if (body.length) {
        try { parsed = JSON.parse(Buffer.from(body).toString('utf8')); } catch { throw malformed('the body is not JSON'); }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw malformed('the body must be a JSON object');
      }
      if (path === 'session' && method === 'POST') return await signIn(req, res, parsed);
      const s = await sessionOf(service.repo, req.headers.cookie, service.now());
      if (!s) throw new ApiError(401, ErrorCode.ERROR_UNAUTHORIZED, 'not signed in (or the session expired)');
      if (method !== 'GET' && !csrfMatches(s, req.headers['x-csrf-token'])) throw new ApiError(403, ErrorCode.ERROR_UNAUTHORIZED, 'missing or wrong CSRF token (x-csrf-token)');
      if (path === 'session' && method === 'GET') return json(res, 200, me(s));
      if (path === 'session' && method === 'DELETE') {
        await service.repo.deleteConsoleSession(tokenHash(cookieToken(req.headers.cookie)));
        res.setHeader('set-cookie', clearCookie(secure(req)));
        return json(res, 200, { signedOut: true });
      }
      const m = matchRoute(routes, method, path);
      if (m && m !== 'wrong-method') {
        const r = m.route;
        if (RANK[s.row.role] < RANK[r.role]) throw new ApiError(403, ErrorCode.ERROR_UNAUTHORIZED, `${s.row.role} may not do this (needs ${r.role})`);
        const out = await r.run({ s, scope: s.row.acquirerId, q: url.searchParams, body: parsed, p: m.p });
        return json(res, 200, out);
      }
      throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no console route ${method} /console/api/${path}`);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      return json(res, e.http, { error: e.codeName, message: e.message });
    }
  };

  function page(res: ServerResponse, file: string, method: string): void {
    const type = FILES[file];
    if (!type || (method !== 'GET' && method !== 'HEAD')) return json(res, 404, { error: 'ERROR_NOT_FOUND', message: `no console file ${file}` });
    const path = join(dir, file);
    if (!existsSync(path)) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`the console is not built (${path} missing): run npm run build in a checkout\n`);
      return;
    }
    const bytes = readFileSync(path);
    res.writeHead(200, {
      'content-type': type, 'content-length': bytes.length, 'cache-control': 'no-cache', 'content-security-policy': CSP,
      'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY',
    });
    res.end(method === 'HEAD' ? undefined : bytes);
  }
}

const actor = (s: Session) => (s.row.role === 'admin' ? 'admin token' : `operator ${s.row.username}`);
const me = (s: Session) => ({ username: s.row.username, role: s.row.role, acquirerId: s.row.acquirerId, csrfToken: s.csrf, expiresMs: s.row.expiresMs });

function decodePart(p: string): string {
  try { return decodeURIComponent(p); } catch { throw malformed(`bad %-escape in the path: ${p}`); }
}

function int(q: URLSearchParams, k: string): number | undefined {
  const v = q.get(k);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,16}$/.test(v)) throw malformed(`${k} must be a whole number`);
  return Number(v);
}

function policyChange(body: any): PolicyChange {
  if (typeof body.manifest === 'string') {
    if (typeof body.signature !== 'string') throw malformed('a manifest comes with its signature (manifest.sig)');
    return { manifest: { bytes: new Uint8Array(Buffer.from(body.manifest, 'utf8')), signature: body.signature } };
  }
  const t = body.tunables;
  if (!t || typeof t !== 'object') throw malformed('send {tunables: {...}} or {manifest, signature}');
  return {
    tunables: {
      runtimeVersions: strings(t.runtimeVersions, 'runtimeVersions'), requiredTas: strings(t.requiredTas, 'requiredTas'),
      bootStates: strings(t.bootStates, 'bootStates').map((b) => {
        const v = (BOOT as Record<string, number>)[b];
        if (v === undefined) throw malformed(`unknown boot state ${b}`);
        return v;
      }),
      nonceTtlMs: count(t.nonceTtlMs, 'nonceTtlMs'), tokenTtlMs: count(t.tokenTtlMs, 'tokenTtlMs'), heartbeatTimeoutMs: count(t.heartbeatTimeoutMs, 'heartbeatTimeoutMs') as any,
      locationJumpKm: count(t.locationJumpKm, 'locationJumpKm'), developerOptionsStepUp: !!t.developerOptionsStepUp,
      emulatorSuspend: !!t.emulatorSuspend, debuggerSuspend: !!t.debuggerSuspend, clientPlatformMeasuredOnly: !!t.clientPlatformMeasuredOnly,
      relaySuspend: !!t.relaySuspend, hceSuspend: !!t.hceSuspend, relayDecline: !!t.relayDecline,
    } as any,
  };
}

const BOOT = trusttap.attest.v1.BootState as unknown as Record<string, number>;

function strings(v: unknown, k: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw malformed(`${k} must be a list of strings`);
  return v as string[];
}
function count(v: unknown, k: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed(`${k} must be a whole number ≥ 0`);
  return v;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(bytes);
}
