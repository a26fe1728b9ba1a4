// The back end over HTTP (node:http), loopback only. Bodies are protobuf
// (application/x-protobuf); the header x-trusttap-message names the message type of a body.
// Routes and status codes: docs/backend-api.md. Operations routes (docs/operations.md,
// Monitoring): GET /healthz, GET /readyz (./health.ts), GET /metrics (./metrics.ts, bearer token);
// one JSON log line per request with its request id (./log.ts).
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { timingSafeEqual, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { BackendService, DEVICE_OPS, type BackendOptions, type DeviceOp, type DeviceAnswer, type DecidedAnswer, type Ahead, type DeviceOutcome } from '../service.ts';
import { ApiError, ErrorCode } from '../errors.ts';
import { QrPayloadError } from '../qr/qr.ts';
import { applyCors, checkOrigin } from './cors.ts';
import { consoleHandler } from '../console/routes.ts';
import { BackendMetrics } from './metrics.ts';
import { silentLogger, requestId, type Logger } from './log.ts';
import { liveness, readiness, type Probe } from './health.ts';
import { adminRoutes, matchAdminRoute } from './admin.ts';
import { ALL_ACQUIRERS, type Scope } from '../store/repository.ts';
import { tokenHashOf } from '../tenants.ts';

const a = trusttap.attest.v1;
const pay = trusttap.payment.v1;
export const MAX_BODY = 64 * 1024;
export const CONTENT_TYPE = 'application/x-protobuf';

export interface ServerOptions extends BackendOptions {
  /** 0 = an ephemeral port. */
  port?: number;
  /** Bearer token of the back-office API; a random one is made if absent (see Backend.adminToken). */
  adminToken?: string;
  /** How often the monitoring sweep runs (missed heartbeats); 0 disables it. */
  sweepIntervalMs?: number;
  /** Web origins whose pages may call the device routes (CORS, ./cors.ts); default none. */
  corsOrigins?: string[];
  /** A request's body must have arrived this long after its headers, else 408 (default 15 s). */
  requestTimeoutMs?: number;
  /** Mark the console's session cookie Secure on plain HTTP too (TLS ends at a proxy in front). */
  consoleSecureCookies?: boolean;
  /** One JSON line per request (./log.ts createLogger; never bodies or card data); default none. */
  logger?: Logger;
  /** Bearer token that may read GET /metrics (a Prometheus scraper's); the admin token may too.
   * A random one is made if absent (see Backend.metricsToken). */
  metricsToken?: string;
}

export interface Backend {
  url: string;
  port: number;
  adminToken: string;
  metricsToken: string;
  metrics: BackendMetrics;
  service: BackendService;
  server: Server;
  /** Drains, then closes the store: no new request is taken (a request arriving on an open
   * connection gets 503 and `Connection: close`, so a load balancer or the device sends it to
   * another node), the requests in flight finish and are answered (up to drainMs, default 10 s),
   * then the connections and the database are closed. `trusttap serve` calls it on SIGTERM. */
  close(drainMs?: number): Promise<void>;
  /** Requests being handled now. */
  readonly inFlight: number;
}

class BodyTooLarge extends Error {}
class BodyTimeout extends Error {}
/** The client went away before its body was complete: nobody to answer, not a server fault. */
class ClientGone extends Error {}

/** After a 413 the rest of the body is read and dropped (not reset: a client still writing when
 * the connection is reset may lose the answer), up to this much, until the request's deadline. */
export const MAX_DRAIN = 256 * 1024 * 1024;

/** Reads the body, counting while it streams: past MAX_BODY it rejects at once (the 413 goes out
 * while the client is still sending; see drain), whatever the size or framing (Content-Length or
 * chunked). A body not complete by the deadline rejects with BodyTimeout (408). */
function readBody(req: IncomingMessage, deadline: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let n = 0;
    const timer = setTimeout(() => { cleanup(); reject(new BodyTimeout()); }, Math.max(0, deadline - Date.now()));
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) { chunks.length = 0; cleanup(); reject(new BodyTooLarge()); return; }
      chunks.push(c);
    };
    const onEnd = () => { cleanup(); resolve(new Uint8Array(Buffer.concat(chunks))); };
    const onGone = () => { cleanup(); reject(new ClientGone()); };
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('aborted', onGone);
    };
    req.on('data', onData).on('end', onEnd).on('error', onGone).on('aborted', onGone);
  });
}

