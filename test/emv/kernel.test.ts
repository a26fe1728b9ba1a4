import { describe, expect, it } from 'vitest';
import { MastercardCardSim, UnionPayCardSim, VisaCardSim, TEST_ISSUER_MASTER_KEY_AC, type SimulatedCard } from '../../sim/cards/index.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { ReplayTransport } from '../../ree/nfc/replay.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { loadSignedConfig, signConfig, ConfigError } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey, testTerminalConfig } from '../../sim/test-terminal-config.ts';
import { verifyArqc } from '../../backend/issuer/issuer-host.ts';
import { fromHex } from '../../common/hex.ts';
import { decodeTlv } from '../../common/tlv.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgressEvent, Outcome } from '../../ree/emv/outcome.ts';
import type { TerminalConfig } from '../../common/emv/config.ts';
import type { CardTransport } from '../../ree/nfc/transport.ts';

const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
const fixedUn = (n: number) => new Uint8Array(n).fill(0x5a);
const CAPTURES = join(import.meta.dirname, '../../sim/captures');

async function pay(card: SimulatedCard, amount: number, opts: { currency?: string; cfg?: TerminalConfig; log?: string[] } = {}): Promise<Outcome> {
  const t = new InProcessTransport(card);
  t.tap();
  const log = opts.log;
  const transport: CardTransport = log
    ? { transceive: (c) => { log.push(`APDU ${Buffer.from(c.subarray(0, 2)).toString('hex')}`); return t.transceive(c); }, onCardEvent: (l) => t.onCardEvent(l) }
    : t;
  return runEntryPoint(transport, opts.cfg ?? config, { amount, currency: opts.currency ?? '0156', date: '251125', time: '120000' }, {
    random: fixedUn,
    onProgress: (e: ProgressEvent) => log?.push(e.type),
  });
}

const cards = {
  visa: (o = {}) => new VisaCardSim(o),
  mastercard: (o = {}) => new MastercardCardSim(o),
  unionpay: (o = {}) => new UnionPayCardSim(o),
};
const cvnOf = { visa: 'visa-18', mastercard: 'mastercard-16', unionpay: 'unionpay-01' } as const;
const panOf = { visa: '4761739001010119', mastercard: '5413330089010434', unionpay: '6228480000000000017' } as const;

