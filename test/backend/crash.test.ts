// Durability: `trusttap serve` in a child process is killed with SIGKILL while clients write to
// it; after a restart on the same data directory every record the back end acknowledged is
// there, and the database is consistent (each request's effects committed all or nothing).
import { test, expect } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const a = trusttap.attest.v1;
const TOKEN = 'crash-test-admin-token';

function serve(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['bin/trusttap.mjs', 'serve', '--port', '0', '--data', dataDir, '--admin-token', TOKEN, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => { err += d; });
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

const admin = (url: string, method: string, path: string, body?: Uint8Array) =>
  fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` }, body: body ? Buffer.from(body) : undefined });

test('kill -9 under load: every acknowledged record survives the restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-crash-'));
  const first = await serve(dataDir);
  const acked: { deviceId: string; terminalId: string; state?: number }[] = [];
  let stop = false;
  let seq = 0;
  const worker = async (w: number) => {
    while (!stop) {
      const terminalId = `T-${w}-${seq++}`;
      try {
        const r = await admin(first.url, 'POST', '/v1/admin/terminals', a.CreateTerminalRequest.encode({ merchantId: 'M-CRASH', terminalId }).finish());
        if (r.status !== 201) continue;
        const t = a.CreateTerminalResponse.decode(new Uint8Array(await r.arrayBuffer()));
        const rec: { deviceId: string; terminalId: string; state?: number } = { deviceId: t.deviceId, terminalId };
        acked.push(rec);
        if (acked.length % 3 === 0) {
          // A second write to the same record: disable it (state + history + reason in one transaction).
          const s = await admin(first.url, 'POST', `/v1/admin/devices/${t.deviceId}/state`, a.SetDeviceStateRequest.encode({ state: a.DeviceState.DEVICE_STATE_DISABLED, reason: 'crash test' }).finish());
          if (s.status === 200) rec.state = a.DeviceState.DEVICE_STATE_DISABLED;
        }
      } catch {
        return; // the server is gone
      }
    }
  };
  const load = [0, 1, 2, 3].map(worker);
  while (acked.length < 150) await new Promise((r) => setTimeout(r, 20));
  const exited = new Promise((r) => first.child.once('exit', r));
  first.child.kill('SIGKILL');
  stop = true;
  await Promise.all(load);
  await exited;
  expect(acked.length).toBeGreaterThanOrEqual(150);

  const second = await serve(dataDir);
  try {
    for (const x of acked) {
      const r = await admin(second.url, 'GET', `/v1/admin/devices/${x.deviceId}`);
      expect(r.status, x.deviceId).toBe(200);
      const d = a.DeviceRecord.decode(new Uint8Array(await r.arrayBuffer()));
      expect(d.terminalId).toBe(x.terminalId);
      if (x.state) expect(d.state).toBe(x.state);
    }
  } finally {
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }
  // Consistency: every disabled device has its state change in the history (same transaction).
  const db = new Database(join(dataDir, 'backend.db'), { readonly: true });
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  const orphans = db.prepare(`SELECT COUNT(*) AS n FROM devices d WHERE d.state = 'disabled' AND NOT EXISTS
    (SELECT 1 FROM history h WHERE h.device_id = d.device_id AND h.detail LIKE 'registered -> disabled%')`).get() as { n: number };
  expect(orphans.n).toBe(0);
  db.close();
});
