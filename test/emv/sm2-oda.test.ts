// SM2 offline data authentication of UnionPay "SM" cards (PBOC 3.0 national algorithms,
// JR/T 0025.17): CA key chosen by its algorithm indicator, SM2 certificate chain, SM2 fDDA.
import { describe, expect, it } from 'vitest';
import { UnionPayCardSim, UnionPaySmCardSim, TEST_ISSUER_MASTER_KEY_AC, TEST_ISSUER_MASTER_KEY_AC_SM4, testSm2Pki, type CardOptions } from '../../sim/cards/index.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { capkChecksumHex, loadSignedConfig } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey, testTerminalConfig } from '../../sim/test-terminal-config.ts';
import { verifyArqc } from '../../backend/issuer/issuer-host.ts';
import { fromHex, toHex, concat } from '../../common/hex.ts';
import { recoverSm2IccKey, recoverSm2IssuerKey, openSm2Sdad } from '../../ree/emv/oda/sm2-certificates.ts';
import { sm2IccCertificate, sm2IssuerCertificate, sm2SignDynamicData } from '../../sim/cards/certify-sm2.ts';
import { OdaError } from '../../ree/emv/oda/certificates.ts';
import type { CapkConfig, TerminalConfig } from '../../common/emv/config.ts';
import type { SimulatedCard } from '../../sim/cards/index.ts';

/** The test terminal configuration carries the UnionPay SM2 test CA key; a reader without it
 *  is the same configuration with that key removed, signed again. */
const sm2Config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
function configWithoutSm2(): TerminalConfig {
  const c = testTerminalConfig();
  c.capks = c.capks.filter((k) => k.algorithm !== '04');
  return loadSignedConfig(signedTestTerminalConfig(c), testConfigSigningKey().publicKey);
}
const rsaOnlyConfig = configWithoutSm2();
const PAN = '6228480000000000017';

function pay(card: SimulatedCard, amount: number, cfg = sm2Config) {
  const t = new InProcessTransport(card);
  t.tap();
  return runEntryPoint(t, cfg, { amount, currency: '0156', date: '251125', time: '120000' }, { random: (n) => new Uint8Array(n).fill(0x5a) });
}
const sm = (o: CardOptions = {}) => new UnionPaySmCardSim(o);

describe('UnionPay SM card: SM2 ODA', () => {
  it('passes fDDA with the SM2 chain, and the ARQC verifies at the issuer', async () => {
    const o = await pay(sm(), 25_00);
    expect([o.kind, o.oda, o.cvm, o.tvr]).toEqual(['ONLINE_REQUEST', 'PASSED', 'NO_CVM', '0000000000']);
    const icc = new Map(Object.entries(o.onlineData!).map(([k, v]) => [k, fromHex(v)]));
    expect(verifyArqc({ cvn: 'unionpay-01', issuerMasterKeyAc: TEST_ISSUER_MASTER_KEY_AC, issuerMasterKeyAcSm4: TEST_ISSUER_MASTER_KEY_AC_SM4, pan: PAN, psn: '01', iccData: icc }, fromHex('3030')).valid).toBe(true);
  });

  it('the RSA UnionPay card still passes under the same configuration (algorithm by CA key)', async () => {
    expect((await pay(new UnionPayCardSim(), 25_00)).oda).toBe('PASSED');
  });

  for (const [what, opts, reason] of [
    ['tampered issuer certificate', { tamperCertificate: '90' }, 'ODA_FAILED_ISSUER_CERT_INVALID'],
    ['tampered ICC certificate', { tamperCertificate: '9F46' }, 'ODA_FAILED_ICC_CERT_INVALID'],
    ['tampered fDDA signature', { odaFailure: true }, 'ODA_FAILED_SDAD_INVALID'],
  ] as const) {
    it(`${what}: ODA fails (online with DDA failed per CTQ)`, async () => {
      const o = await pay(sm(opts), 25_00);
      expect([o.kind, o.oda]).toEqual(['ONLINE_REQUEST', 'FAILED']);
      expect(parseInt(o.tvr!.slice(0, 2), 16) & 0x08).toBe(0x08);
    });
    it(`${what}: declines when the card does not ask to go online on ODA failure`, async () => {
      const card = sm(opts);
      // CTQ without "go online if ODA fails": patch the card's CTQ choice.
      const gpo = (card as unknown as { gpo: () => Uint8Array }).gpo.bind(card);
      (card as unknown as { gpo: () => Uint8Array }).gpo = () => {
        const r = gpo();
        const i = Buffer.from(r).indexOf(Buffer.from('9F6C02', 'hex'));
        r[i + 3] = 0x00;
        return r;
      };
      const o = await pay(card, 25_00);
      expect([o.kind, o.oda, o.reason]).toEqual(['DECLINED', 'FAILED', reason]);
    });
  }

  it('without the SM2 CA key the reader says it has no SM support and the card signs nothing', async () => {
    const o = await pay(sm(), 25_00, rsaOnlyConfig);
    expect([o.kind, o.oda]).toEqual(['ONLINE_REQUEST', undefined]);
    expect(parseInt(o.tvr!.slice(0, 2), 16) & 0x80).toBe(0x80); // ODA not performed
  });

  it('an RSA card whose 8F names the SM2 CA key fails ODA, not crashes', async () => {
    const c = structuredClone(sm2Config);
    c.capks = c.capks.map((k) => (k.algorithm === '04' ? { ...k, index: 'F1' } : k.rid === 'A000000333' ? { ...k, index: 'F0' } : k));
    const o = await pay(new UnionPayCardSim(), 25_00, c);
    expect([o.kind, o.oda]).toEqual(['ONLINE_REQUEST', 'FAILED']);
  });
});

