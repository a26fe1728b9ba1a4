// Kernel 2 (Mastercard contactless, Book C-2, EMV mode): GPO gives AIP + AFL, records carry
// CDOL1 and the CVM list, the reader does processing restrictions, CVM selection and terminal
// action analysis, then GENERATE AC with CDA requested. The card goes after GENERATE AC; CDA
// is verified after, and with CDA the cryptogram exists only inside the signature. Phone
// wallets (AIP: on-device CVM supported) get CDCVM above the CVM limit, confirmed by the card.
import { fromHex, toHex } from '../../common/hex.ts';
import { generateAc, parseResponse, SW } from '../../common/emv/apdu.ts';
import { buildGpoCommand, parseGpoResponse } from './gpo.ts';
import { buildDol, mapSource, parseDol } from '../../common/emv/dol.ts';
import { readRecords, KernelError } from './read-records.ts';
import { decodeTlv, flatten } from '../../common/tlv.ts';
import { maskPan, parseTrack2 } from '../../common/emv/track2.ts';
import { terminalData } from './transaction.ts';
import { outcome, type CardSummary, type Outcome } from './outcome.ts';
import { cvmFromList } from './cvm.ts';
import { setTvr, TVR } from './tvr.ts';
import { ONLINE_TAGS, sensitiveTlv, type Kernel } from './kernel.ts';
import { recoverIccPublicKey, withAip } from './oda/key-chain.ts';
import { verifyCda } from './oda/cda.ts';
import { OdaError } from './oda/certificates.ts';
import { checkCardData } from './card-data.ts';
import { AIP_RRP_SUPPORTED, runRelayResistance, TVR_RRP, type RrpRun } from './relay-resistance.ts';

const P1_AAC = 0x00, P1_ARQC = 0x80, P1_CDA = 0x10;
/** AIP byte 1 b2: on device cardholder verification supported (EMV Book 3 Annex C1 / C-2). */
const AIP_OD_CVM = 0x02;
/** Mobile Support Indicator (9F7E) byte 1 b2: OD-CVM required. */
const MSI_OD_CVM_REQUIRED = 0x02;
/** POS Cardholder Interaction Information (DF4B) byte 2: b5 OD-CVM verification successful;
 *  b4..b1 context conflicting / offline change PIN / ACK / PIN required — the cardholder has to
 *  do something on the phone. Bit positions as C-2 implementations use them (not checked
 *  against the Book C-2 text here). */
const PCII_OD_CVM_SUCCESSFUL = 0x10, PCII_ACTION_ON_PHONE = 0x0f;

/** C-2 CVM Selection for a card supporting OD-CVM: CDCVM (CVM Results 01 00 02) above the
 *  CVM required limit, no CVM (3F 00 02) below it. */
function cdcvmSelection(required: boolean): { cvm: 'CDCVM' | 'NO_CVM'; cvmResults: Uint8Array } {
  return required ? { cvm: 'CDCVM', cvmResults: Uint8Array.of(0x01, 0x00, 0x02) } : { cvm: 'NO_CVM', cvmResults: Uint8Array.of(0x3f, 0x00, 0x02) };
}

/** Any TVR bit also set in the action code. */
const matches = (tvr: Uint8Array, code: string | undefined) => !!code && fromHex(code).some((b, i) => (b & tvr[i]!) !== 0);

