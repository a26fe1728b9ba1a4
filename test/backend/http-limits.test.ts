// Issue 17 §4: the HTTP limits an attacker meets first. A body over 64 KiB gets 413 at any size
// and framing (Content-Length or chunked), answered while the client is still sending and not
// lost to a reset; a slow upload gets 408 and is not logged as an internal error; header and URL
// limits stay (431); the server keeps answering afterwards. Loopback only; the slow upload runs
// against a server whose request timeout is set short, so the test takes seconds.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { request } from 'node:http';
import { connect } from 'node:net';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { MAX_BODY } from '../../backend/http/server.ts';
import { startTestBackend, type Backend } from './harness.ts';
import { createLogger } from '../../backend/http/log.ts';

const a = trusttap.attest.v1;
const logs: string[] = [];
let be: Backend;
beforeAll(async () => { be = await startTestBackend({ requestTimeoutMs: 2_000, logger: createLogger({ dest: { write: (l: string) => { logs.push(l); } } }) }); }, 60_000);
afterAll(async () => { await be?.close(); });

interface Answer { status: number; error: string | null; code: number; sentWhenAnswered: number }

/** POSTs `total` bytes in 64 KiB writes (chunked if `chunked`), answering as soon as the server
 * answers; `sentWhenAnswered` says how much had been written by then. */
function post(total: number, chunked: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = request(`${be.url}/v1/device/heartbeat`, {
      method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...(chunked ? {} : { 'content-length': String(total) }) },
    }, (res) => {
      const answeredAt = sent;
      const parts: Buffer[] = [];
      res.on('data', (c) => parts.push(c)).on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode!, error: res.headers['x-trusttap-error'] as string ?? null, code: a.ErrorResponse.decode(body).code, sentWhenAnswered: answeredAt });
      });
    });
    req.on('error', reject);
    const block = Buffer.alloc(64 * 1024, 0x5a);
    const pump = () => {
      while (sent < total) {
        const n = Math.min(block.length, total - sent);
        sent += n;
        if (!req.write(n === block.length ? block : block.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** A raw HTTP exchange over one socket: what the server writes back, and whether it reset. */
function raw(head: string, trickle?: { bytes: number; everyMs: number }): Promise<{ text: string; reset: boolean }> {
  return new Promise((resolve) => {
    const sock = connect(be.port, '127.0.0.1');
    let text = '', reset = false, timer: NodeJS.Timeout | undefined;
    sock.on('data', (d) => { text += d.toString('latin1'); });
    sock.on('error', () => { reset = true; });
    sock.on('close', () => { clearInterval(timer); resolve({ text, reset }); });
    sock.write(head);
    if (trickle) {
      let left = trickle.bytes;
      timer = setInterval(() => { if (left-- > 0 && sock.writable) sock.write('x'); }, trickle.everyMs);
    }
  });
}

describe('HTTP limits', () => {
  test('a 50 MB body with Content-Length: 413 ERROR_TOO_LARGE, answered before the upload ended, not reset', async () => {
    const r = await post(50 * 1024 * 1024, false);
    expect([r.status, r.error, r.code]).toEqual([413, 'ERROR_TOO_LARGE', a.ErrorCode.ERROR_TOO_LARGE]);
    expect(r.sentWhenAnswered).toBeLessThan(50 * 1024 * 1024);
  }, 60_000);

  test('a 50 MB chunked body (no length given): 413, counted while streaming', async () => {
    const r = await post(50 * 1024 * 1024, true);
    expect([r.status, r.error]).toEqual([413, 'ERROR_TOO_LARGE']);
    expect(r.sentWhenAnswered).toBeLessThan(50 * 1024 * 1024);
  }, 60_000);

  test('just over the limit, chunked: 413; at the limit: not a size refusal', async () => {
    expect((await post(MAX_BODY + 1, true)).status).toBe(413);
    const atLimit = await post(MAX_BODY, true);
    expect(atLimit.status).toBe(400); // read whole, then refused as not a SignedDeviceRequest
    expect(atLimit.error).toBe('ERROR_MALFORMED');
  });

  test('a body trickled at 1 byte per second: 408 ERROR_TIMEOUT after the request timeout, not an internal error', async () => {
    logs.length = 0;
    const r = await raw(`POST /v1/device/heartbeat HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: 100\r\n\r\n`, { bytes: 100, everyMs: 1_000 });
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.text).toMatch(/x-trusttap-error: ERROR_TIMEOUT/i);
    expect(r.reset).toBe(false);
    expect(logs.some((l) => /internal error/.test(l))).toBe(false);
    expect(logs.map((l) => JSON.parse(l)).some((l) => l.method === 'POST' && l.path === '/v1/device/heartbeat' && l.status === 408)).toBe(true);
  }, 20_000);

  test('a client that leaves mid-body is not an internal error', async () => {
    logs.length = 0;
    await new Promise<void>((resolve) => {
      const sock = connect(be.port, '127.0.0.1', () => {
        sock.write('POST /v1/device/heartbeat HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nabc', () => setTimeout(() => { sock.destroy(); resolve(); }, 100));
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(logs.some((l) => /internal error/.test(l))).toBe(false);
  });

  test('header and URL limits stay: 431 for 20 KiB of headers or of URL; the server still answers', async () => {
    const bigHeader = await raw(`GET /v1/keys HTTP/1.1\r\nhost: x\r\nx-pad: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    expect(bigHeader.text).toMatch(/^HTTP\/1\.1 431 /);
    const bigUrl = await raw(`GET /v1/keys?${'a'.repeat(20 * 1024)} HTTP/1.1\r\nhost: x\r\n\r\n`);
    expect(bigUrl.text).toMatch(/^HTTP\/1\.1 431 /);
    expect((await fetch(`${be.url}/v1/keys`)).status).toBe(200);
  });
});
