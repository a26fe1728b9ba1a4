import { describe, expect, it } from 'vitest';
import { readVectorFile, runVectors } from '../vectors/runner.ts';
import { hex, unhex } from '../../backend/issuer/util.ts';
import { adjustParity } from '../../backend/issuer/des.ts';
import { kcv, pad, retailMac } from '../../backend/issuer/ta-lib.ts';
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
      const icc = new Map<string, Uint8Array>([
        ['9F02', unhex('000000001500')], ['9F03', unhex('000000000000')], ['9F1A', unhex('0156')],
        ['95', unhex('0000000000')], ['5F2A', unhex('0156')], ['9A', unhex('250101')], ['9C', unhex('00')],
        ['9F37', unhex('11223344')], ['82', unhex('3900')], ['9F36', unhex('0042')], ['9F10', iad],
      ]);
      const mk = deriveIccMasterKey(p, imk, pan, psn);
      const sk = acSessionKey(p, mk, icc.get('9F36')!, icc.get('9F37'));
      icc.set('9F26', applicationCryptogram(sk, acInput(p, (t) => icc.get(t)), p.padding));
      const ok = verifyArqc({ cvn: p.id, issuerMasterKeyAc: imk, pan, psn, iccData: icc }, unhex('3030'));
      expect(ok.valid, p.id).toBe(true);
      expect(ok.arpc?.length, p.id).toBe(p.arpc.method === 2 ? 4 : 8);
      // Any change to the data the cryptogram covers must make it fail.
      icc.set('9F02', unhex('000000001501'));
      expect(verifyArqc({ cvn: p.id, issuerMasterKeyAc: imk, pan, psn, iccData: icc }, unhex('3030')).valid, p.id).toBe(false);
    }
  });
});
