// Issuer script secure messaging (EMV Book 2 §9): test/vectors/published/emv-sm.json through the
// project's ops, further published pyemv HSM cases, and properties checked against node:crypto
// directly (not through backend/issuer/ta-lib.ts).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readVectorFile, runVectors } from '../vectors/runner.ts';
import { ops } from '../vectors/ops/emv-sm.ts';
import { hex, unhex } from '../../backend/issuer/util.ts';
import { commandMac } from '../../backend/issuer/secure-messaging-mac.ts';
import { smEncipherEmv, smDecipherEmv } from '../../backend/issuer/sm-encipherment-emv.ts';
import { smEncipherMastercard } from '../../backend/issuer/sm-encipherment-mastercard.ts';
import { smEncipherVisa } from '../../backend/issuer/sm-encipherment-visa.ts';
import { visPinBlock } from '../../backend/issuer/pin-block-vis.ts';
import { iso9564Format2PinBlock, PinError } from '../../backend/issuer/ta-lib.ts';
import { iccMasterKeyOptionA } from '../../backend/issuer/icc-master-key.ts';
import { commonSessionKey } from '../../backend/issuer/session-key-common.ts';
import { visaSmSessionKey } from '../../backend/issuer/session-key-visa-sm.ts';
import { SmProfileError } from '../../backend/issuer/sm-keys.ts';
import { pinChangeCommand, pinUnblockCommand, scriptCommand, type ScriptCard } from '../../backend/issuer/issuer-script.ts';
import { publishedFile } from '../vectors/published.ts';

const vectors = publishedFile;

// Independent references on node:crypto.
const ede = (mode: 'ecb' | 'cbc', key: Uint8Array, data: Uint8Array, decrypt = false): Uint8Array => {
  const alg = `des-ede-${mode}`, iv = mode === 'cbc' ? Buffer.alloc(8) : null;
  const c = decrypt ? createDecipheriv(alg, key, iv) : createCipheriv(alg, key, iv);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
};
const pad2 = (d: Uint8Array) => { const o = new Uint8Array((d.length >> 3) * 8 + 8); o.set(d); o[d.length] = 0x80; return o; };
/** ISO 9797-1 algorithm 3: single-DES CBC (K1) over all blocks but the last, then TDES (K1 K2) on the last. */
const refRetailMac = (key: Uint8Array, data: Uint8Array): Uint8Array => {
  const p = pad2(data), k1 = key.subarray(0, 8);
  let h: Uint8Array = new Uint8Array(8);
  if (p.length > 8) h = ede('cbc', Uint8Array.from([...k1, ...k1]), p.subarray(0, p.length - 8)).subarray(-8);
  return ede('ecb', key, p.subarray(-8).map((b, i) => b ^ h[i]!));
};
const rnd = (n: number) => new Uint8Array(randomBytes(n));

const CARD = {
  pan: '1234567890123456', psn: '00',
  issuerMasterKeySmi: unhex('FEDCBA98765432100123456789ABCDEF'),
  issuerMasterKeySmc: unhex('89ABCDEF0123456776543210FEDCBA98'),
  issuerMasterKeyAc: unhex('0123456789ABCDEFFEDCBA9876543210'),
  atc: unhex('001C'),
} satisfies Omit<ScriptCard, 'cvn' | 'arqc'>;

