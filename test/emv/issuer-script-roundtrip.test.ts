// Issuer scripts end to end between the issuer and a simulated card: the kernel reads the card
// (its ARQC), the issuer verifies the ARQC and answers an ARPC (backend/issuer/issuer-host.ts),
// then builds PIN CHANGE/UNBLOCK scripts for that transaction (issuer-script.ts); the card checks
// the MAC under its own session key, deciphers and reads the PIN block its CVN names, and a
// plaintext VERIFY shows which PIN it now holds. For each CVN a card here carries: Visa 22 and 18,
// Mastercard 16, and the UnionPay SM card's SM4 unionpay-01-sm4 (after an SM4 cryptogram).
import { describe, expect, test } from 'vitest';
import { fromHex, toHex } from '../../common/hex.ts';
import { command, selectAid } from '../../common/emv/apdu.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { signedTestTerminalConfig, testConfigSigningKey, testTerminalConfig } from '../../sim/test-terminal-config.ts';
import { MastercardCardSim, UnionPaySmCardSim, VisaCardSim, TEST_ISSUER_MASTER_KEY_AC, TEST_ISSUER_MASTER_KEY_AC_SM4, TEST_ISSUER_MASTER_KEY_SMC_SM4, TEST_ISSUER_MASTER_KEY_SMI_SM4, type CardOptions, type SimulatedCard } from '../../sim/cards/index.ts';
import { TEST_ISSUER_MASTER_KEY_SMC, TEST_ISSUER_MASTER_KEY_SMI } from '../../sim/cards/personalisation.ts';
import { verifyArqc } from '../../backend/issuer/issuer-host.ts';
import { pinChangeCommand, pinUnblockCommand, type ScriptCard } from '../../backend/issuer/issuer-script.ts';
import { iso9564Format2PinBlock } from '../../backend/issuer/ta-lib.ts';

const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);

const CARDS: Array<[string, () => SimulatedCard & { card: { pan: string; psn: string }; app: { aid: string } }, string]> = [
  ['visa-22', () => new VisaCardSim({ pan: '4761739001010143', cvn: 'visa-22', atc: 7 }), '0840'],
  ['visa-18', () => new VisaCardSim({ atc: 7 }), '0840'],
  ['mastercard-16', () => new MastercardCardSim({ atc: 7 }), '0978'],
];

const send = (card: SimulatedCard, apdu: Uint8Array) => toHex(card.process(apdu).slice(-2));
const verify = (card: SimulatedCard, pin: string) => send(card, command(0x00, 0x20, 0x00, 0x80, iso9564Format2PinBlock(pin)));

/** Tap, kernel to the online request, issuer check: the script context of that transaction. */
async function onlineTransaction(cvn: string, make: () => SimulatedCard & { card: { pan: string; psn: string }; app: { aid: string } }, currency: string) {
  const card = make();
  const t = new InProcessTransport(card);
  t.tap();
  const outcome = await runEntryPoint(t, config, { amount: 25_00, currency, date: '251125', time: '120000' });
  expect(outcome.kind, outcome.reason).toBe('ONLINE_REQUEST');
  const icc = new Map(Object.entries(outcome.onlineData!).map(([k, v]) => [k, fromHex(v)]));
  const { pan, psn } = card.card;
  const check = verifyArqc({ cvn, issuerMasterKeyAc: TEST_ISSUER_MASTER_KEY_AC, pan, psn, iccData: icc }, fromHex('3030'), fromHex('00800000'));
  expect(check.valid).toBe(true);
  expect(check.arpc!.length).toBe(cvn.startsWith('visa') ? 4 : 8);
  const script: ScriptCard = {
    cvn, pan, psn, atc: icc.get('9F36')!, arqc: icc.get('9F26')!,
    issuerMasterKeySmi: TEST_ISSUER_MASTER_KEY_SMI, issuerMasterKeySmc: TEST_ISSUER_MASTER_KEY_SMC, issuerMasterKeyAc: TEST_ISSUER_MASTER_KEY_AC,
  };
  // The script arrives while the application is selected (a second tap selects it again).
  expect(send(card, selectAid(card.app.aid))).toBe('9000');
  return { card, script };
}

