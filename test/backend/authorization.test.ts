// Issue 7's authorization through the real HTTP service: a device enrols, attests, receives its
// DUKPT key by RKI and pins the back end's token key in its pinpad; every payment is made by the
// real parts — a simulated card (sim/cards) read by the contactless kernel (ree/emv) gives the
// ARQC and the sensitive card data, the pinpad TA takes the PIN on the trusted UI (a scripted
// person) under the DUKPT PIN key, txsign signs, MACs and encrypts the record, the attest TA signs
// the request — and the back end decides: approval, every decline reason, idempotent retry, lost
// answer → status → reversal, tampering, replay, suspension, stale tokens, limits, PIN tries.
import { ALL_ACQUIRERS } from '../../backend/store/repository.ts';
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { TeeRuntime, InProcessTeeDriver, loadTaImages, ScriptedUiProvider, ScriptedAccessibleUiProvider, enterPin as types } from '../../tee/index.ts';
import { TeeContext, KeystoreClient } from '../../ree/tee-client/index.ts';
import { AttestClient } from '../../ree/attestation/client.ts';
import { HealthCollector } from '../../ree/attestation/collector.ts';
import { BackendLink } from '../../ree/attestation/backend-link.ts';
import { PinpadClient, enterPin } from '../../ree/pin/pin-entry.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { fromHex } from '../../common/hex.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import type { TerminalConfig } from '../../common/emv/config.ts';
import { signedTestTerminalConfig, testConfigSigningKey, testTerminalConfig } from '../../sim/test-terminal-config.ts';
import { VisaCardSim, MastercardCardSim, UnionPayCardSim, UnionPaySmCardSim, TEST_ISSUER_MASTER_KEY_AC, TEST_ISSUER_MASTER_KEY_AC_SM4, type SimulatedCard } from '../../sim/cards/index.ts';
import { provisionDevice } from '../../sim/oem/index.ts';
import { TEST_CARDS, TEST_ISSUER_MASTER_KEY_AC_HEX, TEST_ISSUER_MASTER_KEY_AC_SM4_HEX, panHash, maskPan } from '../../backend/issuer-sim/index.ts';
import { startTestBackend, Admin, tid, a, storedBytes, type Backend } from './harness.ts';
import { healthy } from '../attest/device.ts';
import { encodings } from '../pinpad/pin-encodings.ts';

/** Every PIN a scripted person types in this suite (the PIN checks at the end look for them). */
const TYPED_PINS = ['1234', '9999', '1111', '0002'];
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const pay = trusttap.payment.v1;
const tx = trusttap.txsign.v1;
const D = pay.Decision, R = pay.DeclineReason;
const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
/** A tampered REE's kernel configuration: no contactless or CVM limits (the back end still has them). */
const loose: TerminalConfig = {
  ...testTerminalConfig(),
  combinations: testTerminalConfig().combinations.map((c) => ({ ...c, limits: c.limits.map((l) => ({ ...l, contactlessTransactionLimit: 1e11, cvmRequiredLimit: 1e11 })) })),
};
const card = (name: string) => TEST_CARDS.find((c) => c.name === name)!;
const CURRENCY_ALPHA: Record<string, string> = { '156': 'CNY', '840': 'USD', '978': 'EUR' };

interface Phone {
  runtime: TeeRuntime;
  ctx: TeeContext;
  person: ScriptedUiProvider;
  link: BackendLink;
  merchantId: string;
  terminalId: string;
  close(): Promise<void>;
}

async function startPhone(be: Backend, admin: Admin): Promise<Phone> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-pay-'));
  provisionDevice(dataDir, {});
  const { images, manifestSha256 } = loadTaImages();
  const person = new ScriptedUiProvider();
  const runtime = await TeeRuntime.start({ tas: images, dataDir, manifestSha256, bootState: 'verified', ui: (() => { const blind = new ScriptedAccessibleUiProvider(); return { standard: person, accessible: blind, audio: blind.ears }; })() });
  const ctx = await TeeContext.initialize(new InProcessTeeDriver(runtime));
  const attest = await AttestClient.open(ctx);
  const health = healthy();
  const link = new BackendLink(be.url, attest, new HealthCollector(() => health));
  const t = await admin.createTerminal('M-PAY', tid());
  const enrol = await link.enrol(t.activationCode);
  await link.attestNow();
  const { kekKeyId, keys } = await link.injectKeys();
  const ks = await KeystoreClient.open(ctx);
  await ks.importKeyBlock('dukpt', kekKeyId, keys[0].tr31);
  await ks.close();
  const pin = await PinpadClient.open(ctx);
  await pin.provision(enrol.tokenPublicKey);
  await pin.close();
  return { runtime, ctx, person, link, merchantId: enrol.merchantId, terminalId: enrol.terminalId, async close() { await ctx.finalize(); runtime.shutdown(); } };
}

