// Issuer scripts end to end between the issuer and a simulated card: the kernel reads the card
// (its ARQC), the issuer verifies the ARQC and answers an ARPC (backend/issuer/issuer-host.ts),
// then builds PIN CHANGE/UNBLOCK scripts for that transaction (issuer-script.ts); the card checks
// the MAC under its own session key, deciphers and reads the PIN block its CVN names, and a
// plaintext VERIFY shows which PIN it now holds. For each CVN a card here carries: Visa 22 and 18,
// Mastercard 16.
import { describe, expect, test } from 'vitest';
import { fromHex, toHex } from '../../common/hex.ts';
import { command, selectAid } from '../../common/emv/apdu.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { MastercardCardSim, VisaCardSim, TEST_ISSUER_MASTER_KEY_AC, type SimulatedCard } from '../../sim/cards/index.ts';
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
