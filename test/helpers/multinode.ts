// Several `trusttap serve` processes on one PostgreSQL, and paying devices that send each request
// to a different node in turn — for the multi-node kill test, the standby failover test and the
// PostgreSQL benchmark. A device is the real stack: the reference TEE with the signed TAs, the
// attest TA's identity (enrolled, attested, a DUKPT key by remote key injection), a simulated
// UnionPay card read by the contactless kernel (a fresh ARQC per payment), the txsign TA's signed
// and MACed record. The client's part of a payment is what a phone does: send the signed request;
// with no answer (the node died), ask another node for the payment's status by its client
// transaction id, and send the same record again if it was never journaled.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServe } from './serve.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { BackendLink } from '../../ree/attestation/backend-link.ts';
import { KeystoreClient } from '../../ree/tee-client/index.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { fromHex, equalBytes } from '../../common/hex.ts';
import { verifyP256, sha256 } from '../../common/verdict-token.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { UnionPayCardSim } from '../../sim/cards/index.ts';
import { PostgresRepository } from '../../backend/store/postgres.ts';
import { SoftwareHsm } from '../../backend/hsm/software-hsm.ts';
import { IssuerSim } from '../../backend/issuer-sim/index.ts';
import { startDevice, type Device } from '../attest/device.ts';

const a = trusttap.attest.v1;
const pay = trusttap.payment.v1;
const tx = trusttap.txsign.v1;
const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
export const ADMIN_TOKEN = 'multinode-admin-token';

export interface Node { child: ChildProcess; url: string; exited: Promise<number | null>; stderr: () => string }

/** A master key file every node is given (the BDKs and signing keys in the database are wrapped under it). */
export function masterKeyFile(): string {
  const f = join(mkdtempSync(join(tmpdir(), 'tt-mk-')), 'master.key');
  writeFileSync(f, randomBytes(32).toString('hex'), { mode: 0o600 });
  return f;
}

/** Starts `trusttap serve --db URL` in a child process; resolves once it listens. TT_NODE_LOG=1
 * keeps its request log (node.stderr()) for looking into a failure. */
export function startNode(db: string, keyFile: string, extraEnv: Record<string, string> = {}): Promise<Node> {
  return spawnServe(['--port', '0', '--db', db, '--master-key-file', keyFile, '--admin-token', ADMIN_TOKEN, ...(process.env.TT_NODE_LOG ? [] : ['--quiet'])], extraEnv);
}

export const adminCall = (url: string, method: string, path: string, body?: Uint8Array) =>
  fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: body ? Buffer.from(body) : undefined });

export interface PayingDevice {
  dev: Device;
  link: BackendLink;
  merchantId: string;
  terminalId: string;
  pan: string;
  card: UnionPayCardSim;
  seq: number;
  token: Uint8Array;
}

/** Round-robin over the nodes still believed up. */
export class Nodes {
  private i = 0;
  readonly down = new Set<string>();
  constructor(readonly urls: string[]) {}
  next(): string {
    for (let k = 0; k < this.urls.length; k++) {
      const u = this.urls[this.i++ % this.urls.length];
      if (!this.down.has(u)) return u;
    }
    throw new Error('no node is up');
  }
}

/** A link to one node that shares the device's link state (counter, keys, device id). */
export function linkTo(url: string, base: BackendLink): BackendLink {
  const l = new BackendLink(url, base.attest, base.collector);
  l.state = base.state;
  return l;
}

/** A device enrolled on one node, attested on another, keyed (RKI) on a third, with its own card
 * at the simulated issuer (issued through `issuer`, i.e. in the shared database). */
export async function payingDevice(nodes: Nodes, i: number, issuer: IssuerSim): Promise<PayingDevice> {
  const dev = await startDevice();
  const first = nodes.next();
  const r = await adminCall(first, 'POST', '/v1/admin/terminals', a.CreateTerminalRequest.encode({ merchantId: 'M-NODES', terminalId: `N${String(i).padStart(7, '0')}` }).finish());
  if (r.status !== 201) throw new Error(`create terminal: ${r.status}`);
  const t = a.CreateTerminalResponse.decode(new Uint8Array(await r.arrayBuffer()));
  const base = new BackendLink(first, dev.attest, dev.collector);
  const enrol = await base.enrol(t.activationCode);
  await linkTo(nodes.next(), base).attestNow();
  const { kekKeyId, keys } = await linkTo(nodes.next(), base).injectKeys();
  const ks = await KeystoreClient.open(dev.ctx);
  await ks.importKeyBlock('dukpt', kekKeyId, keys[0].tr31);
  await ks.close();
  const pan = `62284800000007${String(i).padStart(4, '0')}1`;
  await issuer.issue({ name: `node-${i}`, scheme: 'unionpay', pan, psn: '01', expiry: '3012', cvn: 'unionpay-01', pin: '1234', currency: '156', balanceMinor: 1e12, status: 'active', note: 'multi-node test' });
  const token = a.SignedToken.encode((await linkTo(nodes.next(), base).attestNow()).signed).finish();
  return { dev, link: base, merchantId: enrol.merchantId, terminalId: enrol.terminalId, pan, card: new UnionPayCardSim({ pan, psn: '01', atc: 1 }), seq: 0, token };
}

/** Opens the shared database and the HSM under the nodes' master key: the simulated issuer's
 * accounts are issued there, as a node would. */
export async function openIssuer(db: string, keyFile: string): Promise<{ repo: PostgresRepository; issuer: IssuerSim }> {
  const repo = await PostgresRepository.open(db);
  const hsm = await SoftwareHsm.open('', repo, { masterKey: Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'hex') });
  return { repo, issuer: new IssuerSim(repo, hsm) };
}

