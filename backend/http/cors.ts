// Cross-origin access for apps whose client runs in a web origin: a WebView app (Capacitor serves
// its page from https://localhost on Android and capacitor://localhost on iOS) or a browser.
// A browser lets such a page read an answer from the back end only if the back end names the
// page's origin; and because device requests are `application/x-protobuf` POSTs, it first sends a
// preflight (OPTIONS) that must be answered. Native clients (Node, an app's native HTTP stack)
// send no Origin and are not concerned.
//
// Off by default (no origin allowed). Only the routes a device uses are open to the allowed
// origins — never the back office (bearer token) or the simulated issuer's wallet routes.
// The device API needs nothing more: every device request is signed in the TEE and every answer
// is verified by the client, so CORS only decides which web pages may carry them.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The headers a device's client must read: the message type, the refusal code. */
const EXPOSED = 'x-trusttap-message, x-trusttap-error, x-trusttap-qr-error';
const METHODS = ['GET', 'POST'];
const HEADERS = ['content-type'];
/** Browsers cache a preflight at most this long (Chromium caps at 2 h). */
const MAX_AGE_S = 600;

export class CorsOriginError extends Error {
  constructor(readonly origin: string) {
    super(`not an origin: ${JSON.stringify(origin)} (scheme://host[:port], no path, e.g. https://localhost or capacitor://localhost; '*' is not accepted)`);
    this.name = 'CorsOriginError';
  }
}

/** Checks one allowed origin as browsers serialize it (no trailing slash, no path); throws CorsOriginError. */
export function checkOrigin(origin: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#\s*]+$/.test(origin)) throw new CorsOriginError(origin);
  return origin;
}

/** A comma-separated list of origins (the form `trusttap serve --cors-origin` takes), each checked. */
export function parseOrigins(list: string): string[] {
  return list.split(',').map((o) => checkOrigin(o.trim()));
}

/** Routes a device's client calls (docs/backend-api.md): the only ones open cross-origin. */
function isDeviceRoute(pathname: string): boolean {
  return pathname === '/v1/keys' || pathname.startsWith('/v1/device/');
}

/**
 * Applies the policy to one request. Returns true when the request was a preflight and has been
 * answered (204 if allowed, 403 without CORS headers otherwise — the browser then refuses the
 * real request); false when the request goes on to its route, with the CORS headers set if its
 * origin is allowed.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  const ok = origin !== undefined && allowed.has(origin) && isDeviceRoute(pathname);
  if (allowed.size > 0) res.setHeader('vary', 'Origin'); // the answer depends on it: caches must not mix origins
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (preflight) {
    const method = String(req.headers['access-control-request-method']).toUpperCase();
    const asked = String(req.headers['access-control-request-headers'] ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
    if (!ok || !METHODS.includes(method) || asked.some((h) => !HEADERS.includes(h))) {
      res.writeHead(403, { 'content-length': 0, 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    res.writeHead(204, {
      'access-control-allow-origin': origin!, 'access-control-allow-methods': METHODS.join(', '),
      'access-control-allow-headers': HEADERS.join(', '), 'access-control-max-age': String(MAX_AGE_S), 'content-length': 0,
    });
    res.end();
    return true;
  }
  if (ok) {
    res.setHeader('access-control-allow-origin', origin!);
    res.setHeader('access-control-expose-headers', EXPOSED);
  }
  return false;
}
