// A UnionPay national-algorithm (SM) card through the contactless kernel: the simulated
// dual-algorithm card gives an SM4 cryptogram (IAD algorithm indicator 04) to a reader that
// offers the SM algorithms and a TDES one to any other; the kernel reports which and refuses an
// SM4 cryptogram it did not offer; the issuer host verifies both with the card's one CVN.
import { describe, expect, it } from 'vitest';
import { UnionPaySmCardSim, TEST_ISSUER_MASTER_KEY_AC, TEST_ISSUER_MASTER_KEY_AC_SM4, type CardOptions } from '../../sim/cards/index.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey, testTerminalConfig } from '../../sim/test-terminal-config.ts';
import { verifyArqc } from '../../backend/issuer/issuer-host.ts';
import { fromHex } from '../../common/hex.ts';
import type { SimulatedCard } from '../../sim/cards/index.ts';

const smReader = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
const c = testTerminalConfig();
c.capks = c.capks.filter((k) => k.algorithm !== '04');
const rsaReader = loadSignedConfig(signedTestTerminalConfig(c), testConfigSigningKey().publicKey);
const PAN = '6228480000000000017';

function pay(card: SimulatedCard, cfg = smReader) {
  const t = new InProcessTransport(card);
  t.tap();
  return runEntryPoint(t, cfg, { amount: 25_00, currency: '0156', date: '251125', time: '120000' }, { random: (n) => new Uint8Array(n).fill(0x5a) });
}
const iccOf = (o: { onlineData?: Record<string, string> }) => new Map(Object.entries(o.onlineData!).map(([k, v]) => [k, fromHex(v)]));
/** The issuer holds a TDES and an SM4 issuer master key (AC); the card's IAD says which applies. */
const verify = (icc: Map<string, Uint8Array>, imkSm4 = TEST_ISSUER_MASTER_KEY_AC_SM4) =>
  verifyArqc({ cvn: 'unionpay-01', issuerMasterKeyAc: TEST_ISSUER_MASTER_KEY_AC, issuerMasterKeyAcSm4: imkSm4, pan: PAN, psn: '01', iccData: icc }, fromHex('3030'));
const sm = (o: CardOptions = {}) => new UnionPaySmCardSim(o);

describe('UnionPay SM card: SM4 application cryptogram', () => {
  it('to an SM reader: SM2 fDDA, SM4 ARQC (IAD indicator 04) that the issuer verifies, with an ARPC', async () => {
    const o = await pay(sm());
    expect([o.kind, o.oda, o.card?.cryptogramAlgorithm]).toEqual(['ONLINE_REQUEST', 'PASSED', 'SM4']);
    const icc = iccOf(o);
    expect(icc.get('9F10')![7]).toBe(0x04);
    const r = verify(icc);
    expect(r.valid).toBe(true);
    expect(r.arpc).toHaveLength(8);
    // Read as TDES (indicator 01) the same cryptogram does not verify: the indicator matters.
    const asTdes = new Map(icc); asTdes.set('9F10', Uint8Array.of(...icc.get('9F10')!.subarray(0, 7), 0x01));
    expect(verify(asTdes).valid).toBe(false);
  });

  it('to a reader without SM support: no ODA and a TDES cryptogram, which verifies with the TDES key', async () => {
    const o = await pay(sm(), rsaReader);
    expect([o.kind, o.oda, o.card?.cryptogramAlgorithm]).toEqual(['ONLINE_REQUEST', undefined, 'TDES']);
    expect(iccOf(o).get('9F10')![7]).toBe(0x01);
    // The SM4 key plays no part: a wrong one changes nothing.
    expect(verify(iccOf(o), TEST_ISSUER_MASTER_KEY_AC_SM4.map((b) => b ^ 1)).valid).toBe(true);
  });

  it('a card personalised under another SM4 issuer master key: its SM4 ARQC does not verify', async () => {
    const other = TEST_ISSUER_MASTER_KEY_AC_SM4.map((b) => b ^ 0x5a);
    const o = await pay(sm({ issuerMasterKeyAcSm4: other }));
    expect(o.card?.cryptogramAlgorithm).toBe('SM4');
    expect(verify(iccOf(o)).valid).toBe(false);
    expect(verify(iccOf(o), other).valid).toBe(true);
  });

  it('the kernel ends a transaction whose card used SM4 although the reader did not offer it', async () => {
    const card = sm();
    // A card that ignores DF69 and always takes the SM4 keys.
    const self = card as unknown as { cryptogramKeys: () => unknown; sm4: unknown };
    self.cryptogramKeys = () => self.sm4;
    const o = await pay(card, rsaReader);
    expect([o.kind, o.reason, o.card?.cryptogramAlgorithm]).toEqual(['END_APPLICATION', 'SM_ALGORITHM_NOT_OFFERED', 'SM4']);
  });
});