/** A purchase of `amount` made by the real parts: kernel + card (ARQC), txsign (the signed record). */
export async function makeRecord(d: PayingDevice, amount: number): Promise<{ record: Uint8Array; ctid: string }> {
  const t = new InProcessTransport(d.card);
  t.tap();
  const o = await runEntryPoint(t, config, { amount, currency: '0156', date: '251125', time: '120000' });
  if (o.kind !== 'ONLINE_REQUEST') throw new Error(`card: ${o.kind} ${o.reason}`);
  const data: TlvEntry[] = Object.entries(o.onlineData!).filter(([k]) => k !== '9F26').map(([k, v]) => [k, v]);
  const ctid = `mn-${d.terminalId}-${++d.seq}`;
  const s = await d.dev.ctx.openSession('txsign');
  try {
    const record = await s.invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({
      record: {
        type: tx.TransactionType.TRANSACTION_TYPE_PURCHASE, amountMinor: amount as any, currency: '156', merchantId: d.merchantId, terminalId: d.terminalId,
        applicationCryptogram: fromHex(o.onlineData!['9F26']), cryptogramData: encodeTlv(data), maskedPan: o.card!.maskedPan!,
        timestampMs: Date.now() as any, clientTransactionId: ctid,
      },
      dukptKeyId: 'dukpt', sensitiveCardData: o.sensitive!,
    }).finish());
    return { record, ctid };
  } finally {
    await s.close();
  }
}

/** A device-signed request body (the counter is the device's next). */
export async function envelope(d: PayingDevice, body: Record<string, unknown>): Promise<{ bytes: Uint8Array; request: Uint8Array; counter: number }> {
  const counter = Math.max(d.link.state.lastCounter + 1, Date.now() * 1000);
  d.link.state.lastCounter = counter;
  const request = a.DeviceRequest.encode({ deviceId: d.link.state.deviceId, counter, timeMs: Date.now(), ...body } as any).finish();
  return { bytes: a.SignedDeviceRequest.encode({ request, signature: await d.dev.attest.signRequest(request) }).finish(), request, counter };
}

/** POSTs a signed request to a node and checks the answer is the back end's, for this request.
 * null = no answer (connection refused or cut, the node draining or its store gone). */
export async function send(d: PayingDevice, url: string, path: string, env: { bytes: Uint8Array; request: Uint8Array; counter: number }): Promise<trusttap.attest.v1.DeviceResponse | null> {
  let res: Response;
  let bytes: Uint8Array;
  try {
    res = await fetch(`${url}/v1/device/${path}`, { method: 'POST', body: Buffer.from(env.bytes), signal: AbortSignal.timeout(30_000) });
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch {
    return null;
  }
  if (res.headers.get('x-trusttap-message') !== 'SignedDeviceResponse') return null; // 5xx, 503 draining: no decision
  const signed = a.SignedDeviceResponse.decode(bytes);
  if (!verifyP256(d.link.state.keys!.response, signed.response, signed.signature)) throw new Error('an answer not signed by the back end\'s (shared) response key');
  const r = a.DeviceResponse.decode(signed.response);
  if (!equalBytes(r.requestSha256, sha256(env.request))) throw new Error('an answer bound to another request');
  return r;
}

export interface Outcome { ctid: string; amount: number; decision: 'approved' | 'declined'; reference: string; how: 'answer' | 'status' | 'resent' }

/** One payment as a phone makes it across nodes: authorize on the next node; with no answer (or a
 * refusal because the lost attempt already used the counter), ask the next node for its status by
 * client transaction id; if it was never journaled, send the same record again. */
export async function pay1(d: PayingDevice, nodes: Nodes, amount: number, onNoAnswer?: (url: string) => void): Promise<Outcome> {
  const { record, ctid } = await makeRecord(d, amount);
  const authorize = { authorize: { signedTransaction: record, signedToken: d.token, cvm: pay.Cvm.CVM_NO_CVM, aid: 'A000000333010101' } };
  let how: Outcome['how'] = 'answer';
  const deadline = Date.now() + 300_000; // a failover of the database takes seconds (more on loaded cores); the phone keeps asking
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const url = nodes.next();
    if (how === 'answer' && attempt > 0) how = 'status';
    if (how === 'status') {
      const st = await send(d, url, 'transaction-status', await envelope(d, { transactionStatus: { clientTransactionId: ctid } }));
      if (!st) { onNoAnswer?.(url); await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt))); continue; }
      const s = st.transactionStatus!;
      if (s.found) return { ctid, amount, decision: s.result!.decision === pay.Decision.DECISION_APPROVED ? 'approved' : 'declined', reference: s.result!.transactionReference!, how };
      how = 'resent'; // never journaled: the same record again (the journal keeps it once)
      continue;
    }
    const r = await send(d, url, 'authorize', await envelope(d, authorize));
    if (!r || r.error) { if (!r) onNoAnswer?.(url); how = 'status'; await new Promise((res) => setTimeout(res, Math.min(2000, 100 * attempt))); continue; }
    const x = r.authorize!;
    if (x.decision === pay.Decision.DECISION_DECLINED && x.reason === pay.DeclineReason.DECLINE_REASON_DEVICE_NOT_ALLOWED) {
      throw new Error(`device not allowed: ${x.reasonText}`);
    }
    return { ctid, amount, decision: x.decision === pay.Decision.DECISION_APPROVED ? 'approved' : 'declined', reference: x.transactionReference ?? '', how };
  }
  throw new Error(`payment ${ctid}: no node answered`);
}
