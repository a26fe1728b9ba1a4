// txsign TA, offline store-and-forward (issue 14 §2; ta/txsign/offline.ts): the signed offline
// policy (pinned token key, this device, never older), every limit at its boundary on the TEE's
// REE clock, no PIN offline, the queue in sealed storage across a restart, its acknowledgement by
// a newer policy, and a queue that is altered, replayed or behind the back end's witness refused.
// Runs on the reference runtime and, through test/conformance/c-host-txsign.test.ts, the C host.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, createPublicKey, generateKeyPairSync, sign as ecSign, verify } from 'node:crypto';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { Status } from '../../proto/status.ts';
import { expectTeeError } from '../../conformance/index.ts';
import { labelled, LABEL } from '../../common/signature-labels.ts';
import { type Bench } from '../keystore/fixture.ts';
import { tx, TXSIGN_UUID, unhex, txsignBench, record } from './bench.ts';

/** An OfflinePolicy's fields (plain numbers; protobufjs takes them for uint64). */
type Policy = Record<string, unknown>;
const N = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);
const bytes32 = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));

/** A stand-in for the back end's token key: signs policies the way backend/authorization/offline.ts does. */
function tokenKey() {
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = k.publicKey.export({ format: 'jwk' });
  const pub = Uint8Array.from(Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]));
  return {
    pub,
    /** Low-S (the TA refuses the high-S twin); highS: the twin, for the test that it is refused. */
    sign(p: Policy, o: { highS?: boolean } = {}) {
      const policy = tx.OfflinePolicy.encode(p as trusttap.txsign.v1.IOfflinePolicy).finish();
      const sig = ecSign('sha256', labelled(LABEL.offlinePolicy, policy), { key: k.privateKey, dsaEncoding: 'ieee-p1363' });
      let s = big(sig.subarray(32));
      if ((s > N / 2n) !== !!o.highS) s = N - s;
      return { policy, signature: Uint8Array.from(Buffer.concat([sig.subarray(0, 32), bytes32(s)])) };
    },
  };
}