describe.each(CARDS)('issuer script round trip, %s', (cvn, make, currency) => {
  test('PIN change without the current PIN: the card takes the new PIN', async () => {
    const { card, script } = await onlineTransaction(cvn, make, currency);
    expect(verify(card, '1234')).toBe('9000');
    expect(send(card, pinChangeCommand(script, '4321'))).toBe('9000');
    expect(verify(card, '4321')).toBe('9000');
    expect(verify(card, '1234')).toBe('63C2');
  });

  test('a changed MAC, another transaction\'s script, or another issuer\'s key: 6988, the PIN unchanged', async () => {
    const { card, script } = await onlineTransaction(cvn, make, currency);
    const cmd = pinChangeCommand(script, '4321');
    cmd[cmd.length - 1]! ^= 0x01;
    expect(send(card, cmd)).toBe('6988');
    const otherArqc = script.arqc.slice(); otherArqc[0]! ^= 0x01;
    expect(send(card, pinChangeCommand({ ...script, arqc: otherArqc }, '4321'))).toBe('6988');
    expect(send(card, pinChangeCommand({ ...script, issuerMasterKeySmi: TEST_ISSUER_MASTER_KEY_SMC }, '4321'))).toBe('6988');
    expect(verify(card, '1234')).toBe('9000');
  });

  test('PIN unblock after the tries are used up', async () => {
    const { card, script } = await onlineTransaction(cvn, make, currency);
    expect([verify(card, '0000'), verify(card, '0000'), verify(card, '0000'), verify(card, '1234')]).toEqual(['63C2', '63C1', '63C0', '6983']);
    expect(send(card, pinUnblockCommand(script))).toBe('9000');
    expect(verify(card, '1234')).toBe('9000');
  });
});

test('Visa CVN 22 and 18: a PIN change with the current PIN (the VIS block) takes only with the right current PIN', async () => {
  for (const [cvn, make, currency] of CARDS.filter(([c]) => c.startsWith('visa'))) {
    const { card, script } = await onlineTransaction(cvn, make, currency);
    expect(send(card, pinChangeCommand(script, '5678', '9999')), cvn).toBe('6A80');
    expect(send(card, pinChangeCommand(script, '5678', '1234')), cvn).toBe('9000');
    expect(verify(card, '5678'), cvn).toBe('9000');
  }
});

test('the CVN decides the script: a CVN 18 script does not verify on a CVN 22 card', async () => {
  const [cvn, make, currency] = CARDS[0]!;
  const { card, script } = await onlineTransaction(cvn, make, currency);
  expect(send(card, pinChangeCommand({ ...script, cvn: 'visa-18' }, '4321'))).toBe('6988');
  expect(send(card, pinChangeCommand(script, '4321'))).toBe('9000');
});

