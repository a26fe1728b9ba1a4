import { describe, expect, it } from 'vitest';
import { readVectorFile, runVectors } from '../vectors/runner.ts';
import { hex, unhex } from '../../backend/issuer/util.ts';
import { adjustParity } from '../../backend/issuer/des.ts';
import { iso9564Format2PinBlock, kcv, pad, pinOfFormat2Block, PinError, retailMac, unpadMethod2 } from '../../backend/issuer/ta-lib.ts';
import { acInput, cvnProfile, CVN_PROFILES, CvnError } from '../../backend/issuer/cvn.ts';
import { acSessionKey, deriveIccMasterKey } from '../../backend/issuer/ac-keys.ts';
import { applicationCryptogram } from '../../backend/issuer/application-cryptogram.ts';
import { verifyArqc } from '../../backend/issuer/issuer-host.ts';
import { arpcMethod1 } from '../../backend/issuer/arpc-method-1.ts';
import { iccMasterKeyOptionA } from '../../backend/issuer/icc-master-key.ts';
import { emv2000TreeSessionKey } from '../../backend/issuer/session-key-emv2000-tree.ts';
import { publishedFile } from '../vectors/published.ts';

const vectors = publishedFile;

describe('issuer cryptography', () => {
  it('passes every vector of emv-arqc.json', async () => {
    const r = await runVectors(readVectorFile(vectors('emv-arqc.json')));
    expect(r.failures).toEqual([]);
    expect(r.skipped).toBe(0);
    expect(r.passed).toBeGreaterThanOrEqual(36);
  });

  it('pads per ISO 9797-1', () => {
    expect(hex(pad(unhex('0102'), 'iso9797_1_method_1'))).toBe('0102000000000000');
    expect(hex(pad(unhex('0102030405060708'), 'iso9797_1_method_1'))).toBe('0102030405060708');
    expect(hex(pad(unhex('0102030405060708'), 'iso9797_1_method_2'))).toBe('01020304050607088000000000000000');
    expect(hex(pad(unhex('01'), 'iso9797_1_method_3'))).toBe('00000000000000080100000000000000');
  });

  it('removes method-2 padding (ta/lib) from every length, and refuses data not padded that way', () => {
    for (let n = 0; n <= 24; n++) {
      const d = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      expect(hex(unpadMethod2(pad(d, 'iso9797_1_method_2')))).toBe(hex(d));
    }
    for (const bad of ['0102030405060708', '0102030405060780' + '0000000000000000', '8000000000000000FF00000000000000', '']) {
      expect(() => unpadMethod2(unhex(bad)), bad).toThrow(/method 2/);
    }
  });

  it('builds and reads ISO 9564 format 2 PIN blocks (ta/lib) with typed errors', () => {
    expect(hex(iso9564Format2PinBlock('1234'))).toBe('241234FFFFFFFFFF');
    expect(hex(iso9564Format2PinBlock('123456789012'))).toBe('2C123456789012FF');
    expect(pinOfFormat2Block(unhex('2C123456789012FF'))).toBe('123456789012');
    expect(() => iso9564Format2PinBlock('123')).toThrow(PinError);
    expect(() => iso9564Format2PinBlock('12a4')).toThrow(PinError);
    expect(() => pinOfFormat2Block(unhex('241234FFFFFFFFF0'))).toThrow(PinError);
    expect(() => pinOfFormat2Block(unhex('141234FFFFFFFFFF'))).toThrow(/control field/);
  });

  it('sets odd parity and computes KCVs independent of parity', () => {
    expect(hex(adjustParity(unhex('0000FEFF')))).toBe('0101FEFE');
    const k = unhex('0123456789ABCDEFFEDCBA9876543210');
    expect(hex(kcv(k))).toBe('08D7B4');
    expect(hex(kcv(adjustParity(k.map((b) => b ^ 1))))).toBe('08D7B4');
  });

  it('validates inputs at the door', () => {
    expect(() => retailMac(new Uint8Array(8), new Uint8Array(8), 'iso9797_1_method_2')).toThrow(/16 bytes/);
    expect(() => iccMasterKeyOptionA(new Uint8Array(16), '12AB', '00')).toThrow(/PAN/);
    expect(() => arpcMethod1(new Uint8Array(16), new Uint8Array(7), new Uint8Array(2))).toThrow(/ARQC/);
    expect(() => emv2000TreeSessionKey(new Uint8Array(16), new Uint8Array(2), 4, 2)).toThrow(/cannot hold/);
    expect(() => cvnProfile('visa-99')).toThrow(CvnError);
  });

  it('verifies an ARQC made by the same CVN chain and refuses a tampered one, for every CVN', () => {
    const imk = unhex('0123456789ABCDEFFEDCBA9876543210');
    const pan = '6212345678901234', psn = '01';
    for (const p of Object.values(CVN_PROFILES)) {
      const iad = unhex('0110A0000322000000000000000000000000FF'.slice(0, 38));
      iad[p.cvnInIad] = p.cvnByte; // the card names its cryptogram version where the scheme puts it
      const icc = new Map<string, Uint8Array>([
        ['9F02', unhex('000000001500')], ['9F03', unhex('000000000000')], ['9F1A', unhex('0156')],
        ['95', unhex('0000000000')], ['5F2A', unhex('0156')], ['9A', unhex('250101')], ['9C', unhex('00')],
        ['9F37', unhex('11223344')], ['82', unhex('3900')], ['9F36', unhex('0042')], ['9F10', iad],
      ]);
      const mk = deriveIccMasterKey(p, imk, pan, psn);
      const sk = acSessionKey(p, mk, icc.get('9F36')!, icc.get('9F37'));
      icc.set('9F26', applicationCryptogram(sk, acInput(p, (t) => icc.get(t)), p.padding, p.cipher));
      const ok = verifyArqc({ cvn: p.id, issuerMasterKeyAc: imk, issuerMasterKeyAcSm4: imk, pan, psn, iccData: icc }, unhex('3030'));
      expect(ok.valid, p.id).toBe(true);
      expect(ok.arpc?.length, p.id).toBe(p.arpc.method === 2 ? 4 : 8);
      // Any change to the data the cryptogram covers must make it fail.
      icc.set('9F02', unhex('000000001501'));
      expect(verifyArqc({ cvn: p.id, issuerMasterKeyAc: imk, issuerMasterKeyAcSm4: imk, pan, psn, iccData: icc }, unhex('3030')).valid, p.id).toBe(false);
    }
  });

  it('refuses a cryptogram whose IAD names another CVN than the account\'s, even where the AC is the same (Visa 18 and 22)', () => {
    const imk = unhex('0123456789ABCDEFFEDCBA9876543210');
    const pan = '4761739001010143', psn = '01';
    const icc = new Map<string, Uint8Array>([
      ['9F02', unhex('000000002500')], ['9F03', unhex('000000000000')], ['9F1A', unhex('0840')], ['95', unhex('0000000000')],
      ['5F2A', unhex('0840')], ['9A', unhex('251125')], ['9C', unhex('00')], ['9F37', unhex('11223344')], ['82', unhex('2000')],
      ['9F36', unhex('0042')], ['9F10', unhex('06011203A0B800')],
    ]);
    const p18 = cvnProfile('visa-18');
    const sk = acSessionKey(p18, deriveIccMasterKey(p18, imk, pan, psn), icc.get('9F36')!);
    icc.set('9F26', applicationCryptogram(sk, acInput(p18, (t) => icc.get(t)), p18.padding));
    const check = (cvn: string) => verifyArqc({ cvn, issuerMasterKeyAc: imk, pan, psn, iccData: icc }, unhex('3030'), unhex('00800000')).valid;
    expect(check('visa-18')).toBe(true);
    expect(check('visa-22')).toBe(false);
  });
});
