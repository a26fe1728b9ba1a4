// Issue 13 §2: `trusttap serve` is stateless over PostgreSQL. Three server processes share one
// database and one master key; each device sends each request to a different node in turn (enrol
// on one, attest on another, keys on a third, payments round the ring). One node is killed with
// SIGKILL mid-load: every approval a client saw is journaled once, nobody is charged twice, the
// journal and the ledger agree, and the other nodes keep serving. SIGTERM drains: a request in
// flight is finished and answered, a new one is refused, the process exits 0.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { request as httpRequest, Agent } from 'node:http';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { postgresMissing, startCluster, type PgCluster } from '../helpers/postgres.ts';
import {
  startNode, masterKeyFile, payingDevice, openIssuer, pay1, envelope, Nodes, type Node, type PayingDevice, type Outcome,
} from '../helpers/multinode.ts';
import type { PostgresRepository } from '../../backend/store/postgres.ts';
import { checkJournal } from './journal-check.ts';
import type { IssuerSim } from '../../backend/issuer-sim/index.ts';

const a = trusttap.attest.v1;
const why = postgresMissing();
const DEVICES = 4;
const PAYMENTS = 12;

describe.skipIf(!!why)(`three back-end nodes on one PostgreSQL${why ? ` (skipped: ${why})` : ''}`, () => {
  let cluster: PgCluster;
  let nodes: Node[] = [];
  let keyFile: string;
  let repo: PostgresRepository;
  let issuer: IssuerSim;
  const devices: PayingDevice[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
    keyFile = masterKeyFile();
    nodes.push(await startNode(cluster.url, keyFile)); // the first makes the schema and the keys
    nodes.push(...await Promise.all([startNode(cluster.url, keyFile), startNode(cluster.url, keyFile)]));
    ({ repo, issuer } = await openIssuer(cluster.url, keyFile));
    const ring = new Nodes(nodes.map((n) => n.url));
    for (let i = 0; i < DEVICES; i++) devices.push(await payingDevice(ring, i, issuer));
  }, 300_000);

  afterAll(async () => {
    for (const d of devices) await d.dev.close().catch(() => undefined);
    for (const n of nodes) n.child.kill('SIGKILL');
    await repo?.close();
    cluster?.destroy();
  });

  test('the nodes share the signing keys and one device\'s requests move between them', async () => {
    const keys = await Promise.all(nodes.map(async (n) => Buffer.from(await (await fetch(`${n.url}/v1/keys`)).arrayBuffer()).toString('hex')));
    expect(new Set(keys).size).toBe(1);
    // Enrolment, attestation and key injection of each device went to different nodes:
    for (const d of devices) {
      const h = await repo.query("SELECT kind FROM history WHERE device_id = $1 AND kind IN ('enrolment', 'verdict', 'key_injection')", [d.link.state.deviceId]);
      expect(h.map((r) => r.kind)).toEqual(expect.arrayContaining(['enrolment', 'verdict', 'key_injection']));
    }
    // The BDK and the service keys are in the database only wrapped (AES-GCM under the master key).
    const secrets = await repo.query("SELECT id, length(wrapped) AS n FROM secrets WHERE id LIKE 'bdk/%' OR id LIKE 'service-key/%' ORDER BY id");
    expect(secrets.map((s) => s.id)).toEqual(['bdk/bdk-default', 'service-key/device-ca', 'service-key/key-agreement', 'service-key/response', 'service-key/token']);
    for (const s of secrets) expect(Number(s.n)).toBeGreaterThan(28); // iv(12) || ciphertext || tag(16)
  });

  test('SIGKILL of one node mid-load: every approval seen is journaled once, no double charge, the others keep serving', async () => {
    const ring = new Nodes(nodes.map((n) => n.url));
    const victim = nodes[1];
    const outcomes: (Outcome & { device: number; afterKill: boolean })[] = [];
    let killed = false;
    const load = devices.map(async (d, i) => {
      for (let k = 0; k < PAYMENTS; k++) {
        const o = await pay1(d, ring, 100 + ((i * PAYMENTS + k) % 50), (url) => { if (url === victim.url && killed) ring.down.add(url); });
        outcomes.push({ ...o, device: i, afterKill: killed });
        if (!killed && outcomes.length >= (DEVICES * PAYMENTS) / 3) {
          killed = true;
          victim.child.kill('SIGKILL');
        }
      }
    });
    await Promise.all(load);
    expect(killed).toBe(true);
    expect(await victim.exited).toBeNull(); // killed by the signal, no exit code
    expect(outcomes).toHaveLength(DEVICES * PAYMENTS);
    expect(outcomes.filter((o) => o.afterKill).length).toBeGreaterThan(0);
    expect(outcomes.every((o) => o.decision === 'approved')).toBe(true);

    await checkJournal(repo, issuer, devices, outcomes, 1e12);
    // The surviving nodes still answer.
    for (const n of [nodes[0], nodes[2]]) expect((await fetch(`${n.url}/v1/keys`)).status).toBe(200);
  });

  test('SIGTERM drains: the request in flight is answered, a new one is refused, the node exits 0', async () => {
    const node = nodes[2];
    const d = devices[0];
    const env = await envelope(d, { heartbeat: { ree: d.dev.collector.collect() } });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // A request whose body is still arriving when SIGTERM comes: the server has taken it.
    const answered = new Promise<{ status: number; message: string | undefined }>((resolve, reject) => {
      const req = httpRequest(`${node.url}/v1/device/heartbeat`, { method: 'POST', agent, headers: { 'content-length': env.bytes.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, message: res.headers['x-trusttap-message'] as string | undefined }));
      });
      req.on('error', reject);
      req.write(Buffer.from(env.bytes.subarray(0, 10)));
      setTimeout(() => {
        node.child.kill('SIGTERM');
        setTimeout(() => req.end(Buffer.from(env.bytes.subarray(10))), 300);
      }, 300);
    });
    const first = await answered;
    expect(first).toEqual({ status: 200, message: 'SignedDeviceResponse' });
    // A new connection after the drain began: nobody listens any more.
    await expect(fetch(`${node.url}/v1/keys`)).rejects.toThrow();
    expect(await node.exited).toBe(0);
    agent.destroy();
    // The device goes on with another node.
    const ok = await fetch(`${nodes[0].url}/v1/keys`);
    expect(ok.status).toBe(200);
    expect(a.EnrolResponse.decode(new Uint8Array(await ok.arrayBuffer())).responsePublicKey.length).toBe(65);
  });
});