describe('contactless purchase through Entry Point and the kernels', () => {
  for (const scheme of ['visa', 'mastercard', 'unionpay'] as const) {
    it(`${scheme}: online request whose ARQC the issuer verifies`, async () => {
      const o = await pay(cards[scheme](), 25_00);
      expect(o.kind).toBe('ONLINE_REQUEST');
      expect(o.cvm).toBe('NO_CVM');
      expect(o.oda).toBe('PASSED');
      expect(o.card?.maskedPan).toMatch(/^\d{6}\*+\d{4}$/);
      const { sensitive, ...forTheApp } = o;
      expect(JSON.stringify(forTheApp)).not.toContain(panOf[scheme]);
      // The PAN travels only in `sensitive`, for the txsign TA to encrypt.
      expect(Buffer.from(sensitive!).toString('hex').toUpperCase()).toContain(panOf[scheme]);
      const icc = new Map(Object.entries(o.onlineData!).map(([k, v]) => [k, fromHex(v)]));
      expect(icc.get('9F37')).toEqual(fixedUn(4));
      const r = verifyArqc({ cvn: cvnOf[scheme], issuerMasterKeyAc: TEST_ISSUER_MASTER_KEY_AC, pan: panOf[scheme], psn: '01', iccData: icc }, fromHex('3030'));
      expect(r.valid).toBe(true);
      // A wrong amount must not verify: the cryptogram covers it.
      icc.set('9F02', fromHex('000000002501'));
      expect(verifyArqc({ cvn: cvnOf[scheme], issuerMasterKeyAc: TEST_ISSUER_MASTER_KEY_AC, pan: panOf[scheme], psn: '01', iccData: icc }, fromHex('3030')).valid).toBe(false);
    });

    it(`${scheme}: progress events in order, no APDU after "remove card"`, async () => {
      const log: string[] = [];
      await pay(cards[scheme](), 10_00, { log });
      const events = log.filter((x) => !x.startsWith('APDU'));
      expect(events).toEqual(['PRESENT_CARD', 'CARD_READ', 'REMOVE_CARD', 'PROCESSING']);
      expect(log.slice(log.indexOf('REMOVE_CARD')).some((x) => x.startsWith('APDU'))).toBe(false);
    });

    it(`${scheme}: online PIN above the CVM required limit`, async () => {
      const o = await pay(cards[scheme](), 1_500_00);
      expect([o.kind, o.cvm, o.ui.message]).toEqual(['ONLINE_REQUEST', 'ONLINE_PIN', 'PLEASE_ENTER_PIN']);
    });

    it(`${scheme}: card removed mid-transaction gives Try Again, and a new tap succeeds`, async () => {
      for (const ins of scheme === 'mastercard' ? [0xa4, 0xa8, 0xb2, 0xae] : [0xa4, 0xa8, 0xb2]) {
        const card = cards[scheme]({ tearAtIns: ins });
        const o = await pay(card, 10_00);
        expect([o.kind, o.ui.message, o.reason], `INS ${ins.toString(16)}`).toEqual(['TRY_AGAIN', 'PRESENT_CARD_AGAIN', 'CARD_REMOVED']);
      }
    });

    it(`${scheme}: blocked application ends cleanly`, async () => {
      const o = await pay(cards[scheme]({ blocked: true }), 10_00);
      expect([o.kind, o.reason]).toEqual(['END_APPLICATION', 'CARD_BLOCKED']);
    });

    it(`${scheme}: an AID the reader does not support ends with card not supported`, async () => {
      const o = await pay(cards[scheme]({ listWrongAid: true }), 10_00);
      expect([o.kind, o.ui.message, o.reason]).toEqual(['END_APPLICATION', 'CARD_NOT_SUPPORTED', 'EMPTY_CANDIDATE_LIST']);
    });

    it(`${scheme}: expired card is declined`, async () => {
      const o = await pay(cards[scheme]({ expiry: '241231' }), 10_00);
      expect(o.kind).toBe('DECLINED');
    });

    it(`${scheme}: over the contactless transaction limit is refused before the tap`, async () => {
      const log: string[] = [];
      const o = await pay(cards[scheme](), 5_000_00, { log });
      expect([o.kind, o.ui.message]).toEqual(['END_APPLICATION', 'AMOUNT_OVER_LIMIT']);
      expect(log).toEqual([]);
    });
  }

  it('UnionPay: CNY 1000.00 needs no CVM, CNY 1000.01 needs online PIN', async () => {
    expect((await pay(cards.unionpay(), 1_000_00)).cvm).toBe('NO_CVM');
    expect((await pay(cards.unionpay(), 1_000_01)).cvm).toBe('ONLINE_PIN');
  });

  it('Mastercard: the CVM Results (9F34) and TVR the issuer gets, at and one unit above the CVM limit', async () => {
    // The card's CVM list: online PIN if the reader supports it (42 03), else no CVM (1F 03).
    const below = await pay(cards.mastercard(), 1_000_00);
    expect([below.cvm, below.ui, below.onlineData!['9F34'], below.onlineData!['95']!.slice(4, 6)]).toEqual(['NO_CVM', { message: 'AUTHORISING', status: 'CARD_READ_SUCCESSFULLY' }, '1F0302', '00']);
    const above = await pay(cards.mastercard(), 1_000_01);
    expect([above.cvm, above.ui, above.onlineData!['9F34'], above.onlineData!['95']!.slice(4, 6)]).toEqual(['ONLINE_PIN', { message: 'PLEASE_ENTER_PIN', status: 'CARD_READ_SUCCESSFULLY' }, '420300', '04']);
    // A device without a PIN pad: the list runs out above the limit and the phone declines.
    const noPin = await pay(cards.mastercard(), 1_000_01, { cfg: { ...config, cvm: { ...config.cvm, onlinePin: false } } });
    expect([noPin.kind, noPin.ui.message, noPin.reason]).toEqual(['DECLINED', 'PIN_NOT_SUPPORTED', 'CVM_NOT_SUPPORTED']);
  });

  it('every CVN a card can be personalised with verifies at the issuer', async () => {
    const cases = [
      ['visa-10', () => new VisaCardSim({ cvn: 'visa-10' }), panOf.visa],
      ['mastercard-17', () => new MastercardCardSim({ cvn: 'mastercard-17' }), panOf.mastercard],
      ['mastercard-20', () => new MastercardCardSim({ cvn: 'mastercard-20' }), panOf.mastercard],
      ['mastercard-21', () => new MastercardCardSim({ cvn: 'mastercard-21' }), panOf.mastercard],
    ] as const;
    for (const [cvn, make, pan] of cases) {
      const o = await pay(make(), 10_00);
      const icc = new Map(Object.entries(o.onlineData!).map(([k, v]) => [k, fromHex(v)]));
      expect(verifyArqc({ cvn, issuerMasterKeyAc: TEST_ISSUER_MASTER_KEY_AC, pan, psn: '01', iccData: icc }, fromHex('3030')).valid, cvn).toBe(true);
    }
  });

  it('ATC advances with each transaction', async () => {
    const card = new VisaCardSim({ atc: 41 });
    const a = await pay(card, 100);
    const b = await pay(card, 100);
    expect([a.onlineData!['9F36'], b.onlineData!['9F36']]).toEqual(['002A', '002B']);
  });

  it('ODA failure: Visa goes online with DDA failed in the TVR (CTQ), Mastercard CDA failure declines', async () => {
    const v = await pay(new VisaCardSim({ odaFailure: true }), 10_00);
    expect([v.kind, v.oda]).toEqual(['ONLINE_REQUEST', 'FAILED']);
    expect(parseInt(v.tvr!.slice(0, 2), 16) & 0x08).toBe(0x08);
    const m = await pay(new MastercardCardSim({ odaFailure: true }), 10_00);
    expect([m.kind, m.oda, m.reason]).toEqual(['DECLINED', 'FAILED', 'ODA_FAILED_SDAD_INVALID']);
  });

  it('Kernel 7 refuses fDDA version 00', async () => {
    const o = await pay(new UnionPayCardSim({ fddaVersion: 0x00 }), 10_00);
    expect(o.oda).toBe('FAILED');
  });

  it('ODA fails without the CA key; CDCVM is honoured; PIN-less device declines above the limit', async () => {
    const noCapk = { ...config, capks: [] };
    expect((await pay(new VisaCardSim(), 10_00, { cfg: noCapk })).oda).toBe('FAILED');
    expect((await pay(new VisaCardSim({ cdcvm: true }), 1_500_00)).cvm).toBe('CDCVM');
    const noPin = { ...config, cvm: { onlinePin: false, cdcvm: false, signature: false } };
    for (const card of [new VisaCardSim(), new UnionPayCardSim(), new MastercardCardSim()]) {
      const o = await pay(card, 1_500_00, { cfg: noPin });
      expect([o.kind, o.ui.message], card.name).toEqual(['DECLINED', 'PIN_NOT_SUPPORTED']);
    }
  });

  it('a currency without reader limits is not accepted', async () => {
    const o = await pay(new VisaCardSim(), 100, { currency: '0036' });
    expect(o.reason).toBe('CONTACTLESS_NOT_ALLOWED');
  });
});