const nextAtc = new Map<string, number>();
function simCard(name: string, o: Record<string, unknown> = {}): SimulatedCard {
  const c = card(name);
  const atc = (nextAtc.get(c.pan) ?? 10) + 1;
  nextAtc.set(c.pan, atc);
  const opts = { pan: c.pan, psn: c.psn, cvn: c.cvn, atc, ...o };
  return c.scheme === 'visa' ? new VisaCardSim(opts) : c.scheme === 'mastercard' ? new MastercardCardSim(opts) : new UnionPayCardSim(opts);
}

interface Pay {
  card?: string;
  sim?: SimulatedCard;
  amount: number;
  /** The PIN the person types, if a PIN is entered. */
  pin?: string;
  /** Skip the PIN even when the kernel asks for it. */
  skipPin?: boolean;
  ctid?: string;
  cfg?: TerminalConfig;
  type?: 'purchase' | 'refund';
  token?: Uint8Array;
}

interface Prepared { req: trusttap.payment.v1.IAuthorizeRequest; signed: trusttap.txsign.v1.SignTransactionResponse; ctid: string; pan: string }

let seq = 0;
/** Tap, (PIN), txsign: the AuthorizeRequest a payment facade would send. */
async function prepare(p: Phone, o: Pay): Promise<Prepared> {
  const c = card(o.card ?? 'unionpay');
  const sim = o.sim ?? simCard(c.name);
  const t = new InProcessTransport(sim);
  t.tap();
  const outcome = await runEntryPoint(t, o.cfg ?? config, { amount: o.amount, currency: `0${c.currency}`, date: '251125', time: '120000' });
  expect(outcome.kind, outcome.reason).toBe('ONLINE_REQUEST');
  const online = outcome.onlineData!;
  let pinBlock: Uint8Array | undefined, pinKsn: Uint8Array | undefined;
  const wantPin = o.pin !== undefined && !o.skipPin;
  if (wantPin) {
    p.person.enqueue(types(o.pin!));
    const r = await enterPin(p.ctx, {
      pan: c.pan, amountMinor: o.amount, currency: CURRENCY_ALPHA[c.currency], keySetId: 'dukpt',
      attest: async (nonce) => (await p.link.attestNow(nonce)).signed,
    });
    if (r.kind !== 'pin-block') throw new Error(`PIN entry: ${r.kind}`);
    pinBlock = r.encryptedPinBlock;
    pinKsn = r.ksn;
  }
  const ctid = o.ctid ?? `ctid-${++seq}-${Date.now()}`;
  const data: TlvEntry[] = Object.entries(online).filter(([k]) => k !== '9F26').map(([k, v]) => [k, v]);
  const s = await p.ctx.openSession('txsign');
  const raw = await s.invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({
    record: {
      type: o.type === 'refund' ? tx.TransactionType.TRANSACTION_TYPE_REFUND : tx.TransactionType.TRANSACTION_TYPE_PURCHASE,
      amountMinor: o.amount as any, currency: c.currency, merchantId: p.merchantId, terminalId: p.terminalId,
      applicationCryptogram: fromHex(online['9F26']), cryptogramData: encodeTlv(data), maskedPan: outcome.card!.maskedPan!,
      pinKsn: pinKsn ?? new Uint8Array(0), timestampMs: Date.now() as any, clientTransactionId: ctid,
    },
    dukptKeyId: 'dukpt', sensitiveCardData: outcome.sensitive!,
  }).finish());
  await s.close();
  const token = o.token ?? a.SignedToken.encode((await p.link.attestNow()).signed).finish();
  return {
    ctid, pan: c.pan, signed: tx.SignTransactionResponse.decode(raw),
    req: {
      signedTransaction: raw, signedToken: token, aid: outcome.card!.aid,
      cvm: wantPin ? pay.Cvm.CVM_ONLINE_PIN : pay.Cvm.CVM_NO_CVM,
      encryptedPinBlock: pinBlock, pinBlockFormat: wantPin ? pay.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4 : 0,
    },
  };
}

const withSigned = (r: Prepared, change: (s: trusttap.txsign.v1.SignTransactionResponse) => void) => {
  const s = tx.SignTransactionResponse.decode(r.req.signedTransaction!);
  change(s);
  return { ...r.req, signedTransaction: tx.SignTransactionResponse.encode(s).finish() };
};
const flip = (b: Uint8Array, at = b.length - 1) => { const c = Uint8Array.from(b); c[at] ^= 1; return c; };

let be: Backend;
let admin: Admin;
let phone: Phone;
const balance = (name: string) => be.service.payments.issuer.balance(card(name).pan);

