// Authorizations on PostgreSQL with 1, 2 and 3 back-end nodes (issue 13 §4): `trusttap serve
// --db postgres://…` processes on one throwaway cluster (fsync on, synchronous_commit on: an
// answer leaves after its commit is on disk, as with SQLite's synchronous=FULL), devices in
// parallel, each sending its payments round the nodes in use (test/helpers/multinode.ts: the
// real TEE, kernel, card and txsign make every record beforehand; what the load generator does
// while timed is to POST a pre-signed body and check the signed answer). Skips with the reason
// when PostgreSQL is not installed.
import { cpus, loadavg } from 'node:os';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { postgresMissing, startCluster } from '../helpers/postgres.ts';
import { startNode, masterKeyFile, payingDevice, openIssuer, makeRecord, envelope, send, linkTo, Nodes, type PayingDevice, type Node } from '../helpers/multinode.ts';
import { median, type Section, type Figure } from './measure.ts';

const a = trusttap.attest.v1;
const pay = trusttap.payment.v1;
const DEVICES = 4;
const PER_DEVICE = 50;
const pct = (xs: number[], p: number) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

export async function run(): Promise<Section> {
  const title = 'Back end on PostgreSQL: authorizations with 1, 2 and 3 nodes';
  const why = postgresMissing();
  if (why) return { title, figures: [], notes: [`skipped: ${why}`] };
  const cluster = await startCluster();
  const keyFile = masterKeyFile();
  const nodes: Node[] = [];
  const devs: PayingDevice[] = [];
  const { repo, issuer } = await openIssuer(cluster.url, keyFile);
  try {
    nodes.push(await startNode(cluster.url, keyFile));
    nodes.push(...await Promise.all([startNode(cluster.url, keyFile), startNode(cluster.url, keyFile)]));
    const all = new Nodes(nodes.map((n) => n.url));
    for (let i = 0; i < DEVICES; i++) devs.push(await payingDevice(all, 100 + i, issuer));
    const t0 = performance.now();
    const recs: Uint8Array[][] = [];
    for (const d of devs) {
      const list: Uint8Array[] = [];
      for (let j = 0; j < 3 * PER_DEVICE; j++) list.push((await makeRecord(d, 12_34)).record);
      recs.push(list);
    }
    const prepMs = (performance.now() - t0) / (DEVICES * 3 * PER_DEVICE);
    const figures: Figure[] = [];
    const rates: number[] = [];
    for (let n = 1; n <= 3; n++) {
      const ring = new Nodes(nodes.slice(0, n).map((x) => x.url));
      // A fresh verdict token per device, then every request signed before the clock starts.
      // The TEE work above never yields, so the nodes' keep-alive sockets may have timed out
      // under the client: a reset on first reuse is retried once.
      await new Promise((r) => setTimeout(r, 100));
      const attest = (d: PayingDevice) => linkTo(ring.next(), d.link).attestNow();
      for (const d of devs) d.token = a.SignedToken.encode((await attest(d).catch(() => attest(d))).signed).finish();
      const bodies = await Promise.all(devs.map(async (d, i) => {
        const out = [];
        for (const record of recs[i].slice((n - 1) * PER_DEVICE, n * PER_DEVICE)) {
          out.push(await envelope(d, { authorize: { signedTransaction: record, signedToken: d.token, cvm: pay.Cvm.CVM_NO_CVM, aid: 'A000000333010101' } }));
        }
        return out;
      }));
      const lat: number[] = [];
      let bad = 0;
      const t = performance.now();
      await Promise.all(devs.map(async (d, i) => {
        for (const body of bodies[i]) {
          const s = performance.now();
          const r = await send(d, ring.next(), 'authorize', body);
          lat.push(performance.now() - s);
          if (r?.authorize?.decision !== pay.Decision.DECISION_APPROVED) bad++;
        }
      }));
      const rate = (DEVICES * PER_DEVICE) / ((performance.now() - t) / 1000);
      rates.push(rate);
      figures.push(
        { name: `${n} node${n > 1 ? 's' : ''}: authorizations/s (${DEVICES} devices in parallel, loopback HTTP)`, value: Math.round(rate), unit: '/s' },
        { name: `${n} node${n > 1 ? 's' : ''}: latency p50`, value: +median(lat).toFixed(2), unit: 'ms' },
        { name: `${n} node${n > 1 ? 's' : ''}: latency p99`, value: +pct(lat, 99).toFixed(2), unit: 'ms' },
        { name: `${n} node${n > 1 ? 's' : ''}: not approved (must be 0)`, value: bad, unit: '', ok: bad === 0 },
      );
    }
    figures.push({ name: 'input preparation per payment (kernel + card + txsign; not timed above)', value: +prepMs.toFixed(2), unit: 'ms' });
    figures.push({ name: 'machine load average (1 min) at the end: other work competing for the cores', value: +loadavg()[0].toFixed(1), unit: '' });
    return {
      title, figures,
      notes: [
        `On this machine every node, the PostgreSQL server and the load generator share ${cpus().length} cores: a second and a third node add no CPU, only processes competing for the same two (the curve is flat or falls: ${rates.map((r) => Math.round(r)).join(' → ')}/s). What a node costs is CPU (signature checks, HSM Wasm, protobuf), what the database costs is one fsync'd commit per authorization plus its row locks; on machines of their own nodes add CPU until the database's commit rate is the limit (docs/scaling.md).`,
        'Each authorization is its own REPEATABLE READ transaction (no group commit across requests as on SQLite): its commit waits for its own WAL flush, which PostgreSQL shares between concurrent commits.',
      ],
    };
  } finally {
    for (const d of devs) await d.dev.close().catch(() => undefined);
    for (const n of nodes) { n.child.kill('SIGTERM'); await n.exited; }
    await repo.close();
    cluster.destroy();
  }
}