describe('malformed card answers end cleanly', () => {
  const ppse = '6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A00000000310108701019000';
  const cases: Array<[string, Array<{ command: string; response: string }>, string]> = [
    ['truncated PPSE FCI', [{ command: '00A40400', response: '6F0599019000' }], 'CARD_DATA_VALUE_MALFORMED'],
    ['no PPSE', [{ command: '00A40400', response: '6A82' }], 'PPSE_NOT_FOUND'],
    ['status word only', [{ command: '00A40400', response: ppse }, { command: '00A40400', response: '9000' }], 'CARD_DATA_VALUE_MALFORMED'],
    ['replay runs out', [{ command: '00A40400', response: ppse }], 'TRANSPORT_REPLAY_EXHAUSTED'],
    ['GPO format 2 without AIP', [{ command: '00A40400', response: ppse },
      { command: '00A40400', response: '6F1A8407A0000000031010A50F9F380C9F66049F02069F37049F1A029000' },
      { command: '80A80000', response: '77039F36019000' }], 'CARD_DATA_VALUE_MALFORMED'],
  ];
  for (const [name, exchanges, reason] of cases) {
    it(name, async () => {
      const o = await runEntryPoint(new ReplayTransport(exchanges), config, { amount: 100, currency: '0156', date: '251125' }, { random: fixedUn });
      expect([o.kind, o.reason]).toEqual(['END_APPLICATION', reason]);
    });
  }
});

describe('signed terminal configuration', () => {
  const key = testConfigSigningKey();
  it('refuses a configuration changed after signing', () => {
    const doc = signedTestTerminalConfig();
    doc.config.combinations[0]!.limits[0]!.cvmRequiredLimit = 99_999_999;
    expect(() => loadSignedConfig(doc, key.publicKey)).toThrow(ConfigError);
  });
  it('refuses a CA key whose checksum does not match', () => {
    const c = testTerminalConfig();
    c.capks[0]!.modulus = c.capks[0]!.modulus.replace(/^../, '00');
    expect(() => loadSignedConfig(signConfig(c, key.privateKey), key.publicKey)).toThrow(/checksum/);
  });
  it('refuses garbage signatures', () => {
    expect(() => loadSignedConfig({ config: testTerminalConfig(), signature: 'zz' }, key.publicKey)).toThrow(ConfigError);
  });
});

