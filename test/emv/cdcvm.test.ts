// Mastercard CDCVM (Kernel C-2): a phone wallet that verified the cardholder on the device gets
// no online PIN above the CVM required limit; the card's data decides, not the reader.
import { describe, expect, it } from 'vitest';
import { MastercardCardSim, TEST_ISSUER_MASTER_KEY_AC, type CardOptions } from '../../sim/cards/index.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { verifyArqc } from '../../backend/issuer/issuer-host.ts';
import { fromHex } from '../../common/hex.ts';
import type { TerminalConfig } from '../../common/emv/config.ts';

const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
const ABOVE = 1_500_00, BELOW = 25_00; // CNY; CVM required limit 1000.01

function pay(o: CardOptions, amount: number, cfg: TerminalConfig = config) {
  const t = new InProcessTransport(new MastercardCardSim(o));
  t.tap();
  return runEntryPoint(t, cfg, { amount, currency: '0156', date: '251125', time: '120000' }, { random: (n) => new Uint8Array(n).fill(0x5a) });
}

describe('Mastercard CDCVM', () => {
  it('wallet that verified the cardholder: no PIN above the limit, outcome CDCVM, CDA passes, ARQC verifies', async () => {
    const o = await pay({ cdcvm: true }, ABOVE);
    expect([o.kind, o.cvm, o.ui.message, o.oda]).toEqual(['ONLINE_REQUEST', 'CDCVM', 'AUTHORISING', 'PASSED']);
    expect(o.onlineData!['9F34']).toBe('010002'); // CVM Results: CDCVM, successful
    expect(parseInt(o.tvr!.slice(4, 6), 16) & 0x04).toBe(0); // no "online PIN entered"
    const icc = new Map(Object.entries(o.onlineData!).map(([k, v]) => [k, fromHex(v)]));
    expect(verifyArqc({ cvn: 'mastercard-16', issuerMasterKeyAc: TEST_ISSUER_MASTER_KEY_AC, pan: '5413330089010434', psn: '01', iccData: icc }, fromHex('3030')).valid).toBe(true);
  });

  it('wallet below the limit: no CVM', async () => {
    const o = await pay({ cdcvm: true }, BELOW);
    expect([o.kind, o.cvm, o.onlineData!['9F34']]).toEqual(['ONLINE_REQUEST', 'NO_CVM', '3F0002']);
  });

  it('plastic card (no on-device CVM) above the limit still gets online PIN', async () => {
    const o = await pay({}, ABOVE);
    expect([o.kind, o.cvm, o.ui.message]).toEqual(['ONLINE_REQUEST', 'ONLINE_PIN', 'PLEASE_ENTER_PIN']);
  });

  it('wallet whose cardholder has not verified on the phone: See Phone, tap again — never CDCVM', async () => {
    const o = await pay({ wallet: true }, ABOVE);
    // Book C-2: Outcome End Application, Start B (restart), UI Request See Phone / Not Ready.
    expect([o.kind, o.ui, o.reason, o.restart, o.cvm]).toEqual(['END_APPLICATION', { message: 'SEE_PHONE', status: 'NOT_READY' }, 'SEE_PHONE', 'B', undefined]);
  });

  it('See Phone, the holder verifies on the phone, the second tap completes with CDCVM', async () => {
    const card = new MastercardCardSim({ wallet: true });
    const t = new InProcessTransport(card);
    const run = () => runEntryPoint(t, config, { amount: ABOVE, currency: '0156', date: '251125', time: '120000' }, { random: (n) => new Uint8Array(n).fill(0x5a) });
    t.tap();
    expect((await run()).ui.message).toBe('SEE_PHONE');
    card.verifyOnDevice();
    t.tap();
    const o = await run();
    expect([o.kind, o.cvm, o.oda, o.onlineData!['9F34']]).toEqual(['ONLINE_REQUEST', 'CDCVM', 'PASSED', '010002']);
  });

  it('a reader without CDCVM support falls back to the CVM list: online PIN for the wallet', async () => {
    const noCdcvm = { ...config, cvm: { ...config.cvm, cdcvm: false } };
    const o = await pay({ cdcvm: true }, ABOVE, noCdcvm);
    expect([o.kind, o.cvm]).toEqual(['ONLINE_REQUEST', 'ONLINE_PIN']);
  });

  it('CDCVM is not assumed when the card does not confirm it (POS Cardholder Interaction Information)', async () => {
    const card = new MastercardCardSim({ cdcvm: true });
    const gac = (card as unknown as { generateAc: (p1: number, d: Uint8Array) => Uint8Array }).generateAc.bind(card);
    // A wallet answering ARQC without "OD-CVM verification successful" (DF4B byte 2 = 00).
    (card as unknown as { generateAc: (p1: number, d: Uint8Array) => Uint8Array }).generateAc = (p1, d) => {
      const r = Buffer.from(gac(p1, d));
      const i = r.indexOf(Buffer.from('DF4B03001000', 'hex'));
      expect(i).toBeGreaterThan(0);
      r[i + 4] = 0x00;
      return new Uint8Array(r);
    };
    const t = new InProcessTransport(card);
    t.tap();
    const o = await runEntryPoint(t, config, { amount: ABOVE, currency: '0156', date: '251125' }, { random: (n) => new Uint8Array(n).fill(0x5a) });
    expect([o.kind, o.reason, o.restart]).toEqual(['END_APPLICATION', 'CDCVM_NOT_CONFIRMED', 'B']);
  });
});