export const kernel2: Kernel = async (k) => {
  const tvr = new Uint8Array(5);
  const term = terminalData(k.config, k.txn, k.un, undefined, tvr);
  // Mobile Support Indicator (9F7E, C-2): b1 "mobile supported", b2 "OD-CVM required" when
  // the amount needs a CVM. Sent to cards whose PDOL asks for it (phone wallets).
  const odCvmRequired = k.indicators.cvmRequiredLimitExceeded;
  term.set('9F7E', Uint8Array.of(0x01 | (odCvmRequired ? MSI_OD_CVM_REQUIRED : 0)));
  const gpoCmd = buildGpoCommand(k.fci.pdol, mapSource(term));
  const pdolData = gpoCmd.subarray(7, 7 + gpoCmd[6]!);
  const g = parseResponse(await k.transport.transceive(gpoCmd));
  if (g.sw === SW.CONDITIONS_NOT_SATISFIED || g.sw === 0x6984) return outcome('SELECT_NEXT', 'PROCESSING', { reason: 'GPO_REFUSED' });
  if (g.sw !== SW.OK) return outcome('END_APPLICATION', 'TRY_ANOTHER_CARD', { reason: `GPO_SW_${g.sw.toString(16).toUpperCase()}` });
  const gpo = parseGpoResponse(g.data);
  if (!(gpo.aip[1]! & 0x80)) return outcome('END_APPLICATION', 'CARD_NOT_SUPPORTED', { reason: 'MAGSTRIPE_MODE_ONLY' });
  // Relay resistance (C-2 §3.10) right after GPO when both sides support it. Its last terminal
  // entropy is the unpredictable number from here on (CDOL1, CDA).
  let un = k.un;
  let rrp: RrpRun | undefined;
  const rrConfig = k.indicators.combination.relayResistance;
  if (rrConfig && gpo.aip[1]! & AIP_RRP_SUPPORTED) {
    rrp = await runRelayResistance(k.transport, rrConfig, k.clock, k.random, tvr);
    un = rrp.entropy;
    term.set('9F37', un);
    for (const [t, v] of rrp.tags) term.set(t, v);
  } else if (rrConfig) {
    setTvr(tvr, TVR_RRP.NOT_PERFORMED);
  }
  const records = await readRecords(k.transport, gpo.afl);
  const card = new Map([...records.data, ...gpo.data]);
  checkCardData(card);
  const pan5a = card.get('5A'), expiry = card.get('5F24'), cdol1 = card.get('8C');
  if (!pan5a || !expiry || !cdol1) return outcome('END_APPLICATION', 'ERROR', { reason: 'ICC_DATA_MISSING' });
  const pan = toHex(pan5a).replace(/F+$/, '');

  // Processing restrictions (Book 3 §10.4.3): dates.
  if (toHex(expiry) < k.txn.date) setTvr(tvr, TVR.EXPIRED_APPLICATION);
  const eff = card.get('5F25');
  if (eff && toHex(eff) > k.txn.date) setTvr(tvr, TVR.APPLICATION_NOT_YET_EFFECTIVE);

  // CVM selection happens before GENERATE AC: CVM Results go to the card in CDOL1. A card
  // whose AIP says "on device cardholder verification supported" (a phone wallet) gets
  // CDCVM above the limit instead of the CVM list (C-2 CVM Selection); the card confirms
  // after GENERATE AC in its POS Cardholder Interaction Information.
  const odCvm = (gpo.aip[0]! & AIP_OD_CVM) !== 0 && k.config.cvm.cdcvm;
  const cvm = odCvm ? cdcvmSelection(odCvmRequired) : cvmFromList(card.get('8E'), {
    amount: k.txn.amount, currency: k.txn.currency, applicationCurrency: card.get('9F42'), transactionType: k.txn.type ?? '00',
    terminalType: k.config.terminalType, cvmRequired: k.indicators.cvmRequiredLimitExceeded, dev: k.config.cvm,
  });
  term.set('9F34', cvm.cvmResults);
  if (!cvm.cvm || ('failed' in cvm && cvm.failed)) setTvr(tvr, TVR.CVM_NOT_SUCCESSFUL);
  if ('failed' in cvm) {
    if (cvm.unrecognisedCvm) setTvr(tvr, TVR.UNRECOGNISED_CVM);
    if (cvm.pinPadNotAvailable) setTvr(tvr, TVR.PIN_PAD_NOT_AVAILABLE);
    if (cvm.iccDataMissing) setTvr(tvr, TVR.ICC_DATA_MISSING);
  }
  if (cvm.cvm === 'ONLINE_PIN') setTvr(tvr, TVR.ONLINE_PIN_ENTERED);
  if (k.indicators.floorLimitExceeded) setTvr(tvr, TVR.FLOOR_LIMIT_EXCEEDED);
  const odaPossible = (gpo.aip[0]! & 0x01) !== 0 && card.has('9F46') && card.has('90');
  if (!odaPossible) setTvr(tvr, TVR.ODA_NOT_PERFORMED);

  // Terminal action analysis (Book 3 §10.7): denial codes first, else online (online-only reader).
  const deny = matches(tvr, k.indicators.combination.tacDenial) || matches(tvr, toHexOpt(card.get('9F0E')));
  const p1 = deny ? P1_AAC : P1_ARQC | (odaPossible ? P1_CDA : 0);
  const cdol1Data = buildDol(parseDol(cdol1), mapSource(term, card));
  // The issuer verifies the cryptogram over the TVR the card was given, not the final one.
  const tvrAtCryptogram = tvr.slice();
  const r = parseResponse(await k.transport.transceive(generateAc(p1, cdol1Data)));

  k.emit({ type: 'CARD_READ' });
  k.emit({ type: 'REMOVE_CARD' });
  k.emit({ type: 'PROCESSING' });

  const t2 = card.get('57');
  const summary: CardSummary = { aid: k.aid, kernel: 2, maskedPan: maskPan(pan), expiry: toHex(expiry).slice(0, 4) };
  if (k.fci.label) summary.label = k.fci.label;
  if (card.get('5F34')) summary.panSequenceNumber = toHex(card.get('5F34')!);
  if (t2) parseTrack2(t2); // consistency: malformed track 2 ends the transaction
  const online = new Map([...term, ...card]);
  const done = (o: Outcome) => {
    o.card = summary;
    o.tvr = toHex(tvr);
    o.relayResistance = rrp?.result ?? { performed: false, retries: 0, timeLimitsExceeded: false, thresholdExceeded: false };
    online.set('84', fromHex(k.aid)); online.set('95', tvrAtCryptogram);
    o.sensitive = sensitiveTlv(card);
    o.onlineData = Object.fromEntries(ONLINE_TAGS.filter((t) => online.has(t)).map((t) => [t, toHex(online.get(t)!)]));
    return o;
  };
  if (r.sw !== SW.OK) return done(outcome('END_APPLICATION', 'TRY_ANOTHER_CARD', { reason: `GENERATE_AC_SW_${r.sw.toString(16).toUpperCase()}` }));
  const nodes = decodeTlv(r.data);
  const t77 = nodes[0];
  if (!t77 || t77.tag !== '77' || !t77.children) return done(outcome('END_APPLICATION', 'ERROR', { reason: 'GENERATE_AC_FORMAT' }));
  const resp = flatten(t77.children);
  for (const [t, v] of resp) online.set(t, v);
  const cid = resp.get('9F27');
  if (!cid || !resp.get('9F36')) return done(outcome('END_APPLICATION', 'ERROR', { reason: 'ICC_DATA_MISSING' }));
  try {
    checkCardData(resp);
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    return done(outcome('END_APPLICATION', 'ERROR', { reason: `CARD_DATA_${e.code}` }));
  }
  const type = cid[0]! & 0xc0;
  // A card may answer with a lower cryptogram than asked (AAC < ARQC < TC), never a higher one
  // (Book 3 §9.3): a TC to an ARQC request, or anything but an AAC to an AAC request, is refused.
  if ((p1 & 0xc0) === P1_AAC ? type !== 0x00 : type === 0x40) {
    return done(outcome('END_APPLICATION', 'ERROR', { reason: 'CRYPTOGRAM_TYPE_NOT_REQUESTED' }));
  }
  const pcii = resp.get('DF4B');
  // A wallet that declines because the cardholder must act on the phone (verify, acknowledge):
  // C-2 Outcome Parameter Set Status "End Application", Start "B" (restart), UI Request "See
  // Phone" with status Not Ready — the cardholder verifies on the phone, then taps again.
  if (type === 0x00 && pcii && pcii.length >= 2 && pcii[1]! & PCII_ACTION_ON_PHONE) {
    return done(outcome('END_APPLICATION', 'SEE_PHONE', { reason: 'SEE_PHONE', restart: 'B' }));
  }
  if (type === 0x00) return done(outcome('DECLINED', 'NOT_AUTHORISED', { reason: deny ? 'TERMINAL_DENIAL' : 'CARD_DECLINED' }));
  // CDCVM chosen: only the card can say the cardholder was verified on the device.
  if (cvm.cvm === 'CDCVM' && !(pcii && pcii.length >= 2 && pcii[1]! & PCII_OD_CVM_SUCCESSFUL)) {
    return done(outcome('END_APPLICATION', 'SEE_PHONE', { reason: 'CDCVM_NOT_CONFIRMED', restart: 'B' }));
  }

  let oda: 'PASSED' | 'FAILED' | undefined;
  if (p1 & P1_CDA) {
    const sdad = resp.get('9F4B');
    try {
      if (!sdad) throw new OdaError('DATA_MISSING', 'CDA requested but no SDAD returned');
      const icc = recoverIccPublicKey(k.capks, k.aid, card, withAip(records.staticData, card.get('9F4A'), gpo.aip), pan, term.get('9A')!);
      const ac = verifyCda(icc, { sdad, un, cid, pdolData, cdol1Data, response: t77.children, responseBytes: r.data, ...(rrp ? { relayResistanceData: rrp.signedData } : {}) });
      online.set('9F26', ac);
      oda = 'PASSED';
    } catch (e) {
      if (!(e instanceof OdaError)) throw e;
      setTvr(tvr, TVR.CDA_FAILED);
      // Without a verified signature there is no cryptogram to send: decline (C-2 §7.8).
      return done(outcome('DECLINED', 'NOT_AUTHORISED', { reason: `ODA_FAILED_${e.code}`, oda: 'FAILED' }));
    }
  } else if (!resp.get('9F26')) {
    return done(outcome('END_APPLICATION', 'ERROR', { reason: 'ICC_DATA_MISSING' }));
  }
  if (!cvm.cvm) return done(outcome('DECLINED', 'PIN_NOT_SUPPORTED', { reason: 'CVM_NOT_SUPPORTED', ...(oda ? { oda } : {}) }));
  const extra = { cvm: cvm.cvm, ...(oda ? { oda } : {}) };
  if (type === 0x40) return done(outcome('APPROVED', 'APPROVED', extra));
  return done(outcome('ONLINE_REQUEST', cvm.cvm === 'ONLINE_PIN' ? 'PLEASE_ENTER_PIN' : 'AUTHORISING', extra));
};

function toHexOpt(b: Uint8Array | undefined): string | undefined {
  return b ? toHex(b) : undefined;
}