describe('issuer script secure messaging', () => {
  it('passes every vector of emv-sm.json', async () => {
    const r = await runVectors(readVectorFile(vectors('emv-sm.json')), new Map(Object.entries(ops)));
    expect(r.failures).toEqual([]);
    expect(r.skipped).toBe(0);
    expect(r.passed).toBe(14);
  });

  // pyemv tests/test_sm_hsm.py @ 9ffd51f76c05 (HSM-verified), cases not in the published vectors.
  it('matches the published VIS current-PIN, CCD PIN change and docstring MAC cases', () => {
    const mkAc = iccMasterKeyOptionA(unhex('FEDCBA98765432100123456789ABCDEF'), '1234567890123456', '01');
    const mkSmc = iccMasterKeyOptionA(unhex('11111111111111112222222222222222'), '1234567890123456', '01');
    const mkSmi = iccMasterKeyOptionA(unhex('0123456789ABCDEFFEDCBA9876543210'), '1234567890123456', '01');
    const vSmc = visaSmSessionKey(mkSmc, unhex('FFFF')), vSmi = visaSmSessionKey(mkSmi, unhex('FFFF'));
    const cases = [
      { pin: '9999', cur: '8888', block: '8C1199FFC4B001F1', enc: 'C29371CC36BA70C1EE671384F0D3A7B9', mac: '6AB3AD15D8B0621A' },
      { pin: '999999999999', cur: '888888888888', block: '841111112A5E67F1', enc: '622066A74F1E974AEE671384F0D3A7B9', mac: '829AC5DE4B88074D' },
    ];
    for (const c of cases) {
      const block = visPinBlock(mkAc, c.pin, c.cur);
      expect(hex(block)).toBe(c.block);
      const enc = smEncipherVisa(vSmc, block);
      expect(hex(enc)).toBe(c.enc);
      expect(hex(commandMac(vSmi, unhex('8424000110' + c.enc)))).toBe(c.mac);
    }
    const r = unhex('ABCDEF1234567890');
    const enc = smEncipherEmv(commonSessionKey(mkSmc, r), iso9564Format2PinBlock('9999'));
    expect(hex(enc)).toBe('28367E05DE3381C29D30A6055A8DEB86');
    expect(hex(commandMac(commonSessionKey(mkSmi, r), unhex('8424000210' + hex(enc))))).toBe('69DA1EE208823022');
    // pyemv pyemv/sm.py @ 304af0c235ef, generate_command_mac docstring (header || ATC || ARQC).
    expect(hex(commandMac(unhex('0123456789ABCDEFFEDCBA9876543210'), unhex('8424000008' + 'FFFF' + '1234567890123456')))).toBe('E07B8DF1B4184282');
  });

  it('composes script commands whose MAC is the vectors\' command MAC', () => {
    // emv-sm.json sm-cvn10 (APPLICATION UNBLOCK, 84 18) and sm-cvn133 (PIN UNBLOCK, 84 24 P2 00).
    expect(hex(scriptCommand({ ...CARD, cvn: 'visa-10', arqc: unhex('29CCA15AE665FA2E') }, 0x84, 0x18, 0, 0))).toBe('8418000008DB56BA60087CEFD3');
    expect(hex(pinUnblockCommand({ ...CARD, cvn: 'interac-133', arqc: unhex('18932FECA2D84326') }))).toBe('8424000008B574ABB0A485A330');
    expect(hex(pinUnblockCommand({ ...CARD, cvn: 'mastercard-16', arqc: unhex('24CCF3DEE3158C70') }))).toBe('8424000008ED0AB162BAB1DE61');
  });

  it('enciphers as the references on node:crypto do', () => {
    for (let n = 0; n <= 20; n++) {
      const key = rnd(16), data = rnd(n);
      const emv = smEncipherEmv(key, data);
      expect(hex(emv)).toBe(hex(ede('cbc', key, pad2(data))));
      expect(hex(smDecipherEmv(key, emv))).toBe(hex(data));
      const framed = new Uint8Array(n + 1); framed[0] = n; framed.set(data, 1);
      expect(hex(smEncipherVisa(key, data))).toBe(hex(ede('ecb', key, pad2(framed))));
      if (n === 0) { expect(() => smEncipherMastercard(key, data)).toThrow(/no command data/); continue; }
      expect(hex(smEncipherMastercard(key, data))).toBe(hex(ede('cbc', key, n % 8 ? pad2(data) : data)));
    }
  });

  it('computes the command MAC as ISO 9797-1 algorithm 3 built from node:crypto', () => {
    for (const n of [0, 5, 7, 8, 13, 16, 29]) {
      const key = rnd(16), data = rnd(n);
      expect(hex(commandMac(key, data))).toBe(hex(refRetailMac(key, data)));
      expect(hex(commandMac(key, data, 4))).toBe(hex(refRetailMac(key, data).subarray(0, 4)));
    }
  });

  it('builds PIN blocks: VIS xor property, ISO format 2 layout, PIN limits', () => {
    const mk = rnd(16);
    for (const [pin, cur] of [['1234', '0000'], ['987654321098', '4321'], ['55555', '123456789012']] as const) {
      const plain = visPinBlock(mk, pin), withCur = visPinBlock(mk, pin, cur);
      expect(hex(plain.map((b, i) => b ^ withCur[i]!))).toBe(cur.padEnd(16, '0'));
      // A = 00000000 || MK_AC bytes 4..7, B = length || PIN || F fill; block = A xor B.
      const a = Uint8Array.from([0, 0, 0, 0, ...mk.subarray(4, 8)]);
      expect(hex(plain.map((b, i) => b ^ a[i]!))).toBe(pin.length.toString(16).padStart(2, '0').toUpperCase() + pin.padEnd(14, 'F'));
    }
    expect(hex(iso9564Format2PinBlock('123456789012'))).toBe('2C123456789012FF');
    for (const bad of ['123', '1234567890123', '12a4', '']) {
      expect(() => iso9564Format2PinBlock(bad)).toThrow(PinError);
      expect(() => visPinBlock(mk, bad)).toThrow(PinError);
      expect(() => visPinBlock(mk, '1234', bad)).toThrow(PinError);
    }
  });

  it('sends a PIN change the card can open and check, for every CVN with secure messaging', () => {
    const arqc = unhex('0123456789ABCDEF');
    for (const cvn of ['visa-10', 'visa-18', 'mastercard-16', 'mastercard-20', 'mastercard-21', 'interac-133']) {
      const card = { ...CARD, cvn, arqc };
      const cmd = pinChangeCommand(card, '24680');
      expect(hex(cmd.subarray(0, 4)), cvn).toBe('84240002');
      expect(cmd[4], cvn).toBe(cmd.length - 5);
      const data = cmd.subarray(5, cmd.length - 8), mac = cmd.subarray(-8);
      // The card's side: its own ICC keys, session keys, decipherment and MAC check.
      const visa = cvn.startsWith('visa');
      const mkSmc = iccMasterKeyOptionA(card.issuerMasterKeySmc, card.pan, card.psn);
      const mkSmi = iccMasterKeyOptionA(card.issuerMasterKeySmi, card.pan, card.psn);
      const skSmc = visa ? visaSmSessionKey(mkSmc, card.atc) : commonSessionKey(mkSmc, arqc);
      const skSmi = visa ? visaSmSessionKey(mkSmi, card.atc) : commonSessionKey(mkSmi, arqc);
      const macInput = cvn === 'interac-133' ? [...cmd.subarray(0, 5), ...data] : [...cmd.subarray(0, 5), ...card.atc, ...arqc, ...data];
      expect(hex(mac), cvn).toBe(hex(refRetailMac(skSmi, Uint8Array.from(macInput))));
      if (visa) {
        const plain = ede('ecb', skSmc, data, true);
        const mkAc = iccMasterKeyOptionA(card.issuerMasterKeyAc, card.pan, card.psn);
        expect(hex(plain), cvn).toBe('08' + hex(visPinBlock(mkAc, '24680')) + '80000000000000');
      } else {
        expect(hex(ede('cbc', skSmc, data, true)), cvn).toBe('2524680FFFFFFFFF');
      }
      // Tampering with any byte of header or data breaks the MAC.
      const tampered = cmd.slice(); tampered[6]! ^= 1;
      expect(hex(refRetailMac(skSmi, Uint8Array.from(cvn === 'interac-133' ? tampered.subarray(0, -8) : [...tampered.subarray(0, 5), ...card.atc, ...arqc, ...tampered.subarray(5, -8)]))), cvn).not.toBe(hex(mac));
    }
    // With the current PIN: P2 = 01 (VIS only).
    expect(hex(pinChangeCommand({ ...CARD, cvn: 'visa-18', arqc }, '1234', '0000').subarray(0, 5))).toBe('8424000118');
  });

  it('refuses what it cannot do', () => {
    const arqc = unhex('0123456789ABCDEF');
    expect(() => pinChangeCommand({ ...CARD, cvn: 'unionpay-01', arqc }, '1234')).toThrow(SmProfileError);
    expect(() => pinChangeCommand({ ...CARD, cvn: 'mastercard-16', arqc }, '1234', '0000')).toThrow(PinError);
    expect(() => pinChangeCommand({ ...CARD, cvn: 'visa-10', arqc, issuerMasterKeyAc: undefined }, '1234')).toThrow(/master key AC/);
    expect(() => pinChangeCommand({ ...CARD, cvn: 'mastercard-20', arqc, issuerMasterKeySmc: undefined }, '1234')).toThrow(/SMC/);
    expect(() => pinUnblockCommand({ ...CARD, cvn: 'visa-10', arqc: arqc.subarray(0, 7) })).toThrow(/ARQC/);
    expect(() => smEncipherVisa(rnd(8), rnd(8))).toThrow(/16 bytes/);
    const k = rnd(16);
    expect(() => smDecipherEmv(k, ede('cbc', k, new Uint8Array(16)))).toThrow(/method 2/);
  });
});
