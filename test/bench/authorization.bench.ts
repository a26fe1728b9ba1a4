// Authorization benchmark (issue 7): authorizations per second through the back end with its
// durable journal (SQLite WAL, synchronous=FULL: one fsync'd commit per authorization, before
// the answer). Goal: >= 1,000/s with p99 <= 20 ms on the 2-core reference machine.
//
// Inputs are real and made beforehand: enrolled devices (reference runtime, signed build) with
// a DUKPT key from RKI, a simulated card per device (its own account at the simulated issuer)
// read by the contactless kernel for each payment (a fresh ARQC and ATC), the txsign TA's
// signed + MACed record with encrypted card data, and the attest TA's request signature. Then
//   - in-process: BackendService.handleDevice('authorize', body) called back to back — the
//     whole service path (envelope signature, token, record signature and MAC, limits, card data
//     decryption in the HSM's Wasm, ARQC/ARPC, issuer, journal commit, signed answer), no HTTP;
//   - loopback HTTP: the same kind of requests over node:http, each device's in order, the
//     devices in parallel (client and server share this process and its two cores);
//   - the cost of each step alone, to show what dominates.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { startBackend, type Backend } from '../../backend/http/server.ts';
import { DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from '../../tee/index.ts';
import { TEST_OEM_ROOT } from '../../sim/oem/index.ts';
import { BackendLink } from '../../ree/attestation/backend-link.ts';
import { KeystoreClient } from '../../ree/tee-client/index.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { fromHex } from '../../common/hex.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { UnionPayCardSim } from '../../sim/cards/index.ts';
import { verifyP256 } from '../../backend/crypto/p256.ts';
import { LABEL, labelled } from '../../common/signature-labels.ts';
import { DEFAULT_BDK } from '../../backend/service.ts';
import { TEST_IMK_ID, TEST_PVK_ID } from '../../backend/issuer-sim/index.ts';
import { parseTlv } from '../../backend/authorization/tlv.ts';
import { startDevice, type Device } from '../attest/device.ts';
import { median, timeAsync, type Section } from './measure.ts';

const a = trusttap.attest.v1;
const pay = trusttap.payment.v1;
const tx = trusttap.txsign.v1;
const DEVICES = 4;
const PER_DEVICE_IN_PROCESS = 250;
const PER_DEVICE_HTTP = 250;
const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);

interface BenchDevice { dev: Device; link: BackendLink; merchantId: string; terminalId: string; pan: string; card: UnionPayCardSim; seq: number }

async function setUp(be: Backend, i: number): Promise<BenchDevice> {
  const dev = await startDevice();
  const link = new BackendLink(be.url, dev.attest, dev.collector);
  const t = await be.service.createTerminal('M-BENCH', `TA-${i}`);
  const enrol = await link.enrol(t.activationCode);
  await link.attestNow();
  const { kekKeyId, keys } = await link.injectKeys();
  const ks = await KeystoreClient.open(dev.ctx);
  await ks.importKeyBlock('dukpt', kekKeyId, keys[0].tr31);
  await ks.close();
  // A card of its own per device, so each card's ATCs arrive in order.
  const pan = `62284800000009${String(i).padStart(4, '0')}1`;
  await be.service.payments.issuer.issue({ name: `bench-${i}`, scheme: 'unionpay', pan, psn: '01', expiry: '3012', cvn: 'unionpay-01', pin: '1234', currency: '156', balanceMinor: 1e12, status: 'active', note: 'bench' });
  return { dev, link, merchantId: enrol.merchantId, terminalId: enrol.terminalId, pan, card: new UnionPayCardSim({ pan, psn: '01', atc: 1 }), seq: 0 };
}

/** One purchase made by the real parts: kernel + card (ARQC), txsign (record). */
async function record(d: BenchDevice): Promise<Uint8Array> {
  const t = new InProcessTransport(d.card);
  t.tap();
  const o = await runEntryPoint(t, config, { amount: 12_34, currency: '0156', date: '251125', time: '120000' });
  if (o.kind !== 'ONLINE_REQUEST') throw new Error(`bench card: ${o.kind} ${o.reason}`);
  const data: TlvEntry[] = Object.entries(o.onlineData!).filter(([k]) => k !== '9F26').map(([k, v]) => [k, v]);
  const s = await d.dev.ctx.openSession('txsign');
  try {
    return await s.invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({
      record: {
        type: tx.TransactionType.TRANSACTION_TYPE_PURCHASE, amountMinor: 12_34 as any, currency: '156', merchantId: d.merchantId, terminalId: d.terminalId,
        applicationCryptogram: fromHex(o.onlineData!['9F26']), cryptogramData: encodeTlv(data), maskedPan: o.card!.maskedPan!,
        timestampMs: Date.now() as any, clientTransactionId: `bench-${d.terminalId}-${++d.seq}`,
      },
      dukptKeyId: 'dukpt', sensitiveCardData: o.sensitive!,
    }).finish());
  } finally {
    await s.close();
  }
}