describe('SM2 certificate format (JR/T 0025.17 layout)', () => {
  const pki = testSm2Pki();
  const date = fromHex('251125');
  const ca = { algorithm: 'SM2' as const, point: pki.ca.pub };
  const issuerCert = sm2IssuerCertificate(pki.ca, pki.issuer.pub, '622848', '3112');
  const staticData = fromHex('5F24033012315F280201569F0702FF002000');
  const iccCert = sm2IccCertificate(pki.issuer, pki.icc.pub, PAN, '3112', staticData);

  it('issuer 141 bytes, ICC 147 bytes; keys recovered', () => {
    expect([issuerCert.length, iccCert.length]).toEqual([141, 147]);
    const issuer = recoverSm2IssuerKey(ca, issuerCert, PAN, date);
    expect(issuer.point).toEqual(pki.issuer.pub);
    expect(recoverSm2IccKey(issuer, iccCert, staticData, PAN, date).point).toEqual(pki.icc.pub);
  });

  it('refuses changed static data, a wrong PAN, expiry, a wrong format byte and a signature by another key', () => {
    const issuer = recoverSm2IssuerKey(ca, issuerCert, PAN, date);
    const code = (f: () => unknown) => { try { f(); return 'ok'; } catch (e) { return (e as OdaError).code; } };
    expect(code(() => recoverSm2IccKey(issuer, iccCert, concat(staticData, Uint8Array.of(0)), PAN, date))).toBe('ICC_CERT_INVALID');
    expect(code(() => recoverSm2IccKey(issuer, iccCert, staticData, '6228480000000000025', date))).toBe('ICC_PAN_MISMATCH');
    expect(code(() => recoverSm2IssuerKey(ca, issuerCert, '4761739001010119', date))).toBe('ISSUER_ID_MISMATCH');
    expect(code(() => recoverSm2IssuerKey(ca, issuerCert, PAN, fromHex('320101')))).toBe('ISSUER_CERT_EXPIRED');
    const wrongFormat = issuerCert.slice(); wrongFormat[0] = 0x02;
    expect(code(() => recoverSm2IssuerKey(ca, wrongFormat, PAN, date))).toBe('ISSUER_CERT_INVALID');
    const byIssuer = sm2IssuerCertificate(pki.issuer, pki.issuer.pub, '622848', '3112');
    expect(code(() => recoverSm2IssuerKey(ca, byIssuer, PAN, date))).toBe('ISSUER_CERT_INVALID');
  });

  it('SDAD: format 15, dynamic data returned, terminal data bound', () => {
    const icc = { algorithm: 'SM2' as const, point: pki.icc.pub };
    const sdad = sm2SignDynamicData(pki.icc, fromHex('081122334455667788'), fromHex('5A5A5A5A'));
    expect(sdad[0]).toBe(0x15);
    expect(toHex(openSm2Sdad(icc, sdad, fromHex('5A5A5A5A')))).toBe('081122334455667788');
    expect(() => openSm2Sdad(icc, sdad, fromHex('5A5A5A5B'))).toThrow(OdaError);
  });
});