// The UnionPay SM card (PBOC national algorithms): after an SM4 cryptogram (the reader offered
// DF69 = 01) the issuer checks the ARQC with its SM4 AC key and composes the script with the SM4
// profile unionpay-01-sm4 and its SM4 SMI / SMC keys; the card checks it with its SM4 keys.
describe('issuer script round trip, UnionPay SM card in SM mode (unionpay-01-sm4)', () => {
  const PAN = '6228480000000000017';

  async function smTransaction(o: CardOptions = {}) {
    const card = new UnionPaySmCardSim(o);
    const t = new InProcessTransport(card);
    t.tap();
    const outcome = await runEntryPoint(t, config, { amount: 25_00, currency: '0156', date: '251125', time: '120000' });
    expect(outcome.kind, outcome.reason).toBe('ONLINE_REQUEST');
    expect(outcome.card?.cryptogramAlgorithm).toBe('SM4');
    const icc = new Map(Object.entries(outcome.onlineData!).map(([k, v]) => [k, fromHex(v)]));
    const { pan, psn } = card.card;
    expect(pan).toBe(PAN);
    const check = verifyArqc({ cvn: 'unionpay-01', issuerMasterKeyAc: TEST_ISSUER_MASTER_KEY_AC, issuerMasterKeyAcSm4: TEST_ISSUER_MASTER_KEY_AC_SM4, pan, psn, iccData: icc }, fromHex('3030'));
    expect(check.valid).toBe(true);
    // The IAD said SM4 (indicator 04): the script is composed with the SM4 profile and keys.
    const script: ScriptCard = {
      cvn: 'unionpay-01-sm4', pan, psn, atc: icc.get('9F36')!, arqc: icc.get('9F26')!,
      issuerMasterKeySmi: TEST_ISSUER_MASTER_KEY_SMI_SM4, issuerMasterKeySmc: TEST_ISSUER_MASTER_KEY_SMC_SM4,
    };
    expect(send(card, selectAid(card.app.aid))).toBe('9000');
    return { card, script };
  }

  test('PIN change (ISO 9564 format 2, SM4-enciphered, PBOC-SM4-MAC): the card takes the new PIN', async () => {
    const { card, script } = await smTransaction();
    expect(verify(card, '1234')).toBe('9000');
    expect(send(card, pinChangeCommand(script, '4321'))).toBe('9000');
    expect(verify(card, '4321')).toBe('9000');
    expect(verify(card, '1234')).toBe('63C2');
  });

  test('PIN unblock after the tries are used up', async () => {
    const { card, script } = await smTransaction();
    expect([verify(card, '0000'), verify(card, '0000'), verify(card, '0000'), verify(card, '1234')]).toEqual(['63C2', '63C1', '63C0', '6983']);
    expect(send(card, pinUnblockCommand(script))).toBe('9000');
    expect(verify(card, '1234')).toBe('9000');
  });

  test('a changed MAC, a TDES-composed script, another transaction\'s ARQC or ATC, the TDES keys: 6988, the PIN unchanged', async () => {
    const { card, script } = await smTransaction();
    const cmd = pinChangeCommand(script, '4321');
    cmd[cmd.length - 1]! ^= 0x01;
    expect(send(card, cmd)).toBe('6988');
    // The same command composed with TDES (an EMV common-session-key CVN, TDES SMI / SMC keys).
    expect(send(card, pinChangeCommand({ ...script, cvn: 'mastercard-16', issuerMasterKeySmi: TEST_ISSUER_MASTER_KEY_SMI, issuerMasterKeySmc: TEST_ISSUER_MASTER_KEY_SMC }, '4321'))).toBe('6988');
    expect(send(card, pinUnblockCommand({ ...script, cvn: 'mastercard-16', issuerMasterKeySmi: TEST_ISSUER_MASTER_KEY_SMI }))).toBe('6988');
    // The SM4 profile under the TDES issuer keys (the SM card's TDES secure-messaging keys).
    expect(send(card, pinChangeCommand({ ...script, issuerMasterKeySmi: TEST_ISSUER_MASTER_KEY_SMI, issuerMasterKeySmc: TEST_ISSUER_MASTER_KEY_SMC }, '4321'))).toBe('6988');
    const otherArqc = script.arqc.slice(); otherArqc[0]! ^= 0x01;
    expect(send(card, pinChangeCommand({ ...script, arqc: otherArqc }, '4321'))).toBe('6988');
    const otherAtc = script.atc.slice(); otherAtc[1]! ^= 0x01;
    expect(send(card, pinUnblockCommand({ ...script, atc: otherAtc }))).toBe('6988');
    expect(verify(card, '1234')).toBe('9000');
  });

  test('another card\'s SM4 SMI key: 6988; the card personalised under it takes the script composed with it', async () => {
    const other = TEST_ISSUER_MASTER_KEY_SMI_SM4.map((b) => b ^ 0x5a);
    const { card, script } = await smTransaction();
    expect(send(card, pinChangeCommand({ ...script, issuerMasterKeySmi: other }, '4321'))).toBe('6988');
    const second = await smTransaction({ issuerMasterKeySmiSm4: other });
    expect(send(second.card, pinChangeCommand(second.script, '4321'))).toBe('6988');
    expect(send(second.card, pinChangeCommand({ ...second.script, issuerMasterKeySmi: other }, '4321'))).toBe('9000');
    expect(verify(second.card, '4321')).toBe('9000');
  });

  test('the script of an earlier SM4 transaction is refused after the next one', async () => {
    const { card, script } = await smTransaction();
    const t = new InProcessTransport(card);
    t.tap();
    const next = await runEntryPoint(t, config, { amount: 25_00, currency: '0156', date: '251125', time: '120000' });
    expect(next.kind).toBe('ONLINE_REQUEST');
    expect(send(card, selectAid(card.app.aid))).toBe('9000');
    expect(send(card, pinUnblockCommand(script))).toBe('6988');
  });
});

test('UnionPay SM card after a TDES cryptogram (reader without SM): the TDES unionpay-01 has no secure messaging, an SM4 script is not accepted', async () => {
  const c = testTerminalConfig();
  c.capks = c.capks.filter((k) => k.algorithm !== '04');
  const rsaReader = loadSignedConfig(signedTestTerminalConfig(c), testConfigSigningKey().publicKey);
  const card = new UnionPaySmCardSim();
  const t = new InProcessTransport(card);
  t.tap();
  const outcome = await runEntryPoint(t, rsaReader, { amount: 25_00, currency: '0156', date: '251125', time: '120000' });
  expect([outcome.kind, outcome.card?.cryptogramAlgorithm]).toEqual(['ONLINE_REQUEST', 'TDES']);
  const icc = new Map(Object.entries(outcome.onlineData!).map(([k, v]) => [k, fromHex(v)]));
  const script: ScriptCard = {
    cvn: 'unionpay-01-sm4', pan: card.card.pan, psn: card.card.psn, atc: icc.get('9F36')!, arqc: icc.get('9F26')!,
    issuerMasterKeySmi: TEST_ISSUER_MASTER_KEY_SMI_SM4, issuerMasterKeySmc: TEST_ISSUER_MASTER_KEY_SMC_SM4,
  };
  expect(send(card, selectAid(card.app.aid))).toBe('9000');
  expect(send(card, pinChangeCommand(script, '4321'))).toBe('6985');
  expect(verify(card, '1234')).toBe('9000');
});
