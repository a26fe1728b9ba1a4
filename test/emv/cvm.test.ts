// Cardholder verification decisions (ree/emv/cvm.ts): the CTQ of kernels 3/7 (Book C-3 §5.7,
// C-7) and the CVM list of kernel 2 (Book C-2 §7.5, EMV Book 3 §10.5, Annex C3): every CVM
// code, every condition code 00–09 with X/Y at and around their values, the "apply succeeding
// CV Rule" bit (b7) and the CVM Results (9F34).
import { describe, expect, it } from 'vitest';
import { cvmFromCtq, cvmFromList, type CvmListContext } from '../../ree/emv/cvm.ts';
import { fromHex, toHex } from '../../common/hex.ts';

const PIN_ONLY = { onlinePin: true, cdcvm: true, signature: false };
const PIN_SIG = { onlinePin: true, cdcvm: true, signature: true };
const SIG_ONLY = { onlinePin: false, cdcvm: false, signature: true };
const NOTHING = { onlinePin: false, cdcvm: false, signature: false };

describe('CVM from the CTQ (kernels 3 and 7)', () => {
  const table: Array<[string, string | undefined, boolean, typeof PIN_ONLY, string]> = [
    // what, CTQ, CVM required, reader, decision
    ['no CTQ, below the CVM limit', undefined, false, PIN_ONLY, 'NO_CVM'],
    ['no CTQ, above the limit: the reader chooses online PIN', undefined, true, PIN_ONLY, 'ONLINE_PIN'],
    ['no CTQ, above the limit, no PIN pad: signature', undefined, true, SIG_ONLY, 'SIGNATURE'],
    ['no CTQ, above the limit, no CVM at all', undefined, true, NOTHING, 'fail:CVM_NOT_SUPPORTED'],
    ['CTQ names no CVM, above the limit: never no CVM', '0000', true, PIN_ONLY, 'ONLINE_PIN'],
    ['CTQ names no CVM, above the limit, signature reader', '0000', true, SIG_ONLY, 'SIGNATURE'],
    ['CTQ names no CVM, above the limit, no CVM at all', '0000', true, NOTHING, 'fail:CVM_NOT_SUPPORTED'],
    ['CTQ names no CVM, below the limit', '0000', false, PIN_ONLY, 'NO_CVM'],
    ['CTQ other bits only, below the limit', '3F7F', false, PIN_SIG, 'NO_CVM'],
    ['card asks online PIN', '8000', false, PIN_ONLY, 'ONLINE_PIN'],
    ['card asks online PIN, reader has none', '8000', false, SIG_ONLY, 'fail:PIN_NOT_SUPPORTED'],
    ['card asks online PIN above the limit, reader has none', '8000', true, NOTHING, 'fail:PIN_NOT_SUPPORTED'],
    ['card asks signature', '4000', true, PIN_SIG, 'SIGNATURE'],
    ['card asks signature below the limit', '4000', false, SIG_ONLY, 'SIGNATURE'],
    ['card asks signature, reader takes none', '4000', true, PIN_ONLY, 'fail:CVM_NOT_SUPPORTED'],
    ['card asks online PIN and signature: PIN first', 'C000', true, PIN_SIG, 'ONLINE_PIN'],
    ['card did CDCVM', '0080', true, PIN_ONLY, 'CDCVM'],
    ['card did CDCVM below the limit', '0080', false, PIN_ONLY, 'CDCVM'],
    ['card did CDCVM, reader does not accept CDCVM', '0080', true, { onlinePin: true, cdcvm: false, signature: true }, 'fail:CVM_NOT_SUPPORTED'],
    ['CDCVM done wins over a PIN request', 'C080', true, PIN_SIG, 'CDCVM'],
  ];
  for (const [what, ctq, required, dev, want] of table) {
    it(what, () => {
      const d = cvmFromCtq(ctq === undefined ? undefined : fromHex(ctq), required, dev);
      expect('cvm' in d ? d.cvm : `fail:${d.fail}`).toBe(want);
    });
  }
});