describe('txsign TA: offline store-and-forward', () => {
  let b: Bench;
  let deviceKeySha256: Uint8Array;
  const key = tokenKey();
  let issued = 0;
  const T0 = Date.UTC(2026, 10, 25, 12);
  const invoke = async (cmd: number, msg: Uint8Array) => (await b.ctx.openSession('txsign')).invoke(cmd, msg);
  const policy = (over: Policy = {}): Policy => ({
    deviceId: 'dev-1', deviceKeySha256, merchantId: 'M-000123', limits: [{ currency: '156', perTransactionLimitMinor: 100, cumulativeLimitMinor: 250 }],
    maxCount: 3, maxAgeMs: 1000, issuedMs: ++issued, expiresMs: T0 + 60_000, uploadedThroughCounter: 0, policyVersion: 1, ...over,
  });
  const install = async (p: Policy, o: { highS?: boolean; key?: ReturnType<typeof tokenKey> } = {}) => tx.OfflineStatus.decode(await invoke(tx.Command.COMMAND_SET_OFFLINE_POLICY,
    tx.SetOfflinePolicyRequest.encode({ signed: (o.key ?? key).sign(p, o), tokenPublicKey: (o.key ?? key).pub }).finish()));
  let seq = 0;
  const offline = async (over: Record<string, unknown> = {}, cvm = tx.OfflineCvm.OFFLINE_CVM_NO_CVM) => tx.SignTransactionResponse.decode(await invoke(tx.Command.COMMAND_SIGN_OFFLINE,
    tx.SignOfflineRequest.encode({ sign: { record: record({ clientTransactionId: `off-${++seq}`, timestampMs: b.now.ms, amountMinor: 10, ...over }), dukptKeyId: 'dukpt' }, cvm, aid: 'A000000333010102' }).finish()));
  const queue = async () => tx.OfflineStatus.decode(await invoke(tx.Command.COMMAND_GET_OFFLINE_QUEUE, tx.GetOfflineQueueRequest.encode({}).finish()));
  const counter = async () => Number(tx.GetStateResponse.decode(await invoke(tx.Command.COMMAND_GET_STATE, new Uint8Array(0))).counter);
  /** A newer policy acknowledging everything signed so far: the queue empties. */
  const clear = async (over: Policy = {}) => install(policy({ uploadedThroughCounter: await counter(), ...over }));
  const refused = async (p: Promise<unknown>, reason: RegExp) => {
    const e = await expectTeeError(p, Status.ERROR_ACCESS_DENIED);
    expect(e.message).toMatch(reason);
  };

  beforeAll(async () => {
    b = await txsignBench(14);
    b.now.ms = T0;
    // The device key: the one the attest TA signs records with.
    const signed = tx.SignTransactionResponse.decode(await invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({ record: record({ clientTransactionId: 'online-0' }), dukptKeyId: 'dukpt' }).finish()));
    deviceKeySha256 = createHash('sha256').update(signed.devicePublicKey).digest();
  });
  afterAll(async () => { await b.close(); });

  test('without a policy nothing goes offline; a policy installs only signed by the pinned key, for this device, low-S, never older', async () => {
    await refused(offline(), /NO_POLICY/);
    await expectTeeError(install(policy(), { highS: true }), Status.ERROR_SECURITY);
    await expectTeeError(install(policy({ maxCount: 33 })), Status.ERROR_BAD_PARAMETERS);
    const forged = key.sign(policy());
    forged.policy = Uint8Array.from(forged.policy);
    forged.policy[forged.policy.length - 1] ^= 1;
    await expectTeeError(invoke(tx.Command.COMMAND_SET_OFFLINE_POLICY, tx.SetOfflinePolicyRequest.encode({ signed: forged, tokenPublicKey: key.pub }).finish()), Status.ERROR_SECURITY);
    const st = await install(policy());
    expect(st.policy?.maxCount).toBe(3);
    expect(st.queue).toHaveLength(0);
    // The token key is pinned now: another key's policy, however well signed, is refused.
    await expectTeeError(install(policy(), { key: tokenKey() }), Status.ERROR_ACCESS_DENIED);
    const older = policy({ issuedMs: 0 });
    await expectTeeError(install(older), Status.ERROR_ACCESS_DENIED);
    // Equal issue times are the same policy again (a retried install).
    await install(policy({ issuedMs: issued }));
    // A policy issued for another device key admits nothing here (the record's signing key is checked).
    await install(policy({ deviceKeySha256: new Uint8Array(32) }));
    await refused(offline(), /for another device/);
    expect((await queue()).queue).toHaveLength(0);
  });

  test('a PIN never goes offline: a PIN KSN, online-PIN CVM Results or no CVM given are refused; CDCVM (01 00 02) is not a PIN', async () => {
    await clear();
    await refused(offline({ pinKsn: unhex('A1B2C3D4E5F6071800000001') }), /PIN/);
    await refused(offline({ cryptogramData: unhex('9F3403420302') }), /PIN/); // 42 = enciphered PIN online (b7 set: apply next)
    await refused(offline({}, tx.OfflineCvm.OFFLINE_CVM_UNSPECIFIED), /PIN/);
    const r = await offline({ cryptogramData: unhex('9F3403010002') }, tx.OfflineCvm.OFFLINE_CVM_CDCVM);
    expect(tx.TransactionRecord.decode(r.record).approvedOffline).toBe(true);
  });

  test('each limit at its boundary: per payment, cumulative, count, currency, policy expiry', async () => {
    await clear();
    await refused(offline({ amountMinor: 101 }), /PER_TRANSACTION_LIMIT/);
    await offline({ amountMinor: 100 });
    await offline({ amountMinor: 100 });
    await refused(offline({ amountMinor: 51 }), /CUMULATIVE_LIMIT/); // 251 > 250
    await offline({ amountMinor: 50 }); // 250: exactly the limit
    expect((await queue()).queue).toHaveLength(3);
    await clear({ limits: [{ currency: '156', perTransactionLimitMinor: 100, cumulativeLimitMinor: 10_000 }] });
    for (let i = 0; i < 3; i++) await offline({ amountMinor: 1 });
    await refused(offline({ amountMinor: 1 }), /MAX_COUNT/); // 3 queued = max_count
    await clear();
    await refused(offline({ currency: '840' }), /CURRENCY/);
    // The cumulative limit is per currency: another currency's queue does not count.
    await clear({ limits: [{ currency: '156', perTransactionLimitMinor: 100, cumulativeLimitMinor: 100 }, { currency: '840', perTransactionLimitMinor: 100, cumulativeLimitMinor: 100 }] });
    await offline({ amountMinor: 100, currency: '840' });
    await offline({ amountMinor: 100 });
    await clear({ expiresMs: T0 + 5000 });
    b.now.ms = T0 + 4999;
    await offline({ amountMinor: 1 });
    b.now.ms = T0 + 5000;
    await refused(offline({ amountMinor: 1 }), /POLICY_EXPIRED/);
    b.now.ms = T0;
    // A policy with no limits (the back end's answer to a device it does not allow) is offline off.
    await clear({ limits: [] });
    await refused(offline({ amountMinor: 1 }), /NO_POLICY/);
  });

  test('max age at its boundary on the REE clock; a clock set back before the oldest record counts as too old', async () => {
    await clear();
    await offline({ amountMinor: 1, timestampMs: T0 });
    b.now.ms = T0 + 1000; // the oldest is exactly max_age_ms old
    await offline({ amountMinor: 1 });
    b.now.ms = T0 + 1001;
    await refused(offline({ amountMinor: 1 }), /MAX_AGE/);
    b.now.ms = T0 - 1;
    await refused(offline({ amountMinor: 1 }), /MAX_AGE/);
    b.now.ms = T0;
  });

  test('the queue holds the signed records in order, survives a restart, and a newer policy acknowledging them empties it', async () => {
    await clear();
    const a = await offline({ amountMinor: 7 });
    const c = await offline({ amountMinor: 8 });
    await b.restart();
    const q = (await queue()).queue;
    expect(q.map((x) => Number(x.amountMinor))).toEqual([7, 8]);
    expect(Buffer.from(q[0].signedTransaction!).equals(Buffer.from(tx.SignTransactionResponse.encode(a).finish()))).toBe(true);
    const rec = tx.TransactionRecord.decode(a.record);
    expect(rec.approvedOffline).toBe(true);
    expect(Number(q[1].counter)).toBe(Number(tx.TransactionRecord.decode(c.record).counter));
    // The device key signed the exact record bytes, approved_offline included.
    const pub = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(a.devicePublicKey.subarray(1, 33)).toString('base64url'), y: Buffer.from(a.devicePublicKey.subarray(33)).toString('base64url') }, format: 'jwk' });
    expect(verify('sha256', Buffer.concat([Buffer.from('trusttap/ta-sign/v1\0'), unhex(TXSIGN_UUID.replace(/-/g, '')), a.record]), { key: pub, dsaEncoding: 'ieee-p1363' }, a.signature)).toBe(true);
    // Acknowledging only the first leaves the second.
    const left = await install(policy({ uploadedThroughCounter: Number(rec.counter) }));
    expect(left.queue.map((x) => Number(x.amountMinor))).toEqual([8]);
    // The REE cannot mark a record approved offline itself, nor have an online one queued.
    await expectTeeError(invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({ record: record({ approvedOffline: true }), dukptKeyId: 'dukpt' }).finish()), Status.ERROR_BAD_PARAMETERS);
  });

  test('a policy acknowledging a record counter above the TA\'s own means this storage went back: refused as rollback', async () => {
    const e = await expectTeeError(install(policy({ uploadedThroughCounter: await counter() + 1 })), Status.ERROR_SECURITY);
    expect(e.message).toMatch(/rollback/);
  });

  test('an altered queue is CORRUPT_OBJECT, a replayed older queue SECURITY: nothing is signed or read from it', async () => {
    await clear();
    await offline({ amountMinor: 3 });
    const file = join(b.dataDir, 'storage', TXSIGN_UUID.replace(/-/g, ''), 'objects', `${Buffer.from('offline').toString('hex')}.blob`);
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    bad[bad.length - 5] ^= 1;
    writeFileSync(file, bad);
    await expectTeeError(queue(), Status.ERROR_CORRUPT_OBJECT);
    await expectTeeError(offline({ amountMinor: 1 }), Status.ERROR_CORRUPT_OBJECT);
    writeFileSync(file, good);
    expect((await queue()).queue).toHaveLength(1);
    await offline({ amountMinor: 4 });
    // The older copy, with one record fewer, put back: its version is below the RPMB's.
    writeFileSync(file, good);
    await expectTeeError(queue(), Status.ERROR_SECURITY);
    await expectTeeError(offline({ amountMinor: 1 }), Status.ERROR_SECURITY);
  });
});
