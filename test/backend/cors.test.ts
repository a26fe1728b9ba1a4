// CORS on the back end (backend/http/cors.ts): off by default; with an allowed origin the device
// routes answer the preflight and expose the headers the client reads; the back office and other
// origins stay closed. node:http, not fetch: fetch would add its own Origin rules.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { request } from 'node:http';
import { startTestBackend, type Backend } from './harness.ts';
import { checkOrigin, parseOrigins, CorsOriginError } from '../../backend/http/cors.ts';

const PAGE = 'http://127.0.0.1:5173';

function call(url: string, method: string, headers: Record<string, string>, body?: Uint8Array) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
    const r = request(url, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

const preflight = (url: string, origin: string, method = 'POST', headers = 'content-type') =>
  call(url, 'OPTIONS', { origin, 'access-control-request-method': method, 'access-control-request-headers': headers });

describe('back end CORS', () => {
  let open: Backend;
  let closed: Backend;
  beforeAll(async () => {
    open = await startTestBackend({ corsOrigins: [PAGE, 'capacitor://localhost'] });
    closed = await startTestBackend();
  });
  afterAll(async () => {
    await open?.close();
    await closed?.close();
  });

  it('answers the preflight of a device route for an allowed origin', async () => {
    const r = await preflight(`${open.url}/v1/device/challenge`, PAGE);
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe(PAGE);
    expect(String(r.headers['access-control-allow-methods'])).toContain('POST');
    expect(r.headers['access-control-allow-headers']).toBe('content-type');
    const native = await preflight(`${open.url}/v1/keys`, 'capacitor://localhost', 'GET', '');
    expect(native.status).toBe(204);
    expect(native.headers['access-control-allow-origin']).toBe('capacitor://localhost');
  });

  it('exposes the message and error headers on the real request', async () => {
    const ok = await call(`${open.url}/v1/keys`, 'GET', { origin: PAGE });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(PAGE);
    expect(String(ok.headers['access-control-expose-headers'])).toContain('x-trusttap-message');
    expect(ok.headers.vary).toBe('Origin');
    // A refusal carries them too, so the page can read the error code.
    const bad = await call(`${open.url}/v1/device/challenge`, 'POST', { origin: PAGE, 'content-type': 'application/x-protobuf' }, new Uint8Array([0xff, 0xff]));
    expect(bad.status).toBe(400);
    expect(bad.headers['access-control-allow-origin']).toBe(PAGE);
    expect(bad.headers['x-trusttap-error']).toBe('ERROR_MALFORMED');
  });

  it('refuses other origins, other headers, the back office, and everything when off', async () => {
    for (const r of [
      await preflight(`${open.url}/v1/device/challenge`, 'http://evil.example'),
      await preflight(`${open.url}/v1/device/challenge`, PAGE, 'POST', 'content-type, authorization'),
      await preflight(`${open.url}/v1/device/challenge`, PAGE, 'DELETE'),
      await preflight(`${open.url}/v1/admin/terminals`, PAGE),
      await preflight(`${closed.url}/v1/device/challenge`, PAGE),
    ]) {
      expect(r.status).toBe(403);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
    const other = await call(`${open.url}/v1/keys`, 'GET', { origin: 'http://evil.example' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const off = await call(`${closed.url}/v1/keys`, 'GET', { origin: PAGE });
    expect(off.status).toBe(200);
    expect(off.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('accepts only plain origins', () => {
    expect(checkOrigin('https://localhost')).toBe('https://localhost');
    expect(checkOrigin('capacitor://localhost')).toBe('capacitor://localhost');
    for (const bad of ['*', 'https://localhost/', 'localhost:8080', 'https://a.example/path', 'http://*.example']) {
      expect(() => checkOrigin(bad)).toThrow(CorsOriginError);
    }
    expect(parseOrigins('https://localhost, capacitor://localhost')).toEqual(['https://localhost', 'capacitor://localhost']);
    expect(() => parseOrigins('https://localhost,')).toThrow(CorsOriginError);
  });
});
