// The reference "native bridge" over HTTP for the browser test (docs/native-bridge.md): what a
// phone's native side does for a WebView, played by a small server on 127.0.0.1.
//
//   POST /tee              ClientRequest bytes → ClientResponse bytes (the TEE driver: the
//                          reference runtime with the signed TAs; its trusted UI — the scripted
//                          person at the keypad — lives here, so no PIN digit reaches the page)
//   POST /card/transceive  command APDU → response APDU (IsoDep.transceive on a simulated card);
//                          410 {code: CARD_REMOVED} when the card has left the field
//   GET  /card/events      server-sent events `present` {atr} / `removed` (the current state
//                          first, so a page that connects late misses nothing)
//   GET  / /app.js /config.json   the page, its bundle and its configuration
//
// It serves the page itself, so the page's calls to the bridge are same-origin; the back end is
// another origin and must allow this one (trusttap serve --cors-origin). Every body the page
// sent or received is kept in `traffic`, so the test can show what the page saw.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleClientRequestAsync, type TeeRuntime } from '../../tee/index.ts';
import { InProcessTransport, type InProcessCard } from '../../ree/nfc/in-process.ts';
import { CardRemovedError } from '../../ree/nfc/transport.ts';

/** One body that crossed between the page and the bridge. */
export interface TrafficRecord { path: string; direction: 'from-page' | 'to-page'; bytes: Uint8Array }

export interface BridgeOptions {
  runtime: TeeRuntime;
  card: InProcessCard;
  /** Static files by path: '/' (HTML), '/app.js' (the bundle). */
  files: Record<string, { type: string; body: string | Uint8Array }>;
}

export interface Bridge {
  /** http://127.0.0.1:PORT — the page's origin. */
  origin: string;
  traffic: TrafficRecord[];
  /** What the page fetches as /config.json (set before it loads). */
  config: unknown;
  /** The customer holds the card to the phone / takes it away. */
  tap(): void;
  remove(): void;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let n = 0;
    req.on('data', (c: Uint8Array) => { n += c.length; if (n <= MAX_BODY) chunks.push(c); });
    req.on('end', () => {
      if (n > MAX_BODY) return reject(new Error(`body over ${MAX_BODY} bytes`));
      const out = new Uint8Array(n);
      let o = 0;
      for (const c of chunks) { out.set(c, o); o += c.length; }
      resolve(out);
    });
    req.on('error', reject);
  });
}

export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const nfc = new InProcessTransport(opts.card);
  const traffic: TrafficRecord[] = [];
  const streams = new Set<ServerResponse>();
  let present = false;
  const bridge = { config: {} as unknown };

  const sse = (res: ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  nfc.onCardEvent((e) => {
    present = e.type === 'present';
    for (const s of streams) sse(s, e.type, e.type === 'present' ? { atr: hex(e.atr ?? new Uint8Array(0)) } : {});
  });

  const binary = (res: ServerResponse, path: string, status: number, body: Uint8Array) => {
    traffic.push({ path, direction: 'to-page', bytes: body });
    res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(text);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'POST' && (path === '/tee' || path === '/card/transceive')) {
      const body = await readBody(req);
      traffic.push({ path, direction: 'from-page', bytes: body });
      if (path === '/tee') return binary(res, path, 200, await handleClientRequestAsync(opts.runtime, body));
      if (body.length < 4) return json(res, 400, { code: 'PROTOCOL', message: 'a command APDU has at least 4 bytes' });
      try {
        return binary(res, path, 200, await nfc.transceive(body));
      } catch (e) {
        if (e instanceof CardRemovedError) return json(res, 410, { code: 'CARD_REMOVED', message: e.message });
        throw e;
      }
    }
    if (req.method === 'GET' && path === '/card/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 500\n\n');
      sse(res, present ? 'present' : 'removed', present ? { atr: hex(opts.card.atr) } : {});
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (req.method === 'GET' && path === '/config.json') return json(res, 200, bridge.config);
    const file = req.method === 'GET' ? opts.files[path] : undefined;
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
      return void res.end(file.body);
    }
    json(res, 404, { code: 'NOT_FOUND', message: `no ${req.method} ${path}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) json(res, 500, { code: 'BRIDGE_ERROR', message: (e as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(bridge, {
    origin, traffic,
    tap: () => nfc.tap(),
    remove: () => nfc.remove(),
    async close() {
      for (const s of streams) s.end();
      await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
    },
  });
}