/** Drops the rest of a refused body so the answer reaches a client that is still sending; past
 * MAX_DRAIN bytes or the deadline the connection is closed (the answer is already written). */
function drain(req: IncomingMessage, deadline: number): void {
  let n = 0;
  const stop = () => { clearTimeout(timer); req.socket.destroy(); };
  const timer = setTimeout(stop, Math.max(0, deadline - Date.now()));
  timer.unref();
  req.on('data', (c: Buffer) => { n += c.length; if (n > MAX_DRAIN) stop(); });
  req.on('end', () => clearTimeout(timer)).on('error', () => clearTimeout(timer));
  req.resume();
}

function send(res: ServerResponse, status: number, message: string, body: Uint8Array): void {
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'x-trusttap-message': message, 'content-length': body.length, 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, p: Probe): void {
  const body = Buffer.from(JSON.stringify(p.body));
  res.writeHead(p.status, { 'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'no-store' });
  res.end(body);
}

/** What one request did, filled in as it goes, for its metrics and its log line. */
interface Exchange {
  /** The route family: a closed set (metric label), never an id from the path. */
  route: string;
  outcome?: DeviceOutcome;
}

function sendError(res: ServerResponse, e: ApiError): void {
  res.setHeader('x-trusttap-error', e.codeName);
  if (e instanceof QrPayloadError) res.setHeader('x-trusttap-qr-error', e.qrCode);
  send(res, e.http, 'ErrorResponse', a.ErrorResponse.encode({ code: e.code, message: e.message }).finish());
}

function decode<T>(type: { decode(b: Uint8Array): T }, body: Uint8Array, name: string): T {
  try {
    return type.decode(body);
  } catch (e) {
    throw new ApiError(400, ErrorCode.ERROR_MALFORMED, `body is not a ${name}: ${(e as Error).message}`);
  }
}

/** The route family of a path (a metric label): the device operation, or the first segment. */
function routeFamily(parts: string[]): string {
  if (parts.length === 1 && (parts[0] === 'healthz' || parts[0] === 'readyz' || parts[0] === 'metrics')) return parts[0];
  if (parts[0] !== 'v1') return 'other';
  if (parts[1] === 'device') return parts.length === 3 && Object.hasOwn(DEVICE_OPS, parts[2]) ? `device/${DEVICE_OPS[parts[2]]}` : 'device/other';
  if (parts[1] === 'keys' || parts[1] === 'wallet' || parts[1] === 'admin') return parts[1];
  return 'other';
}

export async function startBackend(opts: ServerOptions): Promise<Backend> {
  const cors = new Set((opts.corsOrigins ?? []).map(checkOrigin));
  const requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
  // Deferred sync: a COMMIT does not block the event loop in fsync; every answer waits for
  // repo.sync() instead (reply below), so nothing is acknowledged before it is on disk.
  const service = await BackendService.open(opts.repo ? opts : { ...opts, sqlite: { deferredSync: true, ...opts.sqlite } });
  const adminToken = opts.adminToken ?? randomBytes(24).toString('base64url');
  const operatorsConsole = consoleHandler({ service, adminToken, secureCookies: opts.consoleSecureCookies });
  const metricsToken = opts.metricsToken || randomBytes(24).toString('base64url'); // an empty token would let anyone in
  const logger = opts.logger ?? silentLogger();
  const metrics = new BackendMetrics();
  service.repo.observeCommits((phase, s) => (phase === 'commit' ? metrics.commitSeconds : metrics.syncSeconds).observe(s));
  let closing = false;
  /** Every answer that may reflect stored state goes out only once that state is on disk. */
  const reply = async (res: ServerResponse, status: number, message: string, body: Uint8Array) => {
    await service.repo.sync();
    send(res, status, message, body);
  };
  const bearer = (token: string) => {
    const want = Buffer.from(`Bearer ${token}`);
    return (req: IncomingMessage) => {
      const h = Buffer.from(req.headers.authorization ?? '');
      return h.length === want.length && timingSafeEqual(h, want);
    };
  };
  /** For handlers that write their own answer (writeHead + end): the end waits for repo.sync(). */
  const endWhenDurable = (res: ServerResponse) => {
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      service.repo.sync().then(() => end(...args), () => res.destroy()); // no answer rather than one not on disk
      return res;
    }) as ServerResponse['end'];
  };
  const isAdmin = bearer(adminToken);
  const isScraper = bearer(metricsToken);

  // Group commit (the embedded SQLite): device requests whose bodies arrived in the same turn of
  // the event loop run one after another in one SQLite transaction, each in its own savepoint (a
  // refused request rolls back alone), and share one fsync'd commit; no answer leaves before that
  // commit. A shared server database (PostgreSQL, several nodes) runs each request in its own
  // transaction instead: they run concurrently on the pool, and a serialization conflict re-runs
  // one request, not a batch.
  // Issue 13 §4: the OpenSSL work of a request runs on libuv's thread pool, off the one event
  // loop: its signatures are verified before it joins a transaction (service.verifyAhead), and
  // its answer is signed after the commit, while the commit is being made durable.
  const queue: { op: DeviceOp; body: Uint8Array; ahead: Ahead; resolve: (a: DecidedAnswer) => void; reject: (e: unknown) => void }[] = [];
  const flush = async () => {
    const batch = queue.splice(0);
    metrics.commitBatch.observe(batch.length);
    let answers: DecidedAnswer[];
    try {
      answers = await service.repo.transaction(async () => {
        const out: DecidedAnswer[] = [];
        for (const b of batch) out.push(await service.decideDevice(b.op, b.body, b.ahead));
        return out;
      });
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    batch.forEach((b, i) => b.resolve(answers[i]));
  };
  const device = async (op: DeviceOp, body: Uint8Array): Promise<DeviceAnswer> => {
    const ahead = await service.verifyAhead(op, body);
    try {
      const decided = service.repo.shared
        ? await service.repo.transaction(() => service.decideDevice(op, body, ahead))
        : await new Promise<DecidedAnswer>((resolve, reject) => {
          queue.push({ op, body, ahead, resolve, reject });
          if (queue.length === 1) setImmediate(() => void flush());
        });
      // Signed while the commit's fdatasync runs; reply() still waits for it before answering.
      const [answer] = await Promise.all([service.signAnswer(decided), service.repo.sync()]);
      return answer;
    } finally {
      ahead.release();
    }
  };

  const adminTable = adminRoutes(service);
  /** The back-office caller: the scheme's admin token (every acquirer) or one acquirer's token. */
  async function adminScope(req: IncomingMessage): Promise<Scope> {
    if (isAdmin(req)) return ALL_ACQUIRERS;
    const token = /^Bearer (\S{16,200})$/.exec(req.headers.authorization ?? '')?.[1];
    const acq = token ? await service.repo.getAcquirerByToken(tokenHashOf(token)) : null;
    if (!acq) throw new ApiError(401, ErrorCode.ERROR_UNAUTHORIZED, 'back-office routes need the admin bearer token or an acquirer\'s back-office token');
    return acq.acquirerId;
  }

  async function admin(req: IncomingMessage, url: URL, parts: string[], body: Uint8Array, res: ServerResponse): Promise<void> {
    const scope = await adminScope(req);
    const method = req.method ?? 'GET';
    await service.refreshPolicy();
    const m = matchAdminRoute(adminTable, method, parts);
    if (!m) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no admin route ${method} /v1/admin/${parts.join('/')}`);
    if (m.route.scheme && scope !== ALL_ACQUIRERS) throw new ApiError(403, ErrorCode.ERROR_UNAUTHORIZED, 'this route is the scheme\'s (its admin token), not an acquirer\'s');
    const out = await m.route.run({ scope, p: m.p, q: url.searchParams, body });
    return reply(res, out.status, out.message, out.body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, x: Exchange): Promise<void> {
    if (applyCors(req, res, cors)) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    x.route = routeFamily(parts);
    let body: Uint8Array;
    const deadline = Date.now() + requestTimeoutMs;
    try {
      body = await readBody(req, deadline);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        // Keep reading (and dropping) what the client still sends, so the 413 is not lost to a
        // reset. Closing after the answer (Connection: close) would make Node destroy the socket
        // while the client writes; drained to its end, the connection stays usable instead.
        drain(req, deadline);
        return sendError(res, new ApiError(413, ErrorCode.ERROR_TOO_LARGE, `body larger than ${MAX_BODY} bytes`));
      }
      if (e instanceof BodyTimeout) {
        res.shouldKeepAlive = false; // half a body is in flight: this connection cannot carry another request
        return sendError(res, new ApiError(408, ErrorCode.ERROR_TIMEOUT, `the body did not arrive within ${requestTimeoutMs} ms`));
      }
      throw e;
    }
    if (parts.length === 1 && method === 'GET') {
      if (parts[0] === 'healthz') return sendJson(res, liveness());
      if (parts[0] === 'readyz') return sendJson(res, await readiness(service.repo, closing));
      if (parts[0] === 'metrics') {
        if (!isScraper(req) && !isAdmin(req)) throw new ApiError(401, ErrorCode.ERROR_UNAUTHORIZED, '/metrics needs the metrics (or admin) bearer token');
        const m = await metrics.expose();
        res.writeHead(200, { 'content-type': m.contentType, 'cache-control': 'no-store' });
        res.end(m.text);
        return;
      }
    }
    if (parts[0] === 'console') {
      endWhenDurable(res); // the console writes its own answers; they wait for the disk too
      return operatorsConsole(req, res, url, body);
    }
    if (parts[0] !== 'v1') throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no route ${url.pathname}`);
    if (parts[1] === 'device' && parts.length === 3) {
      const op = Object.hasOwn(DEVICE_OPS, parts[2]) ? DEVICE_OPS[parts[2]] : undefined;
      if (!op) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no device operation ${parts[2]}`);
      if (method !== 'POST') throw new ApiError(405, ErrorCode.ERROR_MALFORMED, 'device operations are POST');
      const r = await device(op, body);
      x.outcome = r.outcome;
      if (r.error) res.setHeader('x-trusttap-error', r.error.codeName);
      await reply(res, r.http, r.message, r.body);
      // Counted once answered (an answer that could not be made durable is a 500, not a decision).
      const o = r.outcome;
      if (o?.decision) metrics.authorizations.inc({ outcome: o.decision, reason: o.reason ?? 'none' });
      if (o?.verdict) metrics.verdicts.inc({ verdict: o.verdict });
      if (o?.clientRefusal) metrics.clientRefusals.inc({ reason: o.clientRefusal });
      return;
    }
    if (parts[1] === 'keys' && parts.length === 2 && method === 'GET') {
      return reply(res, 200, 'EnrolResponse', a.EnrolResponse.encode(service.serviceKeys()).finish());
    }
    if (parts[1] === 'wallet' && parts.length === 3) {
      // The simulated issuer's wallet routes (QR payments): Authorization: Bearer <wallet token>.
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const now = service.now();
      if (parts[2] === 'pay' && method === 'POST') {
        const r = decode(pay.WalletPayRequest, body, 'WalletPayRequest');
        const out = await service.repo.transaction(() => service.qr.walletPay(token, r.payload, now));
        return reply(res, 200, 'WalletPayResponse', pay.WalletPayResponse.encode(out).finish());
      }
      if (parts[2] === 'codes' && method === 'POST') {
        const out = await service.repo.transaction(() => service.qr.walletCode(token, now));
        return reply(res, 201, 'WalletCodeResponse', pay.WalletCodeResponse.encode(out).finish());
      }
      if (parts[2] === 'balance' && method === 'GET') {
        return reply(res, 200, 'WalletBalanceResponse', pay.WalletBalanceResponse.encode(await service.qr.walletBalance(token, now)).finish());
      }
      throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no wallet route ${method} ${url.pathname}`);
    }
    if (parts[1] === 'admin') return admin(req, url, parts.slice(2), body, res);
    throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no route ${url.pathname}`);
  }

  const active = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const t = performance.now();
    const reqId = requestId(req.headers['x-request-id']);
    res.setHeader('x-request-id', reqId);
    if (closing) {
      // Draining (close()): requests in flight finish, new ones go to another node.
      res.shouldKeepAlive = false;
      sendError(res, new ApiError(503, ErrorCode.ERROR_INTERNAL, 'this node is shutting down: send the request to another node'));
      logger.info({ reqId, method: req.method, path: (req.url ?? '').split('?')[0].slice(0, 200), status: 503 }, 'draining');
      return;
    }
    active.add(res);
    res.once('close', () => active.delete(res));
    const x: Exchange = { route: 'other' };
    handle(req, res, x).catch(async (e) => {
      if (e instanceof ClientGone) return; // logged below with its status; nothing to answer
      const err = e instanceof ApiError ? e : new ApiError(500, ErrorCode.ERROR_INTERNAL, 'internal error');
      if (!(e instanceof ApiError)) logger.error({ reqId, route: x.route, err: { type: (e as Error)?.name, message: (e as Error)?.message, stack: (e as Error)?.stack } }, 'internal error');
      if (err.http < 500) await service.repo.sync().catch(() => undefined); // a refusal may reflect stored state too
      if (!res.headersSent) sendError(res, err); else res.destroy();
    }).finally(() => {
      const seconds = (performance.now() - t) / 1000;
      metrics.requestSeconds.observe({ route: x.route, code: String(res.statusCode) }, seconds);
      // Chosen fields only: the path (ids of devices or policies at most; a query is never logged),
      // the device's id and the decision; the body, card data and headers other than the id are not.
      const o = x.outcome;
      logger.info({
        reqId, method: req.method, path: (req.url ?? '').split('?')[0].slice(0, 200), route: x.route, status: res.statusCode, ms: +(seconds * 1000).toFixed(2),
        ...(o?.deviceId ? { device: o.deviceId } : {}), ...(o?.decision ? { decision: o.decision, reason: o.reason } : {}), ...(o?.verdict ? { verdict: o.verdict } : {}),
        ...(res.getHeader('x-trusttap-error') ? { error: res.getHeader('x-trusttap-error') } : {}),
      }, 'request');
    });
  });
  server.on('connection', (socket) => {
    metrics.openConnections.inc();
    socket.once('close', () => metrics.openConnections.dec());
  });
  // Longer than any client's idle timeout (fetch/undici closes its side first, from the
  // Keep-Alive hint), so a client never reuses a socket the server is closing at that moment:
  // that race answered a request with ECONNRESET on a loaded machine. 65 s is what load
  // balancers in front of a back end commonly expect (60 s idle + margin).
  server.keepAliveTimeout = 65_000;
  // Node's own limits stay as a backstop behind readBody's deadline (which answers 408 itself):
  // headers that trickle are cut off (Node answers 408), headers over 16 KiB — the request line
  // (URL) counts — get 431 (maxHeaderSize).
  server.headersTimeout = Math.min(10_000, requestTimeoutMs);
  server.requestTimeout = requestTimeoutMs + 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
  } catch (e) {
    await service.close(); // the database is not left open behind a port that could not be had
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const interval = opts.sweepIntervalMs ?? 30_000;
  const timer = interval > 0 ? setInterval(() => { service.sweep().catch((e) => logger.error({ err: { message: (e as Error).message } }, 'monitoring sweep failed')); }, interval) : null;
  timer?.unref();
  return {
    url: `http://127.0.0.1:${port}`, port, adminToken, metricsToken, metrics, service, server,
    get inFlight() { return active.size; },
    async close(drainMs = 10_000) {
      if (timer) clearInterval(timer);
      closing = true; // new requests get 503 and /readyz fails while those in flight finish
      const closed = new Promise<void>((r) => server.close(() => r())); // no new connections
      server.closeIdleConnections();
      const deadline = Date.now() + drainMs;
      while (active.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      server.closeAllConnections();
      await closed;
      service.repo.observeCommits(null);
      metrics.registry.clear();
      await service.close();
    },
  };
}
