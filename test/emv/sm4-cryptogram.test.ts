// UnionPay national-algorithm (SM) cards: SM4 key chain, application cryptogram, ARPC and
// issuer-script secure messaging (backend/issuer/*-sm4.ts). The worked example is the one public
// source that shows every intermediate value: the blog post "金融ARQC、ARPC验证生成规则"
// (iteye.com/blog/2309584, also codetd.com/article/219619) — informative, not the PBOC text;
// the script MAC one is "JAVA Card Application Development (ix) APDU the Mac checksum in the
// script command" (topic.alibabacloud.com/a/java-card-application-development-ix-apdu-the-mac-
// checksum-in-the-script-command_1_27_30504549.html), informative too.
// Independent references run on node:crypto's SM4 directly, not through the HSM module's
// (ta/lib's) SM4 and MAC that backend/issuer/ta-lib.ts calls.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hex, unhex } from '../../backend/issuer/util.ts';
import { acInput, cvnProfile, profileForIad, CvnError } from '../../backend/issuer/cvn.ts';
import { acSessionKey, deriveIccMasterKey } from '../../backend/issuer/ac-keys.ts';
import { applicationCryptogram } from '../../backend/issuer/application-cryptogram.ts';
import { verifyArqc } from '../../backend/issuer/issuer-host.ts';
import { sm4Ecb, sm4Mac, iso9564Format2PinBlock } from '../../backend/issuer/ta-lib.ts';
import { smDecipherPbocSm4 } from '../../backend/issuer/sm-encipherment-pboc-sm4.ts';
import { smSessionKey, SmProfileError } from '../../backend/issuer/sm-keys.ts';
import { pinChangeCommand, scriptCommand, scriptMacInput, type ScriptCard } from '../../backend/issuer/issuer-script.ts';

const refSm4 = (mode: 'ecb' | 'cbc', key: Uint8Array, data: Uint8Array, decrypt = false): Uint8Array => {
  const iv = mode === 'cbc' ? Buffer.alloc(16) : null;
  const c = decrypt ? createDecipheriv(`sm4-${mode}`, key, iv) : createCipheriv(`sm4-${mode}`, key, iv);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
};

// The blog's example (all values as it prints them).
const EX = {
  mdkAc: 'F23BF4AE92B554C116139D4F67322667', pan: '6214988660100000304', psn: '00', atc: '0001',
  acData: '00000000000000000000000001560000000800015616051800412AB4B67D00000103A00000',
  udk: '016F6E76BD8E6FB4A17C28C4B05E03A8', skAc: '9ECF9220F32AE56187D3C2444967FC0E', arqc: '179E0D01A7D1791D',
  /** ARPC input block for ARC '00' (ASCII 30 30): (ARQC xor 3030000000000000) || 00..00 */
  arpcBlock: '27AE0D01A7D1791D0000000000000000',
};
const SM4 = cvnProfile('unionpay-01-sm4');

/** The example's AC data cut into the CDOL1 elements of CVN 01 (amounts, country, TVR, currency,
 *  date, type, UN, AIP, ATC) and the CVR, so the issuer host can rebuild it from ICC data. */
function exampleIccData(iadAlg: number): Map<string, Uint8Array> {
  const d = unhex(EX.acData);
  const lens: [string, number][] = [['9F02', 6], ['9F03', 6], ['9F1A', 2], ['95', 5], ['5F2A', 2], ['9A', 3], ['9C', 1], ['9F37', 4], ['82', 2], ['9F36', 2]];
  const m = new Map<string, Uint8Array>();
  let o = 0;
  for (const [t, n] of lens) { m.set(t, d.slice(o, o + n)); o += n; }
  m.set('9F10', Uint8Array.of(0x07, 0x01, 0x01, ...d.subarray(o, o + 4), iadAlg));
  m.set('9F26', unhex(EX.arqc));
  return m;
}

