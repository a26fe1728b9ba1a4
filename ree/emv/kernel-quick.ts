// Kernels 3 (Visa qVSDC, Book C-3) and 7 (UnionPay QuickPass qPBOC, Book C-7): the card
// returns its cryptogram in the GPO response; the reader reads the records, lets the card go,
// then checks fDDA and the CVM the card asked for (CTQ). K7 differs in requiring a PDOL and
// accepting fDDA version 01 only.
import { fromHex, toHex } from '../../common/hex.ts';
import { parseResponse, SW } from '../../common/emv/apdu.ts';
import { buildGpoCommand, parseGpoResponse } from './gpo.ts';
import { mapSource } from '../../common/emv/dol.ts';
import { readRecords, KernelError } from './read-records.ts';
import { parseTrack2, maskPan } from '../../common/emv/track2.ts';
import { terminalData, amountBcd } from './transaction.ts';
import { outcome, type CardSummary, type Outcome } from './outcome.ts';
import { cvmFromCtq } from './cvm.ts';
import { setTvr, TVR } from './tvr.ts';
import { ONLINE_TAGS, sensitiveTlv, type Kernel, type KernelInput } from './kernel.ts';
import { recoverIccPublicKey, withAip } from './oda/key-chain.ts';
import { verifyFdda } from './oda/fdda.ts';
import { OdaError } from './oda/certificates.ts';
import { checkCardData } from './card-data.ts';

export const kernel3: Kernel = (k) => quickKernel(k, 3);
export const kernel7: Kernel = (k) => quickKernel(k, 7);

