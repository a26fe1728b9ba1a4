// Issue 13 §3: the journal survives the database primary. PostgreSQL streams synchronously to a
// standby (a commit the back end acknowledged is on both) and pg_auto_failover's monitor promotes
// the standby when the primary dies (test/helpers/auto-failover.ts; docs/operations.md). Two
// `trusttap serve` nodes use the multi-host URL with target_session_attrs=read-write; the primary
// is killed (keeper and PostgreSQL, SIGKILL) under load; the nodes find the new primary by
// themselves; every approval a client saw is in the new primary's journal once, and clients
// that got no answer resolved their payment by its client transaction id.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { autoFailoverMissing, startAutoFailover, waitFor, type AutoFailover } from '../helpers/auto-failover.ts';
import { startNode, masterKeyFile, payingDevice, openIssuer, pay1, Nodes, type Node, type PayingDevice, type Outcome } from '../helpers/multinode.ts';
import type { PostgresRepository } from '../../backend/store/postgres.ts';
import type { IssuerSim } from '../../backend/issuer-sim/index.ts';
import { checkJournal } from './journal-check.ts';

const why = autoFailoverMissing();
const DEVICES = 3;
const PAYMENTS = 12;

describe.skipIf(!!why)(`a synchronous standby takes over (pg_auto_failover)${why ? ` (skipped: ${why})` : ''}`, () => {
  let f: AutoFailover;
  let nodes: Node[] = [];
  let repo: PostgresRepository;
  let issuer: IssuerSim;
  const devices: PayingDevice[] = [];

  beforeAll(async () => {
    f = await startAutoFailover();
    const keyFile = masterKeyFile();
    nodes.push(await startNode(f.url, keyFile));
    nodes.push(await startNode(f.url, keyFile));
    ({ repo, issuer } = await openIssuer(f.url, keyFile));
    const ring = new Nodes(nodes.map((n) => n.url));
    for (let i = 0; i < DEVICES; i++) devices.push(await payingDevice(ring, i, issuer));
  }, 300_000);

  afterAll(async () => {
    for (const d of devices) await d.dev.close().catch(() => undefined);
    for (const n of nodes) n.child.kill('SIGKILL');
    await repo?.close();
    await f?.destroy();
  });

  test('the primary is killed under load: the standby is promoted, the nodes reconnect, no approval is lost or doubled', async () => {
    const [primary, standby] = f.nodes;
    expect(repo.host).toContain(`:${primary.port}/`);
    const ring = new Nodes(nodes.map((n) => n.url));
    const outcomes: (Outcome & { device: number })[] = [];
    let killedAt = 0;
    await Promise.all(devices.map(async (d, i) => {
      for (let k = 0; k < PAYMENTS; k++) {
        const o = await pay1(d, ring, 200 + i * 10 + k);
        outcomes.push({ ...o, device: i });
        if (!killedAt && outcomes.length >= (DEVICES * PAYMENTS) / 3) {
          killedAt = Date.now();
          // Only a primary whose standby is in sync at that moment: pg_auto_failover promotes no
          // standby it does not know to hold every acknowledged commit, and on loaded cores a
          // missed health check can take the standby out of synchronous replication for a while.
          await waitFor(async () => { const s = await f.states(); return s[primary.name] === 'primary' && s[standby.name] === 'secondary'; }, 120_000, 'a synchronous standby before the kill');
          f.kill(primary);
        }
      }
    }));
    expect(killedAt).toBeGreaterThan(0);
    expect(outcomes).toHaveLength(DEVICES * PAYMENTS);
    expect(outcomes.every((o) => o.decision === 'approved')).toBe(true);
    // pg_auto_failover promoted the standby; the nodes and this checker now write to it.
    await waitFor(async () => ['wait_primary', 'primary'].includes((await f.states())[standby.name]), 240_000, 'the standby to be promoted');
    await repo.query('SELECT 1');
    expect(repo.host).toContain(`:${standby.port}/`);
    const recovery = await repo.query('SELECT pg_is_in_recovery() AS r');
    expect(recovery[0].r).toBe(false);
    await checkJournal(repo, issuer, devices, outcomes, 1e12);
    // Both nodes serve on the new primary (a payment through each).
    for (const n of nodes) {
      const o = await pay1(devices[0], new Nodes([n.url]), 333);
      expect(o.decision).toBe('approved');
      expect((await repo.query('SELECT COUNT(*)::int AS n FROM payments WHERE client_transaction_id = $1', [o.ctid]))[0].n).toBe(1);
    }
  }, 600_000); // a limit, not a measure: on shared cores pg_auto_failover's health checks and the promotion take longer
});
