// The C host serving many clients over a Unix socket (issue 15; `tt-host --listen`): several
// clients at once, each with its own sessions — a client cannot invoke, cancel or close another
// client's session (issue 17 §9: sessions belong to whoever opened them) — and a client that goes
// away has its sessions closed, as a TEE closes a dead client's sessions.
import { describe, test, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeContext } from '../../ree/tee-client/index.ts';
import { Status } from '../../proto/status.ts';
import { probeImages, rawRequest } from '../../conformance/index.ts';
import { startCHostServer } from './c-host.ts';
import { onCHost } from './c-host-gate.ts';

const ECHO = 9, ALLOC = 11;
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
const le32 = (b: Uint8Array) => Buffer.from(b).readUInt32LE(0);
const socketPath = () => join(mkdtempSync(join(tmpdir(), 'tt-csock-')), 'tee.sock');

await onCHost('C host over a Unix socket', () => describe('C host over a Unix socket', () => {
  test('8 clients at once, each with its own sessions, all answered on their own connection', async () => {
    const host = await startCHostServer(await probeImages(), mkdtempSync(join(tmpdir(), 'tt-csock-')), socketPath());
    const clients = await Promise.all(Array.from({ length: 8 }, async () => { const t = await host.connect(); return { t, ctx: await TeeContext.initialize(t) }; }));
    const results = await Promise.all(clients.map(async ({ ctx }, c) => {
      const sessions = await Promise.all([ctx.openSession('probe'), ctx.openSession('probe2')]);
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => {
        const payload = u32(c * 100_000 + i);
        return sessions[i % 2].invoke(ECHO, payload).then((r) => Buffer.from(r).equals(payload));
      }));
      for (const s of sessions) await s.close();
      return answers.every(Boolean);
    }));
    expect(results).toEqual(Array(8).fill(true));
    for (const { ctx, t } of clients) { await ctx.finalize(); await t.close(); }
    await host.close();
  });

  test("a client cannot invoke, cancel or close another client's session", async () => {
    const host = await startCHostServer(await probeImages(), mkdtempSync(join(tmpdir(), 'tt-csock-')), socketPath());
    const [a, b] = [await host.connect(), await host.connect()];
    const ctxA = await TeeContext.initialize(a);
    const sa = await ctxA.openSession('probe');
    const sid = sa.id;
    for (const op of [{ invoke: { session: sid, command: ECHO, payload: Uint8Array.of(1) } }, { cancel: { session: sid } }, { closeSession: { session: sid } }]) {
      const r = await rawRequest(b, op);
      expect(r.status >>> 0).toBe(Status.ERROR_BAD_PARAMETERS >>> 0);
      expect(r.message).toBe(`no open session ${sid}`);
    }
    expect(Array.from(await sa.invoke(ECHO, Uint8Array.of(2)))).toEqual([2]);
    await ctxA.finalize();
    await a.close(); await b.close();
    await host.close();
  });

  test('a client that disconnects has its sessions closed (the TA instance goes with its last session)', async () => {
    const host = await startCHostServer(await probeImages(), mkdtempSync(join(tmpdir(), 'tt-csock-')), socketPath());
    const a = await host.connect();
    const sa = await (await TeeContext.initialize(a)).openSession('probe');
    expect(le32(await sa.invoke(ALLOC, u32(1)))).toBe(1); // the instance now holds 1 MiB
    await a.close(); // no CloseSession sent: the host closes it
    const b = await host.connect();
    const ctxB = await TeeContext.initialize(b);
    const sb = await ctxB.openSession('probe');
    expect(le32(await sb.invoke(ALLOC, u32(0)))).toBe(0); // a new instance
    await ctxB.finalize(); await b.close();
    await host.close();
  });
}));
