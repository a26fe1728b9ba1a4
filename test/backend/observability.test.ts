// Issue 12 §2 over HTTP: /healthz, /readyz (database reachable, schema current), /metrics
// (Prometheus text, bearer token) and the JSON request log — one line per request with its
// request id, and never a PAN, PIN, PIN block or key: real payments (the demo's phone: reference
// TEE with the signed TAs, a simulated card, PIN on the trusted keypad) go through a back end
// whose log is collected, and the log is searched for the card's PAN, the PINs typed and the key
// material the back end and the test issuer hold.
import { describe, test, expect, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as demo } from '../../cli/commands/demo.ts';
import { createLogger, REDACTED_FIELDS } from '../../backend/http/log.ts';
import { TEST_CARDS, TEST_ISSUER_MASTER_KEY_AC_HEX, TEST_ISSUER_MASTER_KEY_AC_SM4_HEX } from '../../backend/issuer-sim/index.ts';
import type { SqliteRepository } from '../../backend/store/sqlite.ts';
import { startTestBackend, testDb, type Backend } from './harness.ts';
import { PostgresRepository } from '../../backend/store/postgres.ts';

const lines: string[] = [];
const logger = createLogger({ dest: { write: (l: string) => { lines.push(l); } } });
let be: Backend;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tt-obs-'));
  be = await startTestBackend({ dataDir, logger, metricsToken: 'scrape-token-for-the-test' });
}, 60_000);
afterAll(async () => { await be?.close(); });

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${be.url}${path}`, { headers });
const logged = () => lines.map((l) => JSON.parse(l) as Record<string, any>);

/** One demo payment against `be`; its JSON result. */
async function pay(...args: string[]): Promise<Record<string, any>> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((x: unknown) => { out.push(String(x)); });
  try {
    await demo(['--backend', be.url, '--admin-token', be.adminToken, '--card-state', join(dataDir, 'cards.json'), '--json', ...args]);
  } finally {
    spy.mockRestore();
  }
  return JSON.parse(out[out.length - 1]);
}

describe('probes', () => {
  test('/healthz: 200 while the process serves', async () => {
    const r = await get('/healthz');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  test('/readyz: 200 with the schema version when the database answers and every migration is applied', async () => {
    const r = await get('/readyz');
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.status).toBe('ready');
    expect(body.schema.applied).toBe(body.schema.expected);
    expect(body.schema.expected).toBeGreaterThanOrEqual(3);
  });

  test('/readyz: 503 when the database holds a schema this code does not know (a newer release migrated it)', async () => {
    // Either store: SQLite's file or the PostgreSQL database the test back end runs on.
    const exec = (sql: string) => be.service.repo instanceof PostgresRepository
      ? be.service.repo.query(sql)
      : (be.service.repo as SqliteRepository).db.prepare(sql).run();
    await exec("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (999, 'from the future', 0)");
    try {
      const r = await get('/readyz');
      expect(r.status).toBe(503);
      expect((await r.json()).reason).toMatch(/schema version 999, this code needs \d+/);
    } finally {
      await exec('DELETE FROM schema_migrations WHERE version = 999');
    }
    expect((await get('/readyz')).status).toBe(200);
  });

  test('/readyz: 503 when the database does not answer; /healthz still 200', async () => {
    const other = await startTestBackend();
    try {
      await other.service.repo.close();
      const r = await fetch(`${other.url}/readyz`);
      expect(r.status).toBe(503);
      expect((await r.json()).reason).toMatch(/^database unreachable: /);
      expect((await fetch(`${other.url}/healthz`)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('request ids', () => {
  test('a well-formed x-request-id is kept, answered and logged; a missing or malformed one is replaced by a UUID', async () => {
    const mine = await get('/healthz', { 'x-request-id': 'lb-7f3a.42' });
    expect(mine.headers.get('x-request-id')).toBe('lb-7f3a.42');
    expect(logged().find((l) => l.reqId === 'lb-7f3a.42')).toMatchObject({ method: 'GET', path: '/healthz', route: 'healthz', status: 200 });
    const none = (await get('/healthz')).headers.get('x-request-id');
    expect(none).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const bad = (await get('/healthz', { 'x-request-id': 'has spaces and "quotes"' })).headers.get('x-request-id');
    expect(bad).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('metrics and the request log', () => {
  const cards = { approved: TEST_CARDS.find((c) => c.name === 'unionpay')!, visa: TEST_CARDS.find((c) => c.name === 'visa')! };
  const wrongPin = '864209753';

  beforeAll(async () => {
    lines.length = 0;
    // Online PIN, approved; the same card with a wrong PIN, declined; Visa without CVM, approved.
    expect((await pay('--card', 'unionpay', '--currency', 'CNY', '--amount', '1288.00')).outcome).toBe('approved');
    const declined = await pay('--card', 'unionpay', '--currency', 'CNY', '--amount', '1288.00', '--pin', wrongPin);
    expect([declined.outcome, declined.responseCode]).toEqual(['declined', '55']);
    expect((await pay('--card', 'visa', '--currency', 'USD', '--amount', '25.00')).outcome).toBe('approved');
  }, 120_000);

  test('/metrics needs the metrics or the admin bearer token', async () => {
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get('/metrics', { authorization: `Bearer ${be.adminToken}` })).status).toBe(200);
    const r = await get('/metrics', { authorization: 'Bearer scrape-token-for-the-test' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  test('/metrics counts authorizations by outcome and reason, verdicts, commits, latency per route family, connections, process', async () => {
    const text = await (await get('/metrics', { authorization: 'Bearer scrape-token-for-the-test' })).text();
    const value = (series: string) => {
      const m = new RegExp(`^${series.replace(/[{}"+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : NaN;
    };
    expect(value('trusttap_authorizations_total{outcome="approved",reason="none"}')).toBe(2);
    expect(value('trusttap_authorizations_total{outcome="declined",reason="incorrect_pin"}')).toBe(1);
    expect(value('trusttap_attestation_verdicts_total{verdict="allow"}')).toBeGreaterThanOrEqual(3);
    expect(value('trusttap_journal_commit_seconds_count')).toBeGreaterThan(0);
    if (testDb === 'sqlite') {
      // SQLite's deferred sync and group commit; PostgreSQL's COMMIT is durable by itself, one per request.
      expect(value('trusttap_journal_sync_seconds_count')).toBeGreaterThan(0);
      expect(value('trusttap_journal_commit_batch_requests_count')).toBeGreaterThan(0);
    }
    expect(value('trusttap_http_request_duration_seconds_count{route="device/authorize",code="200"}')).toBe(3);
    expect(value('trusttap_http_request_duration_seconds_count{route="admin",code="201"}')).toBe(3);
    expect(value('trusttap_http_open_connections')).toBeGreaterThanOrEqual(1);
    expect(value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).not.toMatch(/6228480000000000017|dev-|M-DEMO/); // no card, device or merchant in a label
  });

  test('one JSON line per request, with request id, route, status, time, and the decision of an authorization', async () => {
    const log = logged();
    expect(log.length).toBeGreaterThanOrEqual(3 * 5);
    for (const l of log) {
      expect(l).toMatchObject({ level: 30, msg: 'request', service: 'trusttap-backend' });
      expect(typeof l.reqId).toBe('string');
      expect(typeof l.ms).toBe('number');
    }
    const auths = log.filter((l) => l.route === 'device/authorize');
    expect(auths.map((l) => [l.status, l.decision, l.reason])).toEqual([[200, 'approved', 'none'], [200, 'declined', 'incorrect_pin'], [200, 'approved', 'none']]);
    expect(auths.every((l) => typeof l.device === 'string' && l.device.length > 0)).toBe(true);
    expect(log.some((l) => l.route === 'device/enrol' && l.verdict === 'allow')).toBe(true);
  });

  test('the log holds no PAN, PIN, PIN block, key or token', () => {
    const text = lines.join('');
    // reqIds are random; a UUID segment could read like a PIN, so they are left out of the PIN search.
    const withoutIds = logged().map(({ reqId: _, ...rest }) => JSON.stringify(rest)).join('\n');
    for (const pan of [cards.approved.pan, cards.visa.pan]) {
      expect(text).not.toContain(pan);
      expect(text).not.toContain(pan.slice(6, 15)); // the middle digits a masked PAN hides
    }
    for (const pin of [cards.approved.pin, wrongPin]) {
      expect(withoutIds).not.toMatch(new RegExp(`(?<![0-9])${pin}(?![0-9])`));
      expect(withoutIds).not.toMatch(new RegExp(`[04][4-9a-c]${pin}`, 'i')); // an ISO 9564 format 0/4 PIN field
    }
    const master = readFileSync(join(dataDir, 'hsm', 'master.key'));
    for (const secret of [
      TEST_ISSUER_MASTER_KEY_AC_HEX, TEST_ISSUER_MASTER_KEY_AC_SM4_HEX, master.toString('hex'), master.toString('base64'),
      be.adminToken, 'scrape-token-for-the-test',
    ]) {
      expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
    }
  });

  test('the redaction list: card, PIN and key fields logged by mistake are replaced, one level down too', () => {
    const out: string[] = [];
    const l = createLogger({ dest: { write: (s: string) => { out.push(s); } } });
    const card = { pan: cards.approved.pan, track2: `${cards.approved.pan}D3012` };
    l.info({
      pan: cards.approved.pan, pinBlock: '441234AAAAAAAAAA', nested: { key: TEST_ISSUER_MASTER_KEY_AC_HEX, authorization: `Bearer ${be.adminToken}` },
      list: [{ deeper: { card } }], raw: Buffer.from(TEST_ISSUER_MASTER_KEY_AC_HEX, 'hex'), route: 'x',
    }, 'oops');
    const line = JSON.parse(out[0]);
    expect(line).toMatchObject({
      pan: '[redacted]', pinBlock: '[redacted]', nested: { key: '[redacted]', authorization: '[redacted]' },
      list: [{ deeper: { card: { pan: '[redacted]', track2: '[redacted]' } } }], raw: '[redacted]', route: 'x',
    });
    expect(card.pan).toBe(cards.approved.pan); // the caller's object is not changed
    expect(out[0]).not.toContain(cards.approved.pan);
    expect(out[0]).not.toContain(TEST_ISSUER_MASTER_KEY_AC_HEX);
    expect(out[0]).not.toContain(be.adminToken);
    expect(REDACTED_FIELDS).toEqual(expect.arrayContaining(['pan', 'pin', 'pinBlock', 'key', 'authorization']));
  });
});
