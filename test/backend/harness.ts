// Test harness: the real back end on loopback (ephemeral port, SQLite in a temp dir, the signed
// build's manifest as allowlist, the test OEM root), an admin client, and devices (reference
// runtime + attest TA + BackendLink).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { startBackend, type Backend, type ServerOptions } from '../../backend/http/server.ts';
import type { Repository } from '../../backend/store/repository.ts';
import type { SqliteRepository } from '../../backend/store/sqlite.ts';
import { PostgresRepository } from '../../backend/store/postgres.ts';
import { freshDatabase } from '../helpers/postgres.ts';
import { DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from '../../tee/index.ts';
import { TEST_OEM_ROOT } from '../../sim/oem/index.ts';
import { BackendLink } from '../../ree/attestation/backend-link.ts';
import { startDevice, type Device, type DeviceOptions } from '../attest/device.ts';

export const a = trusttap.attest.v1;
export const buildManifest = () => ({
  bytes: new Uint8Array(readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json'))),
  signature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8'),
});

/** Which store the back-end suites run on: the `postgres` vitest project sets TRUSTTAP_TEST_DB. */
export const testDb: 'sqlite' | 'postgres' = process.env.TRUSTTAP_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

/** A store for one test back end: undefined (the service opens SQLite in its dataDir) or a
 * PostgreSQL repository on a fresh database of the run's throwaway cluster. */
export async function testRepository(): Promise<Repository | undefined> {
  if (testDb !== 'postgres') return undefined;
  const { inject } = await import('vitest');
  return PostgresRepository.open(await freshDatabase(inject('pgUrl')));
}

/** Rows of a table, whatever the store (for checks on what is stored). */
export async function tableRows(be: Backend, sql: string): Promise<Record<string, unknown>[]> {
  const repo = be.service.repo;
  if (repo instanceof PostgresRepository) return repo.query(sql);
  return (repo as SqliteRepository).db.prepare(sql).all() as Record<string, unknown>[];
}

/** Everything the store holds, as bytes: SQLite's file and WAL; on PostgreSQL every value of every
 * table (bytea raw, the rest as text), which is what its files hold. */
export async function storedBytes(be: Backend): Promise<{ db: Buffer; wal: Buffer }> {
  const repo = be.service.repo;
  if (repo instanceof PostgresRepository) {
    const parts: Buffer[] = [];
    for (const t of await repo.query("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'")) {
      for (const row of await repo.query(`SELECT * FROM ${t.t as string}`)) {
        for (const v of Object.values(row)) parts.push(Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
      }
    }
    return { db: Buffer.concat(parts), wal: Buffer.alloc(0) };
  }
  const file = (repo as unknown as { db: { name: string } }).db.name;
  const wal = (() => { try { return readFileSync(`${file}-wal`); } catch { return Buffer.alloc(0); } })();
  return { db: readFileSync(file), wal };
}

export async function startTestBackend(o: Partial<ServerOptions> = {}): Promise<Backend> {
  return startBackend({
    repo: await testRepository(),
    dataDir: o.dataDir ?? mkdtempSync(join(tmpdir(), 'tt-be-')),
    oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
    manifestKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY),
    manifests: [buildManifest()],
    sweepIntervalMs: 0,
    port: 0,
    ...o,
  });
}

export class Admin {
  constructor(readonly be: Backend) {}
  async req(method: string, path: string, body?: Uint8Array, token = this.be.adminToken) {
    const r = await fetch(`${this.be.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' }, body: body ? Buffer.from(body) : undefined });
    return { status: r.status, message: r.headers.get('x-trusttap-message'), error: r.headers.get('x-trusttap-error'), body: new Uint8Array(await r.arrayBuffer()) };
  }
  async createTerminal(merchantId: string, terminalId: string) {
    const r = await this.req('POST', '/v1/admin/terminals', a.CreateTerminalRequest.encode({ merchantId, terminalId }).finish());
    if (r.status !== 201) throw new Error(`createTerminal: ${r.status} ${r.error}`);
    return a.CreateTerminalResponse.decode(r.body);
  }
  async setState(deviceId: string, state: number, reason: string) {
    return this.req('POST', `/v1/admin/devices/${deviceId}/state`, a.SetDeviceStateRequest.encode({ state, reason }).finish());
  }
  async device(deviceId: string) {
    return a.DeviceRecord.decode((await this.req('GET', `/v1/admin/devices/${deviceId}`)).body);
  }
  async history(deviceId: string) {
    return a.HistoryResponse.decode((await this.req('GET', `/v1/admin/devices/${deviceId}/history`)).body).entries;
  }
  /** GET the policy, change some fields, PUT it back. */
  async putPolicy(p: Record<string, unknown>) {
    const cur = a.Policy.decode((await this.req('GET', '/v1/admin/policy')).body);
    const r = await this.req('PUT', '/v1/admin/policy', a.Policy.encode({ ...cur, ...p } as any).finish());
    if (r.status !== 200) throw new Error(`putPolicy: ${r.status} ${r.error}`);
    return a.Policy.decode(r.body);
  }
}

let terminalSeq = 0;
/** A terminal id unique within this process (EMV 9F1C: 8 characters). */
export const tid = () => `T${(terminalSeq++).toString(36).padStart(7, '0')}`;

/** A new device (own TEE state) enrolled on a new terminal. */
export async function enrolledDevice(be: Backend, admin: Admin, o: DeviceOptions = {}) {
  const dev = await startDevice(o);
  const link = new BackendLink(be.url, dev.attest, dev.collector);
  const t = await admin.createTerminal('M-0001', tid());
  const enrol = await link.enrol(t.activationCode);
  return { dev, link, enrol, terminal: t };
}

export type { Backend, Device };