/** Device-signed AuthorizeRequest envelopes (counters increasing in send order). */
async function envelopes(d: BenchDevice, records: Uint8Array[], token: Uint8Array): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const r of records) {
    const counter = Math.max(d.link.state.lastCounter + 1, Date.now() * 1000);
    d.link.state.lastCounter = counter;
    const request = a.DeviceRequest.encode({
      deviceId: d.link.state.deviceId, counter, timeMs: Date.now(),
      authorize: { signedTransaction: r, signedToken: token, cvm: pay.Cvm.CVM_NO_CVM, aid: 'A000000333010101' },
    } as any).finish();
    out.push(a.SignedDeviceRequest.encode({ request, signature: await d.dev.attest.signRequest(request) }).finish());
  }
  return out;
}

/** Fresh ALLOW tokens. Work that never yields to the event loop (the in-process TEE, the
 * synchronous service loop) outlives the server's keep-alive timeout, so the first request on a
 * reused socket can meet ECONNRESET: retried once. */
async function freshTokens(devs: BenchDevice[]): Promise<Uint8Array[]> {
  await new Promise((r) => setTimeout(r, 100));
  const one = async (d: BenchDevice) => a.SignedToken.encode((await d.link.attestNow()).signed).finish();
  return Promise.all(devs.map((d) => one(d).catch(() => one(d))));
}

const decisionOf = (body: Uint8Array) => a.DeviceResponse.decode(a.SignedDeviceResponse.decode(body).response).authorize?.decision;
const pct = (xs: number[], p: number) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