async function quickKernel(k: KernelInput, id: 3 | 7): Promise<Outcome> {
  const pdol = k.fci.pdol;
  if (!pdol || pdol.length === 0) {
    // K7: PDOL required. K3 without PDOL would be MSD, which this reader does not do.
    return outcome('END_APPLICATION', 'CARD_NOT_SUPPORTED', { reason: 'PDOL_MISSING' });
  }
  const tvr = new Uint8Array(5);
  const term = terminalData(k.config, k.txn, k.un, k.indicators.ttq, tvr);
  // PBOC 3.0 (JR/T 0025.17): SM algorithm support indicator, for cards whose PDOL asks for it.
  // 01 when the reader holds an SM2 CA key (algorithm indicator 04) for this RID.
  const smOffered = id === 7 && k.config.capks.some((c) => c.algorithm === '04' && c.rid.toUpperCase() === k.aid.slice(0, 10).toUpperCase());
  if (id === 7) term.set('DF69', Uint8Array.of(smOffered ? 0x01 : 0x00));
  const gpoCmd = buildGpoCommand(pdol, mapSource(term));
  // The issuer verifies the cryptogram over the TVR the card was given, not the final one.
  const tvrAtCryptogram = tvr.slice();
  const g = parseResponse(await k.transport.transceive(gpoCmd));
  if (g.sw === 0x6986) return outcome('TRY_AGAIN', 'SEE_PHONE', { reason: 'SEE_PHONE' });
  if (g.sw === SW.CONDITIONS_NOT_SATISFIED || g.sw === 0x6984) return outcome('SELECT_NEXT', 'PROCESSING', { reason: 'GPO_REFUSED' });
  if (g.sw !== SW.OK) return outcome('END_APPLICATION', 'TRY_ANOTHER_CARD', { reason: `GPO_SW_${g.sw.toString(16).toUpperCase()}` });
  const gpo = parseGpoResponse(g.data);
  if (gpo.data.size === 0) return outcome('END_APPLICATION', 'CARD_NOT_SUPPORTED', { reason: 'GPO_FORMAT_1' });
  const records = gpo.afl.length ? await readRecords(k.transport, gpo.afl) : { data: new Map<string, Uint8Array>(), staticData: new Uint8Array(0) };

  // Everything needed is read: the card may go. No more card commands after this point.
  k.emit({ type: 'CARD_READ' });
  k.emit({ type: 'REMOVE_CARD' });
  k.emit({ type: 'PROCESSING' });

  const card = new Map([...records.data, ...gpo.data]);
  const cid = card.get('9F27'), ac = card.get('9F26'), atc = card.get('9F36'), t2 = card.get('57');
  if (!cid || !ac || !atc || !card.get('9F10') || (!t2 && !card.get('5A'))) {
    return outcome('END_APPLICATION', 'ERROR', { reason: 'ICC_DATA_MISSING' });
  }
  checkCardData(card);
  const track2 = t2 ? parseTrack2(t2) : undefined;
  const pan = track2?.pan ?? toHex(card.get('5A')!).replace(/F+$/, '');
  const summary: CardSummary = { aid: k.aid, kernel: id, maskedPan: maskPan(pan) };
  if (k.fci.label) summary.label = k.fci.label;
  const exp = card.get('5F24');
  summary.expiry = exp ? toHex(exp).slice(0, 4) : track2?.expiry;
  if (card.get('5F34')) summary.panSequenceNumber = toHex(card.get('5F34')!);
  if (id === 7) {
    // The card's cryptogram algorithm (PBOC IAD byte 8): an SM4 cryptogram is only valid when
    // this reader offered the SM algorithms (DF69 = 01); otherwise the card is not following
    // the protocol and the transaction ends here rather than going online with it.
    const alg = pbocCryptogramAlgorithm(card.get('9F10')!);
    if (alg) summary.cryptogramAlgorithm = alg;
    if (alg === 'SM4' && !smOffered) {
      const o = outcome('END_APPLICATION', 'TRY_ANOTHER_CARD', { reason: 'SM_ALGORITHM_NOT_OFFERED' });
      o.card = summary;
      return o;
    }
  }

  const cryptogramType = cid[0]! & 0xc0;
  const done = (o: Outcome) => {
    o.card = summary;
    o.tvr = toHex(tvr);
    const online = new Map([...term, ...card, ['84', fromHex(k.aid, 'AID')], ['95', tvrAtCryptogram]]);
    o.sensitive = sensitiveTlv(card);
    o.onlineData = Object.fromEntries(ONLINE_TAGS.filter((t) => online.has(t)).map((t) => [t, toHex(online.get(t)!)]));
    return o;
  };
  if (cryptogramType === 0x00) return done(outcome('DECLINED', 'NOT_AUTHORISED', { reason: 'CARD_DECLINED' }));

  // fDDA, after the card has gone (C-3 §5.3 / C-7).
  const ctq = card.get('9F6C');
  let oda: 'PASSED' | 'FAILED' | undefined;
  const sdad = card.get('9F4B');
  if (sdad) {
    try {
      const static_ = withAip(records.staticData, card.get('9F4A'), gpo.aip);
      const icc = recoverIccPublicKey(k.capks, k.aid, card, static_, pan, term.get('9A')!);
      const cad = card.get('9F69');
      verifyFdda(icc, { sdad, un: k.un, amount: amountBcd(k.txn.amount), currency: term.get('5F2A')!, requireVersion01: id === 7, ...(cad ? { cardAuthData: cad } : {}) });
      oda = 'PASSED';
    } catch (e) {
      if (!(e instanceof OdaError)) throw e;
      oda = 'FAILED';
      setTvr(tvr, TVR.DDA_FAILED);
      // Online anyway when the card says so (CTQ byte 1 bit 6) and the reader is online capable —
      // for an ARQC only: a TC is an offline approval, which a failed fDDA rules out, and it is
      // no request the issuer can answer online.
      if (!(ctq && ctq[0]! & 0x20) || cryptogramType !== 0x80) return done(outcome('DECLINED', 'NOT_AUTHORISED', { reason: `ODA_FAILED_${e.code}`, oda }));
    }
  } else {
    setTvr(tvr, TVR.ODA_NOT_PERFORMED);
    // An offline approval without ODA is not acceptable; an online request is.
    if (cryptogramType === 0x40) return done(outcome('DECLINED', 'NOT_AUTHORISED', { reason: 'ODA_NOT_PERFORMED' }));
  }

  const cvm = cvmFromCtq(ctq, k.indicators.cvmRequiredLimitExceeded, k.config.cvm);
  if ('fail' in cvm) {
    setTvr(tvr, TVR.CVM_NOT_SUCCESSFUL);
    return done(outcome('DECLINED', cvm.fail === 'PIN_NOT_SUPPORTED' ? 'PIN_NOT_SUPPORTED' : 'TRY_ANOTHER_CARD', { reason: cvm.fail, ...(oda ? { oda } : {}) }));
  }
  const extra = { cvm: cvm.cvm, ...(oda ? { oda } : {}) };
  if (cryptogramType === 0x40) return done(outcome('APPROVED', 'APPROVED', extra));
  return done(outcome('ONLINE_REQUEST', cvm.cvm === 'ONLINE_PIN' ? 'PLEASE_ENTER_PIN' : 'AUTHORISING', extra));
}

/** PBOC 3.0 IAD (JR/T 0025): length 07, key index, CVN, CVR (4 bytes), algorithm indicator
 *  (01 TDES, 04 the SM algorithms). Undefined when the IAD is not in that format. */
export function pbocCryptogramAlgorithm(iad: Uint8Array): 'SM4' | 'TDES' | undefined {
  if (iad.length < 8 || iad[0] !== 0x07) return undefined;
  return iad[7] === 0x04 ? 'SM4' : iad[7] === 0x01 ? 'TDES' : undefined;
}

export { KernelError };