const X = 10_00, Y = 20_00;
const u32 = (n: number) => n.toString(16).padStart(8, '0');
const list = (...rules: string[]) => fromHex(u32(X) + u32(Y) + rules.join(''));
const ctx = (o: Partial<CvmListContext> = {}): CvmListContext => ({
  amount: 50_00, currency: '0156', applicationCurrency: fromHex('0156'), transactionType: '00', terminalType: '22',
  cvmRequired: true, dev: PIN_SIG, ...o,
});
const run = (l: Uint8Array | undefined, o: Partial<CvmListContext> = {}) => {
  const r = cvmFromList(l, ctx(o));
  return { ...r, cvmResults: toHex(r.cvmResults) };
};

describe('CVM list: each CVM code above the CVM required limit (rule applies always, b7 = 0)', () => {
  const table: Array<[string, string, typeof PIN_ONLY, string | undefined, string, Partial<Record<'unrecognisedCvm' | 'pinPadNotAvailable', boolean>>]> = [
    // rule, what, reader, CVM, CVM Results, TVR flags
    ['0200', 'online PIN', PIN_SIG, 'ONLINE_PIN', '020000', {}],
    ['0200', 'online PIN, reader without PIN', SIG_ONLY, undefined, '020001', { pinPadNotAvailable: true }],
    ['1E00', 'signature', PIN_SIG, 'SIGNATURE', '1E0000', {}],
    ['1E00', 'signature, reader takes none', PIN_ONLY, undefined, '1E0001', {}],
    ['1F00', 'no CVM is not offered above the limit', PIN_SIG, undefined, '1F0001', {}],
    ['0000', 'fail CVM processing', PIN_SIG, undefined, '000001', {}],
    ['0100', 'plaintext PIN by the ICC (offline: none in contactless)', PIN_SIG, undefined, '010001', { pinPadNotAvailable: true }],
    ['0300', 'plaintext PIN by the ICC and signature', PIN_SIG, undefined, '030001', { pinPadNotAvailable: true }],
    ['0400', 'enciphered PIN by the ICC', PIN_SIG, undefined, '040001', { pinPadNotAvailable: true }],
    ['0500', 'enciphered PIN by the ICC and signature', PIN_SIG, undefined, '050001', { pinPadNotAvailable: true }],
    ['0600', 'an RFU CVM code', PIN_SIG, undefined, '060001', { unrecognisedCvm: true }],
    ['1D00', 'the last RFU code before signature', PIN_SIG, undefined, '1D0001', { unrecognisedCvm: true }],
    ['2000', 'a payment-system CVM this reader does not know', PIN_SIG, undefined, '200001', { unrecognisedCvm: true }],
    ['3E00', 'an issuer CVM', PIN_SIG, undefined, '3E0001', { unrecognisedCvm: true }],
  ];
  for (const [rule, what, dev, cvm, results, flags] of table) {
    it(`${rule}: ${what}`, () => {
      const r = run(list(rule), { dev });
      expect(r.cvm).toBe(cvm);
      expect(r.cvmResults).toBe(results);
      expect(r.failed).toBe(cvm === undefined);
      expect(r.unrecognisedCvm).toBe(!!flags.unrecognisedCvm);
      expect(r.pinPadNotAvailable).toBe(!!flags.pinPadNotAvailable);
      expect(r.iccDataMissing).toBe(false);
    });
  }
});

describe('CVM list: "apply succeeding CV Rule if unsuccessful" (b7)', () => {
  it('b7 set: an unsuccessful CVM moves on to the next rule', () => {
    const r = run(list('4100', '0200'));
    expect([r.cvm, r.cvmResults, r.failed, r.pinPadNotAvailable]).toEqual(['ONLINE_PIN', '020000', false, true]);
  });
  it('b7 clear: verification fails at that rule, the next is never tried', () => {
    const r = run(list('0100', '0200'));
    expect([r.cvm, r.cvmResults, r.failed]).toEqual([undefined, '010001', true]);
  });
  it('"fail CVM processing" with b7 set moves on; without it fails', () => {
    expect(run(list('4000', '1E00')).cvm).toBe('SIGNATURE');
    expect(run(list('0000', '1E00')).cvmResults).toBe('000001');
  });
  it('an unrecognised CVM with b7 set is noted in the TVR and the next rule applies', () => {
    const r = run(list('6600', '1E00'));
    expect([r.cvm, r.cvmResults, r.unrecognisedCvm, r.failed]).toEqual(['SIGNATURE', '1E0000', true, false]);
  });
  it('the list runs out: CVM Results 3F 00 01, verification failed', () => {
    const r = run(list('4100', '5E00'), { dev: PIN_ONLY });
    expect([r.cvm, r.cvmResults, r.failed, r.pinPadNotAvailable]).toEqual([undefined, '3F0001', true, true]);
  });
  it('the result keeps the whole rule byte (b7 included) and the condition', () => {
    expect(run(list('4203', '1E03')).cvmResults).toBe('420300');
  });
});