export async function run(): Promise<Section> {
  const be = await startBackend({
    dataDir: mkdtempSync(join(tmpdir(), 'tt-bench-auth-')), port: 0, sweepIntervalMs: 0,
    oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
    manifestKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY),
    manifests: [{ bytes: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json')), signature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8') }],
  });
  const devs: BenchDevice[] = [];
  try {
    for (let i = 0; i < DEVICES; i++) devs.push(await setUp(be, i));
    const t0 = performance.now();
    const recs: Uint8Array[][] = [];
    for (const d of devs) {
      const list: Uint8Array[] = [];
      for (let j = 0; j < PER_DEVICE_IN_PROCESS + PER_DEVICE_HTTP; j++) list.push(await record(d));
      recs.push(list);
    }
    const prepMs = (performance.now() - t0) / (DEVICES * (PER_DEVICE_IN_PROCESS + PER_DEVICE_HTTP));

    // In-process: the service alone, one request after another.
    const tokens = await freshTokens(devs);
    const inProc = await Promise.all(devs.map((d, i) => envelopes(d, recs[i].slice(0, PER_DEVICE_IN_PROCESS), tokens[i])));
    const lat: number[] = [];
    let bad = 0;
    const order: Uint8Array[] = [];
    for (let j = 0; j < PER_DEVICE_IN_PROCESS; j++) for (let i = 0; i < DEVICES; i++) order.push(inProc[i][j]);
    const ti = performance.now();
    for (const body of order) {
      const t = performance.now();
      const r = await be.service.handleDevice('authorize', body);
      lat.push(performance.now() - t);
      if (r.http !== 200 || decisionOf(r.body) !== pay.Decision.DECISION_APPROVED) bad++;
    }
    const inRate = order.length / ((performance.now() - ti) / 1000);

    // Loopback HTTP: the devices in parallel, each in order.
    const tokens2 = await freshTokens(devs);
    const viaHttp = await Promise.all(devs.map((d, i) => envelopes(d, recs[i].slice(PER_DEVICE_IN_PROCESS), tokens2[i])));
    const hlat: number[] = [];
    let hbad = 0;
    const th = performance.now();
    await Promise.all(viaHttp.map(async (list) => {
      for (const body of list) {
        const t = performance.now();
        const r = await fetch(`${be.url}/v1/device/authorize`, { method: 'POST', body: Buffer.from(body) });
        const bytes = new Uint8Array(await r.arrayBuffer());
        hlat.push(performance.now() - t);
        if (r.status !== 200 || decisionOf(bytes) !== pay.Decision.DECISION_APPROVED) hbad++;
      }
    }));
    const httpRate = (DEVICES * PER_DEVICE_HTTP) / ((performance.now() - th) / 1000);

    // What each step costs alone (median µs per call), on inputs of the same kind.
    const d0 = devs[0];
    const signedReq = a.SignedDeviceRequest.decode(inProc[0][0]);
    const st = tx.SignTransactionResponse.decode(recs[0][0]);
    const rec = tx.TransactionRecord.decode(st.record);
    const devKey = (await d0.dev.attest.getIdentity()).publicKey;
    const hsm = be.service.hsm;
    const icc = parseTlv(rec.cryptogramData).set('9F26', rec.applicationCryptogram);
    const steps: [string, () => Promise<unknown>][] = [
      ['ECDSA P-256 verify (envelope; the record\'s is another)', async () => verifyP256(devKey, labelled(LABEL.deviceRequest, signedReq.request), signedReq.signature)],
      ['DUKPT MAC verify in the HSM (BDK unwrap + AS Wasm)', () => hsm.verifyDukptMac(DEFAULT_BDK, st.macKsn, st.record, st.mac)],
      ['card data decrypt in the HSM (BDK unwrap + AS Wasm)', () => hsm.decryptDukptData(DEFAULT_BDK, st.macKsn, rec.encryptedCardData)],
      ['PIN block check in the HSM (BDK+PVK unwrap + AS Wasm)', () => hsm.verifyDukptPin(DEFAULT_BDK, st.macKsn, new Uint8Array(16), d0.pan, TEST_PVK_ID, new Uint8Array(8))],
      ['ARQC verify + ARPC (IMK unwrap, TDES on node:crypto)', () => hsm.verifyArqc(TEST_IMK_ID, { cvn: 'unionpay-01', pan: d0.pan, psn: '01', iccData: icc, arc: Uint8Array.of(0x30, 0x30), csu: new Uint8Array(4) })],
      ['ECDSA P-256 sign (answer)', async () => hsm.sign('response', signedReq.request)],
      ['SQLite commit with fsync (synchronous=FULL)', () => be.service.repo.transaction(() => be.service.repo.appendHistory({ deviceId: 'bench', timeMs: 0, kind: 'bench', verdict: '', detail: '', policyVersion: 0 }))],
    ];
    const cost: { name: string; us: number }[] = [];
    for (const [name, fn] of steps) cost.push({ name, us: await timeAsync(fn, 100, 5) });
    const total = median(lat) * 1000;
    return {
      title: 'Back end: authorizations (durable journal, synchronous=FULL)',
      figures: [
        { name: 'authorizations/s in-process (service path, one at a time)', value: Math.round(inRate), unit: '/s', target: '>= 1000', ok: inRate >= 1000 },
        { name: 'in-process latency p50', value: +median(lat).toFixed(2), unit: 'ms' },
        { name: 'in-process latency p99', value: +pct(lat, 99).toFixed(2), unit: 'ms', target: '<= 20', ok: pct(lat, 99) <= 20 },
        { name: `authorizations/s over loopback HTTP (${DEVICES} devices in parallel)`, value: Math.round(httpRate), unit: '/s', target: '>= 1000', ok: httpRate >= 1000 },
        { name: 'HTTP latency p50', value: +median(hlat).toFixed(2), unit: 'ms' },
        { name: 'HTTP latency p99', value: +pct(hlat, 99).toFixed(2), unit: 'ms', target: '<= 20', ok: pct(hlat, 99) <= 20 },
        { name: 'not approved (must be 0)', value: bad + hbad, unit: '', ok: bad + hbad === 0 },
        ...cost.map((c) => ({ name: `step: ${c.name}`, value: +c.us.toFixed(1), unit: 'µs' })),
        { name: 'input preparation per payment (kernel + card + txsign; not timed above)', value: +prepMs.toFixed(2), unit: 'ms' },
      ],
      notes: [
        `The steps above add up to ~${Math.round(cost.reduce((s, c) => s + c.us, 0) + cost[0].us)} µs of the ${Math.round(total)} µs median in-process authorization (counting the record's ECDSA verify as a second envelope verify). The 1-row commit is the floor of the real one: an authorization's commit writes ~5 pages (device row, journal, account, ledger) and took 0.35-0.45 ms in a CPU profile — the largest single cost; the rest is protobuf and ~10 SQLite reads/writes.`,
        'Over HTTP, device requests arriving together share one fsync\'d commit (group commit, one savepoint each); client (fetch) and server share the two cores, and HTTP parsing on both sides costs more than the authorization itself.',
      ],
    };
  } finally {
    for (const d of devs) await d.dev.close();
    await be.close();
  }
}