// Issue 17 §5: card data the kernel must refuse, from the recorded taps with one field changed.
// Before these checks a reserved CID went online, a TC answering an ARQC request was approved
// offline, and an indefinite length was read as zero.
describe('refused card data (recorded taps, one field changed)', () => {
  const capture = (name: string) => JSON.parse(readFileSync(join(CAPTURES, `${name}.json`), 'utf8')) as { transaction: { amount: number; currency: string; date: string }; exchanges: { command: string; response: string }[] };
  const run = async (name: string, edit: (header: string, response: string) => string) => {
    const c = capture(name);
    const exchanges = c.exchanges.map((x) => ({ command: x.command, response: edit(x.command.slice(0, 8), x.response) }));
    return runEntryPoint(new ReplayTransport(exchanges), config, c.transaction, { random: fixedUn });
  };
  it('the recorded taps go online unchanged', async () => {
    for (const n of ['visa', 'mastercard', 'unionpay']) expect((await run(n, (_, r) => r)).kind, n).toBe('ONLINE_REQUEST');
  });
  it('a reserved cryptogram type (CID 11xxxxxx) ends the transaction, never online', async () => {
    for (const n of ['visa', 'unionpay']) {
      const o = await run(n, (h, r) => (h === '80A80000' ? r.replace('9F270180', '9F2701C0') : r));
      expect([n, o.kind, o.reason]).toEqual([n, 'END_APPLICATION', 'CARD_DATA_CID_RESERVED']);
    }
    const o = await run('mastercard', (h, r) => (h === '80AE9000' ? r.replace('9F270180', '9F2701C0') : r));
    expect([o.kind, o.reason]).toEqual(['END_APPLICATION', 'CARD_DATA_CID_RESERVED']);
  });
  it('a TC in answer to an ARQC request is refused, not approved offline', async () => {
    const o = await run('mastercard', (h, r) => (h === '80AE9000' ? r.replace('9F270180', '9F270140') : r));
    expect([o.kind, o.reason]).toEqual(['END_APPLICATION', 'CRYPTOGRAM_TYPE_NOT_REQUESTED']);
  });
  it('K3: a TC whose fDDA fails is declined, not approved offline (even when the CTQ says go online)', async () => {
    const tc = (flip: boolean) => run('visa', (h, r) => (h === '80A80000' ? r.replace('9F270180', '9F270140').replace('9F4B6008', flip ? '9F4B6009' : '9F4B6008') : r));
    expect((await tc(false)).kind).toBe('APPROVED');
    const o = await tc(true);
    expect([o.kind, o.oda, o.reason?.startsWith('ODA_FAILED_')]).toEqual(['DECLINED', 'FAILED', true]);
  });
  it('a CID or ATC of the wrong length ends the transaction', async () => {
    const cid = await run('visa', (h, r) => (h === '80A80000' ? r.replace('9F270180', '9F27028000').replace(/^7781B5/, '7781B6') : r));
    expect([cid.kind, cid.reason]).toEqual(['END_APPLICATION', 'CARD_DATA_DATA_LENGTH']);
  });
  it("BER's indefinite length (0x80) is refused where EMV requires a definite one", async () => {
    expect(() => decodeTlv(fromHex('9F2780'))).toThrow(expect.objectContaining({ code: 'LENGTH_INDEFINITE' }));
    const o = await run('visa', (h, r) => (h === '00B2010C' ? r.replace(/^7014/, '7080') : r));
    expect([o.kind, o.reason]).toEqual(['END_APPLICATION', 'CARD_DATA_LENGTH_INDEFINITE']);
  });
  it('a certificate that does not fit its key, or a key exponent other than 3 or 65537, fails ODA with a reason, not an exception', async () => {
    // An ICC certificate not below the issuer key's modulus (RSA recovery used to throw RangeError).
    const notBelow = await run('unionpay', (h, r) => (h === '00B20214' ? r.replace(/9F468180[0-9A-F]{256}/, '9F468180' + 'FF'.repeat(128)) : r));
    const exponent = await run('unionpay', (h, r) => (h === '00B20114' ? r.replace('9F320103', '9F320105') : r));
    for (const o of [notBelow, exponent]) {
      expect(o.oda).toBe('FAILED');
      expect(o.tvr && (fromHex(o.tvr)[0]! & 0x08)).toBeTruthy(); // TVR byte 1: DDA failed
    }
  });
});