describe('CVM list: condition codes 00–09', () => {
  // '02 cc' (online PIN under condition cc, b7 = 0 would fail so b7 = 1), then signature always:
  // a satisfied condition gives online PIN with CVM Results 42 cc 00, an unsatisfied one signature.
  const decide = (cond: string, o: Partial<CvmListContext> = {}) => {
    const r = run(list(`42${cond}`, '1E00'), o);
    return r.cvm === 'ONLINE_PIN' ? (expect(r.cvmResults).toBe(`42${cond}00`), 'applies') : 'skipped';
  };
  const table: Array<[string, string, Partial<CvmListContext>, 'applies' | 'skipped']> = [
    ['00', 'always', {}, 'applies'],
    ['01', 'unattended cash: unattended terminal (25), cash', { terminalType: '25', transactionType: '01' }, 'applies'],
    ['01', 'unattended cash: unattended terminal (14), cash', { terminalType: '14', transactionType: '01' }, 'applies'],
    ['01', 'unattended cash: unattended terminal (26), cash', { terminalType: '26', transactionType: '01' }, 'applies'],
    ['01', 'unattended cash: attended terminal (22), cash', { terminalType: '22', transactionType: '01' }, 'skipped'],
    ['01', 'unattended cash: attended terminal (23), cash', { terminalType: '23', transactionType: '01' }, 'skipped'],
    ['01', 'unattended cash: unattended terminal, purchase', { terminalType: '25', transactionType: '00' }, 'skipped'],
    ['02', 'not cash, not cashback: purchase', { transactionType: '00' }, 'applies'],
    ['02', 'not cash, not cashback: refund', { transactionType: '20' }, 'applies'],
    ['02', 'not cash, not cashback: manual cash', { transactionType: '01' }, 'skipped'],
    ['02', 'not cash, not cashback: unattended cash', { transactionType: '01', terminalType: '25' }, 'skipped'],
    ['02', 'not cash, not cashback: purchase with cashback', { transactionType: '09' }, 'skipped'],
    ['03', 'the terminal supports the CVM', {}, 'applies'],
    ['03', 'the terminal does not support the CVM', { dev: SIG_ONLY }, 'skipped'],
    ['04', 'manual cash: attended terminal, cash', { terminalType: '22', transactionType: '01' }, 'applies'],
    ['04', 'manual cash: unattended terminal, cash', { terminalType: '25', transactionType: '01' }, 'skipped'],
    ['04', 'manual cash: attended terminal, purchase', { terminalType: '22', transactionType: '00' }, 'skipped'],
    ['05', 'purchase with cashback', { transactionType: '09' }, 'applies'],
    ['05', 'purchase with cashback: a purchase', { transactionType: '00' }, 'skipped'],
    ['06', 'under X: one minor unit under', { amount: X - 1 }, 'applies'],
    ['06', 'under X: exactly X', { amount: X }, 'skipped'],
    ['06', 'under X: between X and Y', { amount: X + 1 }, 'skipped'],
    ['06', 'under X, another currency than the application\'s', { amount: X - 1, applicationCurrency: fromHex('0840') }, 'skipped'],
    ['06', 'under X, no application currency', { amount: X - 1, applicationCurrency: undefined }, 'skipped'],
    ['06', 'under X, a one-byte application currency', { amount: X - 1, currency: '0001', applicationCurrency: fromHex('01') }, 'skipped'],
    ['07', 'over X: one minor unit over', { amount: X + 1 }, 'applies'],
    ['07', 'over X: exactly X', { amount: X }, 'skipped'],
    ['07', 'over X: under X', { amount: X - 1 }, 'skipped'],
    ['07', 'over X, another currency than the application\'s', { amount: X + 1, currency: '0978' }, 'skipped'],
    ['08', 'under Y: one minor unit under', { amount: Y - 1 }, 'applies'],
    ['08', 'under Y: between X and Y (not under X)', { amount: X + 1 }, 'applies'],
    ['08', 'under Y: exactly Y', { amount: Y }, 'skipped'],
    ['08', 'under Y, another currency', { amount: Y - 1, applicationCurrency: fromHex('0344') }, 'skipped'],
    ['09', 'over Y: one minor unit over', { amount: Y + 1 }, 'applies'],
    ['09', 'over Y: exactly Y', { amount: Y }, 'skipped'],
    ['09', 'over Y: between X and Y (over X)', { amount: X + 1 }, 'skipped'],
    ['09', 'over Y, another currency', { amount: Y + 1, applicationCurrency: fromHex('0156').subarray(0, 1) }, 'skipped'],
    ['0A', 'RFU condition', {}, 'skipped'],
    ['7F', 'RFU condition', {}, 'skipped'],
    ['80', 'payment-system condition this reader does not know', {}, 'skipped'],
  ];
  for (const [cond, what, o, want] of table) it(`${cond}: ${what} → ${want}`, () => expect(decide(cond, o)).toBe(want));

  it('X and Y are read from where the list starts, not from the start of its buffer', () => {
    const buf = new Uint8Array(4 + 12);
    buf.set(list('4206', '1E00'), 4);
    buf.set(fromHex('000000FF'), 0);
    expect(cvmFromList(buf.subarray(4), ctx({ amount: X - 1 })).cvm).toBe('ONLINE_PIN');
    expect(cvmFromList(buf.subarray(4), ctx({ amount: X })).cvm).toBe('SIGNATURE');
  });
  it('a skipped rule is no failure: nothing is noted', () => {
    const r = run(list('4206', '1E00'), { amount: X });
    expect([r.failed, r.unrecognisedCvm, r.pinPadNotAvailable]).toEqual([false, false, false]);
  });
});