beforeAll(async () => {
  be = await startTestBackend();
  admin = new Admin(be);
  phone = await startPhone(be, admin);
}, 60_000);
afterAll(async () => { await phone?.close(); await be?.close(); });

describe('authorization through the HTTP service', () => {
  test('the issuer-sim and the card simulators share PANs and the issuer master key', () => {
    expect(Buffer.from(TEST_ISSUER_MASTER_KEY_AC).toString('hex').toUpperCase()).toBe(TEST_ISSUER_MASTER_KEY_AC_HEX);
    expect(Buffer.from(TEST_ISSUER_MASTER_KEY_AC_SM4).toString('hex').toUpperCase()).toBe(TEST_ISSUER_MASTER_KEY_AC_SM4_HEX);
    expect(new UnionPayCardSim().card.pan).toBe(card('unionpay').pan);
    expect(new VisaCardSim().card.pan).toBe(card('visa').pan);
    expect(new MastercardCardSim().card.pan).toBe(card('mastercard').pan);
  });

  test.each(['unionpay', 'visa', 'visa-cvn22', 'mastercard'])('%s: approved, ARPC for the card, balance debited once, status found', async (name) => {
    const before = (await balance(name))!;
    const p = await prepare(phone, { card: name, amount: 25_00 });
    const r = await phone.link.authorize(p.req);
    expect([D[r.decision], R[r.reason], r.responseCode], r.reasonText).toEqual(['DECISION_APPROVED', 'DECLINE_REASON_NONE', '00']);
    expect(r.authorizationCode).toMatch(/^[0-9A-Z]{6}$/);
    const method2 = card(name).scheme === 'visa'; // Visa CVN 18 and 22: ARPC method 2; the others method 1
    expect(r.arpc.length).toBe(method2 ? 4 : 8);
    expect(r.issuerAuthenticationData.length).toBe(method2 ? 8 : 10);
    expect(r.maskedPan).toBe(card(name).pan.slice(0, 6) + '*'.repeat(card(name).pan.length - 10) + card(name).pan.slice(-4));
    expect(r.clientTransactionId).toBe(p.ctid);
    expect(await balance(name)).toBe(before - 25_00);
    const st = await phone.link.transactionStatus(p.ctid);
    expect([st.found, st.reversed, st.result!.transactionReference]).toEqual([true, false, r.transactionReference]);
  });

  test('idempotent retry: the same request gets the same journaled answer and one charge; another record under the id is refused', async () => {
    const before = (await balance('unionpay'))!;
    const p = await prepare(phone, { amount: 12_34 });
    const first = await phone.link.authorize(p.req);
    const again = await phone.link.authorize(p.req);
    expect(D[first.decision]).toBe('DECISION_APPROVED');
    expect(pay.AuthorizeResponse.toObject(again)).toEqual(pay.AuthorizeResponse.toObject(first));
    expect(await balance('unionpay')).toBe(before - 12_34);
    const other = await prepare(phone, { amount: 99_00, ctid: p.ctid });
    const r = await phone.link.authorize(other.req);
    expect([D[r.decision], R[r.reason]]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_INVALID_TRANSACTION']);
    expect(r.reasonText).toMatch(/another transaction/);
    expect(await balance('unionpay')).toBe(before - 12_34);
  });

  test('lost answer → transaction status → reversal restores the balance (journaled, idempotent)', async () => {
    const before = (await balance('unionpay'))!;
    const p = await prepare(phone, { amount: 88_00 });
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (...args: Parameters<typeof fetch>) => { await realFetch(...args); throw new TypeError('fetch failed: connection reset'); }) as typeof fetch;
    try {
      await expect(phone.link.authorize(p.req)).rejects.toThrow(/connection reset/);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(await balance('unionpay')).toBe(before - 88_00); // the back end did approve
    const st = await phone.link.transactionStatus(p.ctid);
    expect([st.found, D[st.result!.decision!], st.reversed]).toEqual([true, 'DECISION_APPROVED', false]);
    const rev = await phone.link.reverse(p.ctid);
    expect([rev.reversed, rev.status!.reversed]).toEqual([true, true]);
    expect(await balance('unionpay')).toBe(before);
    expect((await phone.link.reverse(p.ctid)).reversed).toBe(true);
    expect(await balance('unionpay')).toBe(before);
    const moves = (await be.service.repo.accountMovements(panHash(card('unionpay').pan))).filter((m) => m.reference === st.result!.transactionReference);
    expect(moves.map((m) => [m.kind, m.deltaMinor])).toEqual([['purchase', -88_00], ['reversal', 88_00]]);
    // A retry of the original after the reversal gets its current state (reversed), not the
    // journaled approval and not a second charge.
    expect(D[(await phone.link.authorize(p.req)).decision]).toBe('DECISION_REVERSED');
    expect(await balance('unionpay')).toBe(before);
    expect((await phone.link.transactionStatus(p.ctid)).reversed).toBe(true);
  });

  // Issue 17 §3: every state an id can be in (unknown, approved, declined, reversed) under each
  // operation (resend of the same request, transaction-status, reverse), over HTTP. A resend or a
  // status query answers the payment's current state, never the approval journaled before a reversal.
  test('journal states: unknown, approved, declined, reversed × resend, status, reverse', async () => {
    const view = (r: trusttap.payment.v1.IAuthorizeResponse) => ({ decision: D[r.decision!], arpc: r.arpc?.length ?? 0, reversedMs: Number(r.reversedMs ?? 0) > 0 });
    const bal = async () => (await balance('unionpay'))!;

    // unknown: status → not found; resend = the first send → approved; reverse → tombstone.
    const u = await prepare(phone, { amount: 6_00 });
    expect((await phone.link.transactionStatus(u.ctid)).found).toBe(false);
    const b0 = await bal();
    const approved = await phone.link.authorize(u.req);
    expect(view(approved)).toEqual({ decision: 'DECISION_APPROVED', arpc: 8, reversedMs: false });
    expect(await bal()).toBe(b0 - 6_00);
    const u2 = await prepare(phone, { amount: 6_50 });
    const tomb = await phone.link.reverse(u2.ctid);
    expect([tomb.reversed, D[tomb.status!.result!.decision!], tomb.status!.result!.reasonText]).toEqual([true, 'DECISION_DECLINED', 'reversed before it was authorized']);
    expect(D[(await phone.link.authorize(u2.req)).decision]).toBe('DECISION_DECLINED');

    // approved: resend → the same bytes; status → approved, not reversed.
    expect(pay.AuthorizeResponse.toObject(await phone.link.authorize(u.req))).toEqual(pay.AuthorizeResponse.toObject(approved));
    let st = await phone.link.transactionStatus(u.ctid);
    expect([st.found, st.reversed, view(st.result!)]).toEqual([true, false, view(approved)]);

    // declined: resend → the same decline; status → the decline; reverse → nothing to undo.
    const dReq = await prepare(phone, { amount: 6_000_00, cfg: loose });
    const declined = await phone.link.authorize(dReq.req);
    expect([D[declined.decision], R[declined.reason]]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_OVER_LIMIT']);
    expect(pay.AuthorizeResponse.toObject(await phone.link.authorize(dReq.req))).toEqual(pay.AuthorizeResponse.toObject(declined));
    st = await phone.link.transactionStatus(dReq.ctid);
    expect([st.found, st.reversed, D[st.result!.decision!]]).toEqual([true, false, 'DECISION_DECLINED']);
    const dRev = await phone.link.reverse(dReq.ctid);
    expect([dRev.reversed, D[dRev.status!.result!.decision!]]).toEqual([false, 'DECISION_DECLINED']);
    expect(D[(await phone.link.authorize(dReq.req)).decision]).toBe('DECISION_DECLINED');

    // approved → reverse: the balance comes back; from now on every path answers REVERSED.
    const b1 = await bal();
    const rev = await phone.link.reverse(u.ctid);
    expect([rev.reversed, rev.status!.reversed, view(rev.status!.result!)]).toEqual([true, true, { decision: 'DECISION_REVERSED', arpc: 0, reversedMs: true }]);
    expect(await bal()).toBe(b1 + 6_00);
    // reversed: resend → REVERSED (same reference, no ARPC for the card), no charge.
    const resent = await phone.link.authorize(u.req);
    expect(view(resent)).toEqual({ decision: 'DECISION_REVERSED', arpc: 0, reversedMs: true });
    expect([resent.transactionReference, resent.authorizationCode, resent.issuerAuthenticationData.length]).toEqual([approved.transactionReference, approved.authorizationCode, 0]);
    expect(await bal()).toBe(b1 + 6_00);
    // reversed: status → REVERSED and reversed; reverse again → idempotent.
    st = await phone.link.transactionStatus(u.ctid);
    expect([st.found, st.reversed, view(st.result!)]).toEqual([true, true, { decision: 'DECISION_REVERSED', arpc: 0, reversedMs: true }]);
    const again = await phone.link.reverse(u.ctid);
    expect([again.reversed, D[again.status!.result!.decision!]]).toEqual([true, 'DECISION_REVERSED']);
    expect(await bal()).toBe(b1 + 6_00);
  });

  test('reversal of a transaction the back end never saw: a late authorization under that id is declined', async () => {
    const before = (await balance('unionpay'))!;
    const p = await prepare(phone, { amount: 5_00 });
    const rev = await phone.link.reverse(p.ctid);
    expect(rev.reversed).toBe(true);
    const r = await phone.link.authorize(p.req);
    expect([D[r.decision], r.reasonText]).toEqual(['DECISION_DECLINED', 'reversed before it was authorized']);
    expect(await balance('unionpay')).toBe(before);
    expect((await phone.link.transactionStatus('never-used')).found).toBe(false);
  });

  test('tampered record, MAC or signature: INVALID_TRANSACTION, nothing journaled (the genuine one then goes through)', async () => {
    const p = await prepare(phone, { amount: 3_00 });
    for (const [what, req] of [
      ['record', withSigned(p, (s) => { s.record = flip(s.record); })],
      ['MAC', withSigned(p, (s) => { s.mac = flip(s.mac, 0); })],
      ['signature', withSigned(p, (s) => { s.signature = flip(s.signature, 5); })],
      ['MAC KSN', withSigned(p, (s) => { s.macKsn = flip(s.macKsn); })],
    ] as const) {
      const r = await phone.link.authorize(req);
      expect([D[r.decision], R[r.reason]], what).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_INVALID_TRANSACTION']);
      expect(r.reasonText, what).toMatch(what === 'record' || what === 'signature' ? /signature/ : /MAC/);
    }
    expect((await phone.link.transactionStatus(p.ctid)).found).toBe(false);
    expect(D[(await phone.link.authorize(p.req)).decision]).toBe('DECISION_APPROVED');
  });

  // Issue 17 §2: the high-S twin of a valid signature, and signed bytes with something appended,
  // are refused for the verdict token and the txsign record alike; nothing is consumed.
  test('high-S twins and trailing bytes: token → DEVICE_NOT_ALLOWED, record → INVALID_TRANSACTION; the genuine request then goes through', async () => {
    const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const twin = (sig: Uint8Array) => {
      const out = Uint8Array.from(sig);
      out.set(Buffer.from((N - BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`)).toString(16).padStart(64, '0'), 'hex'), 32);
      return out;
    };
    const junk = (b: Uint8Array) => Uint8Array.from([...b, 0x78, 0x01]);
    const { signed } = await phone.link.attestNow();
    const p = await prepare(phone, { amount: 2_00, token: a.SignedToken.encode(signed).finish() });
    for (const [what, req, reason, text] of [
      ['token twin', { ...p.req, signedToken: a.SignedToken.encode({ token: signed.token, signature: twin(signed.signature) }).finish() }, 'DECLINE_REASON_DEVICE_NOT_ALLOWED', /not signed by the back end/],
      ['token trailing', { ...p.req, signedToken: junk(a.SignedToken.encode(signed).finish()) }, 'DECLINE_REASON_DEVICE_NOT_ALLOWED', /canonical/],
      ['record twin', withSigned(p, (x) => { x.signature = twin(x.signature); }), 'DECLINE_REASON_INVALID_TRANSACTION', /signature/],
      ['record trailing', { ...p.req, signedTransaction: junk(p.req.signedTransaction!) }, 'DECLINE_REASON_INVALID_TRANSACTION', /canonical/],
    ] as const) {
      const r = await phone.link.authorize(req);
      expect([D[r.decision], R[r.reason]], what).toEqual(['DECISION_DECLINED', reason]);
      expect(r.reasonText, what).toMatch(text);
    }
    expect((await phone.link.transactionStatus(p.ctid)).found).toBe(false);
    expect(D[(await phone.link.authorize(p.req)).decision]).toBe('DECISION_APPROVED');
  });

  test('replayed record counter: an older record is refused after a newer one', async () => {
    const older = await prepare(phone, { amount: 1_00 });
    const newer = await prepare(phone, { amount: 2_00 });
    expect(D[(await phone.link.authorize(newer.req)).decision]).toBe('DECISION_APPROVED');
    const r = await phone.link.authorize(older.req);
    expect([D[r.decision], R[r.reason]]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_INVALID_TRANSACTION']);
    expect(r.reasonText).toMatch(/counter \d+ is not above the last accepted \d+ \(replay\)/);
  });

  test('limits: above the contactless limit OVER_LIMIT; above the CVM limit without PIN PIN_REQUIRED; with the PIN approved', async () => {
    const over = await prepare(phone, { amount: 6_000_00, cfg: loose });
    expect(R[(await phone.link.authorize(over.req)).reason]).toBe('DECLINE_REASON_OVER_LIMIT');
    const noPin = await prepare(phone, { amount: 1_500_00 });
    expect(noPin.req.cvm).toBe(pay.Cvm.CVM_NO_CVM);
    const r = await phone.link.authorize(noPin.req);
    expect([R[r.reason], r.responseCode]).toEqual(['DECLINE_REASON_PIN_REQUIRED', '65']);
    // CNY 1000.00 is the UnionPay no-CVM limit: no PIN needed.
    expect(D[(await phone.link.authorize((await prepare(phone, { amount: 1_000_00 })).req)).decision]).toBe('DECISION_APPROVED');
    const before = (await balance('unionpay'))!;
    const withPin = await prepare(phone, { amount: 1_500_00, pin: '1234' });
    const ok = await phone.link.authorize(withPin.req);
    expect([D[ok.decision], ok.reasonText]).toEqual(['DECISION_APPROVED', 'approved']);
    expect(await balance('unionpay')).toBe(before - 1_500_00);
  });

  test('wrong PIN: INCORRECT_PIN, then PIN_TRIES_EXCEEDED at the third, even with the right PIN after', async () => {
    const amount = 150_00; // USD 150.00: above the Visa CVM limit
    const r1 = await phone.link.authorize((await prepare(phone, { card: 'visa', amount, pin: '9999' })).req);
    expect([R[r1.reason], r1.responseCode, r1.reasonText]).toEqual(['DECLINE_REASON_INCORRECT_PIN', '55', 'incorrect PIN (2 tries left)']);
    const r2 = await phone.link.authorize((await prepare(phone, { card: 'visa', amount, pin: '1111' })).req);
    expect(r2.reasonText).toBe('incorrect PIN (1 tries left)');
    // A correct PIN before the limit resets the counter.
    expect(D[(await phone.link.authorize((await prepare(phone, { card: 'visa', amount, pin: '1234' })).req)).decision]).toBe('DECISION_APPROVED');
    for (const pin of ['0000', '0001']) expect(R[(await phone.link.authorize((await prepare(phone, { card: 'visa', amount, pin })).req)).reason]).toBe('DECLINE_REASON_INCORRECT_PIN');
    const r3 = await phone.link.authorize((await prepare(phone, { card: 'visa', amount, pin: '0002' })).req);
    expect([R[r3.reason], r3.responseCode]).toEqual(['DECLINE_REASON_PIN_TRIES_EXCEEDED', '75']);
    const r4 = await phone.link.authorize((await prepare(phone, { card: 'visa', amount, pin: '1234' })).req);
    expect(R[r4.reason]).toBe('DECLINE_REASON_PIN_TRIES_EXCEEDED');
    // No-CVM payments on that card still go through (the PIN is blocked, not the card).
    expect(D[(await phone.link.authorize((await prepare(phone, { card: 'visa', amount: 10_00 })).req)).decision]).toBe('DECISION_APPROVED');
  });

  test('issuer declines: insufficient funds, blocked, expired, unknown card', async () => {
    const cases: [string, Pay, string, string][] = [
      ['low balance', { card: 'unionpay-low-balance', amount: 25_00 }, 'DECLINE_REASON_INSUFFICIENT_FUNDS', '51'],
      ['blocked', { card: 'visa-blocked', amount: 25_00 }, 'DECLINE_REASON_BLOCKED_CARD', '62'],
      ['expired', { card: 'unionpay-expired', amount: 25_00 }, 'DECLINE_REASON_EXPIRED_CARD', '54'],
      ['unknown', { card: 'visa', sim: new VisaCardSim({ pan: '4761739001010135', atc: 3 }), amount: 25_00 }, 'DECLINE_REASON_UNKNOWN_CARD', '14'],
    ];
    for (const [what, o, reason, code] of cases) {
      const r = await phone.link.authorize((await prepare(phone, o)).req);
      expect([D[r.decision], R[r.reason], r.responseCode], `${what}: ${r.reasonText}`).toEqual(['DECISION_DECLINED', reason, code]);
    }
    expect(await balance('unionpay-low-balance')).toBe(20_00);
    expect(D[(await phone.link.authorize((await prepare(phone, { card: 'unionpay-low-balance', amount: 19_99 })).req)).decision]).toBe('DECISION_APPROVED');
  });

  test('cryptogram failures: a card keyed by another issuer, a replayed ATC', async () => {
    const foreign = new UnionPayCardSim({ pan: card('unionpay').pan, psn: '01', atc: 500, issuerMasterKeyAc: fromHex('00112233445566778899AABBCCDDEEFF') });
    const r = await phone.link.authorize((await prepare(phone, { sim: foreign, amount: 25_00 })).req);
    expect([R[r.reason], r.responseCode, r.arpc.length]).toEqual(['DECLINE_REASON_CRYPTOGRAM_FAILED', '82', 0]);
    const replayed = new UnionPayCardSim({ pan: card('unionpay').pan, psn: '01', atc: 1 });
    const r2 = await phone.link.authorize((await prepare(phone, { sim: replayed, amount: 25_00 })).req);
    expect([R[r2.reason], r2.reasonText]).toEqual(['DECLINE_REASON_CRYPTOGRAM_FAILED', expect.stringMatching(/replayed/)]);
  });

  test('a UnionPay SM card: its SM4 ARQC verifies in the HSM and is answered with an SM4 ARPC; under another SM4 key CRYPTOGRAM_FAILED', async () => {
    const c = card('unionpay-sm');
    const sm = new UnionPaySmCardSim({ pan: c.pan, psn: c.psn, atc: 20 });
    const p = await prepare(phone, { sim: sm, card: 'unionpay-sm', amount: 25_00 });
    // The reader offered the SM algorithms, so the card computed its ARQC with SM4.
    expect((sm as unknown as { cryptogramKeys: () => { cvn: { cipher?: string } } }).cryptogramKeys().cvn.cipher).toBe('sm4');
    const r = await phone.link.authorize(p.req);
    expect([D[r.decision], r.responseCode, r.arpc.length]).toEqual(['DECISION_APPROVED', '00', 8]);
    const other = TEST_ISSUER_MASTER_KEY_AC_SM4.map((b) => b ^ 0x5a);
    const forged = new UnionPaySmCardSim({ pan: c.pan, psn: c.psn, atc: 21, issuerMasterKeyAcSm4: other });
    const r2 = await phone.link.authorize((await prepare(phone, { sim: forged, card: 'unionpay-sm', amount: 25_00 })).req);
    expect([R[r2.reason], r2.responseCode, r2.arpc.length]).toEqual(['DECLINE_REASON_CRYPTOGRAM_FAILED', '82', 0]);
  });

  test('amount changed after the card signed it: INVALID_TRANSACTION', async () => {
    // The REE asks txsign to sign 1.00 while the card's ARQC covers 25.00.
    const p = await prepare(phone, { amount: 25_00 });
    const rec = tx.TransactionRecord.decode(p.signed.record);
    const s = await phone.ctx.openSession('txsign');
    const raw = await s.invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({
      record: { ...rec, counter: 0 as any, amountMinor: 1_00 as any, encryptedCardData: new Uint8Array(0), clientTransactionId: `${p.ctid}-b` }, dukptKeyId: 'dukpt', sensitiveCardData: Uint8Array.of(0x5a, 0x01, 0x11),
    }).finish());
    await s.close();
    const r = await phone.link.authorize({ ...p.req, signedTransaction: raw });
    expect([R[r.reason], r.reasonText]).toEqual(['DECLINE_REASON_INVALID_TRANSACTION', expect.stringMatching(/9F02/)]);
  });

  test('device: stale, forged or missing token → DEVICE_NOT_ALLOWED (not journaled); suspended device declined, status and reversal still answered', async () => {
    const p = await prepare(phone, { amount: 4_00 });
    const tok = a.SignedToken.decode(p.req.signedToken!);
    const forged = a.SignedToken.encode({ token: tok.token, signature: flip(tok.signature, 3) }).finish();
    for (const [what, token] of [['forged', forged], ['missing', new Uint8Array(0)]] as const) {
      const r = await phone.link.authorize({ ...p.req, signedToken: token });
      expect([R[r.reason], r.responseCode], what).toEqual(['DECLINE_REASON_DEVICE_NOT_ALLOWED', '57']);
    }
    // Tokens the back end really signed (TEST ONLY: its token key) but bound to another device
    // key or another device id: refused, each time (also once the real token was accepted, the
    // key it matched being remembered per token).
    const body = a.VerdictToken.decode(tok.token);
    const signedFor = (t: trusttap.attest.v1.IVerdictToken) => {
      const bytes = a.VerdictToken.encode(t).finish();
      return a.SignedToken.encode({ token: bytes, signature: be.service.hsm.sign('token', bytes) }).finish();
    };
    const otherKey = signedFor({ ...body, deviceKeySha256: flip(body.deviceKeySha256, 0) });
    const otherDevice = signedFor({ ...body, deviceId: `${body.deviceId}x` });
    for (let round = 0; round < 2; round++) {
      for (const [what, token] of [['another key', otherKey], ['another device', otherDevice]] as const) {
        const r = await phone.link.authorize({ ...p.req, signedToken: token });
        expect([R[r.reason], r.reasonText], what).toEqual(['DECLINE_REASON_DEVICE_NOT_ALLOWED', 'the verdict token is for another device']);
      }
    }
    const realNow = be.service.now;
    (be.service as { now: () => number }).now = () => Date.now() + 121_000;
    try {
      const r = await phone.link.authorize(p.req);
      expect([R[r.reason], r.reasonText]).toEqual(['DECLINE_REASON_DEVICE_NOT_ALLOWED', 'the verdict token has expired: attest again']);
    } finally {
      (be.service as { now: () => number }).now = realNow;
    }
    expect((await phone.link.transactionStatus(p.ctid)).found).toBe(false);
    expect(D[(await phone.link.authorize(p.req)).decision]).toBe('DECISION_APPROVED');

    const q = await prepare(phone, { amount: 4_00 });
    expect((await admin.setState(phone.link.state.deviceId, a.DeviceState.DEVICE_STATE_SUSPENDED, 'back office test')).status).toBe(200);
    try {
      const r = await phone.link.authorize(q.req);
      expect([R[r.reason], r.reasonText]).toEqual(['DECLINE_REASON_DEVICE_NOT_ALLOWED', 'device suspended: back office test']);
      expect(phone.link.notices.some((n) => n.type === a.NoticeType.NOTICE_DEVICE_SUSPENDED)).toBe(true);
      expect((await phone.link.transactionStatus(p.ctid)).found).toBe(true);
      expect((await phone.link.reverse(p.ctid)).reversed).toBe(true);
    } finally {
      await admin.setState(phone.link.state.deviceId, a.DeviceState.DEVICE_STATE_ACTIVE, 'back office test done');
    }
    // Reactivated: a fresh attestation first, then the same request goes through.
    expect(R[(await phone.link.authorize(q.req)).reason]).toBe('DECLINE_REASON_DEVICE_NOT_ALLOWED');
    const fresh = a.SignedToken.encode((await phone.link.attestNow()).signed).finish();
    expect(D[(await phone.link.authorize({ ...q.req, signedToken: fresh })).decision]).toBe('DECISION_APPROVED');
  });

  test('group commit: concurrent requests share a commit, a refused one rolls back alone', async () => {
    // (Two requests only: the envelope counters of one device must arrive in order, and a refused
    // request's counter advance is rolled back with its savepoint, so either order works.)
    const before = (await balance('unionpay'))!;
    const x = await prepare(phone, { amount: 1_11 });
    const [rx, bad] = await Promise.allSettled([phone.link.authorize(x.req), phone.link.reverse('')]);
    expect(rx.status === 'fulfilled' && D[rx.value.decision]).toBe('DECISION_APPROVED');
    expect(bad.status === 'rejected' && String(bad.reason)).toMatch(/400 ERROR_MALFORMED/);
    expect(await balance('unionpay')).toBe(before - 1_11);
    expect((await phone.link.transactionStatus(x.ctid)).found).toBe(true);
  });

  test('refund credits the account', async () => {
    const before = (await balance('mastercard'))!;
    const r = await phone.link.authorize((await prepare(phone, { card: 'mastercard', amount: 7_50, type: 'refund' })).req);
    expect(D[r.decision]).toBe('DECISION_APPROVED');
    expect(await balance('mastercard')).toBe(before + 7_50);
  });

  test('no clear PAN or PIN in the database, the history or the journal', async () => {
    await be.service.repo.transaction(() => undefined);
    const { db, wal } = await storedBytes(be);
    expect(Buffer.concat([db, wal]).includes(Buffer.from(maskPan(card('unionpay').pan)))).toBe(true); // the search sees the stored rows
    for (const c of TEST_CARDS) {
      for (const bytes of [Buffer.from(c.pan), Buffer.from(c.pan.length % 2 ? `${c.pan}F` : c.pan, 'hex')]) {
        expect(db.includes(bytes) || wal.includes(bytes), c.name).toBe(false);
      }
    }
    const h = JSON.stringify(await be.service.history(phone.link.state.deviceId, ALL_ACQUIRERS));
    for (const c of TEST_CARDS) expect(h).not.toContain(c.pan);
    // The PINs typed in this suite, in every encoding the pinpad leak harness knows (PIN fields,
    // clear PIN blocks of each format under each test PAN, UTF-16LE, the hex text of the ASCII
    // digits, base64). Four-digit PINs are short: patterns of fewer than 8 bytes (the bare ASCII
    // digits, 4-character base64) turn up by chance in a binary database (terminal ids hold
    // '0002'), so the database is searched for the 8-byte and longer ones, the text for all
    // but the bare digits.
    const dbHex = db.toString('hex').toUpperCase(), walHex = wal.toString('hex').toUpperCase();
    let patterns = 0;
    for (const pin of TYPED_PINS) {
      for (const c of TEST_CARDS) {
        const enc = encodings(pin, c.pan);
        for (const e of enc.hexes.filter((x) => x.length >= 16)) {
          patterns++;
          const at = [dbHex.indexOf(e), walHex.indexOf(e)];
          expect(at.some((i) => i >= 0 && i % 2 === 0), `${c.name} PIN ${pin} as ${e}`).toBe(false);
        }
        for (const t of enc.texts.filter((x) => x !== pin)) expect(h.toUpperCase(), `${c.name} PIN ${pin} as ${t}`).not.toContain(t);
        for (const b of enc.base64) expect(h, `${c.name} PIN ${pin} as base64 ${b}`).not.toContain(b);
      }
    }
    expect(patterns).toBeGreaterThan(TYPED_PINS.length * TEST_CARDS.length * 8);
  });
});