describe('SM4 cryptograms of UnionPay national-algorithm cards', () => {
  it('SM4 is GB/T 32907-2016 (example 1)', () => {
    const k = unhex('0123456789ABCDEFFEDCBA9876543210');
    expect(hex(sm4Ecb(k, k))).toBe('681EDF34D206965E86B3E94F536E4246');
  });

  it('derives the card key, the session key and the ARQC of the worked example', () => {
    const udk = deriveIccMasterKey(SM4, unhex(EX.mdkAc), EX.pan, EX.psn);
    expect(hex(udk)).toBe(EX.udk);
    const sk = acSessionKey(SM4, udk, unhex(EX.atc));
    expect(hex(sk)).toBe(EX.skAc);
    expect(hex(applicationCryptogram(sk, unhex(EX.acData), SM4.padding, 'sm4'))).toBe(EX.arqc);
  });

  it('the issuer host verifies it from ICC data, chooses SM4 by the IAD, answers the ARPC', () => {
    const icc = exampleIccData(0x04);
    expect(hex(acInput(SM4, (t) => icc.get(t)))).toBe(EX.acData);
    // The issuer holds a TDES and an SM4 master key; the IAD says which this cryptogram needs.
    const tdesImk = unhex('0123456789ABCDEFFEDCBA9876543210');
    const req = { cvn: 'unionpay-01', issuerMasterKeyAc: tdesImk, issuerMasterKeyAcSm4: unhex(EX.mdkAc), pan: EX.pan, psn: EX.psn };
    const r = verifyArqc({ ...req, iccData: icc }, unhex('3030'));
    expect(r.valid).toBe(true);
    // ARPC = leftmost 8 bytes of SM4(SK_AC)[the example's input block], computed here independently.
    expect(hex(r.arpc!)).toBe(hex(refSm4('ecb', unhex(EX.skAc), unhex(EX.arpcBlock)).subarray(0, 8)));
    // The same data read as a TDES cryptogram (indicator 01) does not verify; a wrong SM4 key neither.
    expect(verifyArqc({ ...req, issuerMasterKeyAc: unhex(EX.mdkAc), iccData: exampleIccData(0x01) }, unhex('3030')).valid).toBe(false);
    const wrong = unhex(EX.mdkAc); wrong[15]! ^= 0x01;
    expect(verifyArqc({ ...req, issuerMasterKeyAcSm4: wrong, iccData: icc }, unhex('3030')).valid).toBe(false);
    // Without an SM4 key the issuer cannot check an SM4 cryptogram: a typed refusal, not a guess.
    expect(() => verifyArqc({ cvn: 'unionpay-01', issuerMasterKeyAc: tdesImk, pan: EX.pan, psn: EX.psn, iccData: icc }, unhex('3030'))).toThrow(/no SM4 issuer master key/);
  });

  it('the IAD algorithm indicator picks the profile; an unknown one is refused', () => {
    const up = cvnProfile('unionpay-01');
    expect(profileForIad(up, Uint8Array.of(7, 1, 1, 3, 0xa0, 0, 0, 0x04)).id).toBe('unionpay-01-sm4');
    expect(profileForIad(up, Uint8Array.of(7, 1, 1, 3, 0xa0, 0, 0, 0x01)).id).toBe('unionpay-01');
    expect(() => profileForIad(up, Uint8Array.of(7, 1, 1, 3, 0xa0, 0, 0, 0x02))).toThrow(CvnError);
    // Other schemes' IADs are not read this way.
    expect(profileForIad(cvnProfile('visa-18'), Uint8Array.of(6, 1, 0x12, 3, 0xa0, 0, 0, 0x04)).id).toBe('visa-18');
  });

  it('the PBOC-SM4-MAC is CBC-MAC over 80-padded 16-byte blocks, leftmost bytes', () => {
    const k = unhex(EX.skAc);
    for (const n of [0, 1, 15, 16, 17, 37]) {
      const d = Uint8Array.from({ length: n }, (_, i) => i * 7);
      const p = new Uint8Array(Math.floor(n / 16) * 16 + 16); p.set(d); p[n] = 0x80;
      const ref = refSm4('cbc', k, p).slice(-16);
      expect(hex(sm4Mac(k, d, 8))).toBe(hex(ref.subarray(0, 8)));
      expect(hex(sm4Mac(k, d, 4))).toBe(hex(ref.subarray(0, 4)));
    }
    expect(() => sm4Mac(k, new Uint8Array(1), 3)).toThrow(/MAC length/);
    expect(() => sm4Mac(new Uint8Array(8), new Uint8Array(1))).toThrow(/16 bytes/);
  });

  describe('issuer script secure messaging with SM4', () => {
    const imkSmi = unhex('00112233445566778899AABBCCDDEEFF'), imkSmc = unhex('FFEEDDCCBBAA99887766554433221100');
    const card: ScriptCard = { cvn: 'unionpay-01-sm4', pan: EX.pan, psn: EX.psn, issuerMasterKeySmi: imkSmi, issuerMasterKeySmc: imkSmc, atc: unhex(EX.atc), arqc: unhex(EX.arqc) };
    const skOf = (imk: Uint8Array) => refSm4('ecb', refSm4('ecb', imk, unhex('88660100000304007799FEFFFFFCFBFF')), unhex('0000000000000001000000000000FFFE'));

    it('reproduces the worked script MAC example: card key → session key from the ATC → MAC', () => {
      // Card (scatter) key 8B4F…, ATC 0003, ARQC 35304180BE2CBD3F; PUT DATA 9F79 with Lc 0A
      // (6 data + 4 MAC bytes): session key B6FA…, MAC 95FD68F5.
      const sk = smSessionKey(SM4, unhex('8B4F854F0831FBF2635A212E4DDDB92A'), unhex('0003'), unhex('35304180BE2CBD3F'));
      expect(hex(sk)).toBe('B6FA9E085B5773C1E3AA2E4738831F73');
      const input = scriptMacInput(SM4, unhex('04DA9F790A'), unhex('0003'), unhex('35304180BE2CBD3F'), unhex('000000100099'));
      expect(hex(input)).toBe('04DA9F790A000335304180BE2CBD3F000000100099');
      expect(hex(sm4Mac(sk, input, 4))).toBe('95FD68F5');
    });

    it('session keys come from the ATC, as the AC key', () => {
      const mk = deriveIccMasterKey(SM4, imkSmi, EX.pan, EX.psn);
      expect(hex(smSessionKey(SM4, mk, unhex(EX.atc), unhex(EX.arqc)))).toBe(hex(skOf(imkSmi)));
    });

    it('a script command carries the SM4 MAC over header || ATC || ARQC || data', () => {
      const data = unhex('DF7901');
      const cmd = scriptCommand(card, 0x04, 0xda, 0x9f, 0x79, data, 4);
      const header = unhex('04DA9F7907');
      expect(hex(cmd.subarray(0, 8))).toBe('04DA9F7907DF7901');
      const macInput = Uint8Array.of(...header, ...unhex(EX.atc), ...unhex(EX.arqc), ...data);
      const p = new Uint8Array(32); p.set(macInput); p[macInput.length] = 0x80;
      expect(hex(cmd.subarray(8))).toBe(hex(refSm4('cbc', skOf(imkSmi), p).slice(-16, -12)));
    });

    it('PIN change enciphers an ISO 9564 format 2 block under SK_SMC with SM4', () => {
      const cmd = pinChangeCommand(card, '4321', undefined, 8);
      expect(hex(cmd.subarray(0, 5))).toBe('8424000218'); // 16 enciphered + 8 MAC
      const clear = smDecipherPbocSm4(skOf(imkSmc), cmd.subarray(5, 21));
      expect(hex(clear)).toBe(hex(iso9564Format2PinBlock('4321')));
    });

    it('the TDES profile of CVN 01 still defines no secure messaging', () => {
      expect(() => scriptCommand({ ...card, cvn: 'unionpay-01' }, 0x84, 0x24, 0, 0)).toThrow(SmProfileError);
    });
  });
});