describe('CVM list below the CVM required limit: only "no CVM" is offered', () => {
  it('the Mastercard test card (42 03, 1F 03): online PIN not offered, no CVM successful', () => {
    const r = run(fromHex('00000000000000004203' + '1F03'), { cvmRequired: false });
    expect([r.cvm, r.cvmResults, r.failed]).toEqual(['NO_CVM', '1F0302', false]);
  });
  it('no CVM always: successful', () => expect(run(list('1F00'), { cvmRequired: false }).cvmResults).toBe('1F0002'));
  it('a list that fails (online PIN, b7 = 0) goes on without CVM, the failure in the TVR', () => {
    const r = run(list('0200'), { cvmRequired: false });
    expect([r.cvm, r.cvmResults, r.failed, r.pinPadNotAvailable, r.unrecognisedCvm]).toEqual(['NO_CVM', '020001', true, false, false]);
  });
  it('a list that runs out: no CVM, 3F 00 01, failure noted', () => {
    const r = run(list('4206'), { cvmRequired: false, amount: X });
    expect([r.cvm, r.cvmResults, r.failed]).toEqual(['NO_CVM', '3F0001', true]);
  });
});

describe('no CVM list, or one without a CV Rule', () => {
  const shapes: Array<[string, Uint8Array | undefined]> = [
    ['absent', undefined],
    ['X and Y only', fromHex('0000000000000000')],
    ['9 bytes', fromHex('000000000000000002')],
    ['an odd byte after a rule', fromHex('0000000000000000020000')],
  ];
  for (const [what, l] of shapes) {
    it(`${what}: below the limit no CVM performed (3F 00 00), ICC data missing`, () => {
      const r = run(l, { cvmRequired: false });
      expect([r.cvm, r.cvmResults, r.failed, r.iccDataMissing]).toEqual(['NO_CVM', '3F0000', false, true]);
    });
    it(`${what}: above the limit no CVM can be done (3F 00 01)`, () => {
      const r = run(l);
      expect([r.cvm, r.cvmResults, r.failed, r.iccDataMissing]).toEqual([undefined, '3F0001', true, true]);
    });
  }
  it('the smallest list with one rule (10 bytes) is a list', () => {
    expect(run(fromHex('00000000000000000200')).cvmResults).toBe('020000');
  });
});
