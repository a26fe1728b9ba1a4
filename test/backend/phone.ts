// A phone for back-end tests: the reference TEE with the signed TAs on its own data directory
// (restartable on it, so tests can copy and restore the whole device state), a BackendLink, and
// payments made by the real parts — a simulated card read by the contactless kernel, txsign.
import { expect } from 'vitest';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { TeeRuntime, InProcessTeeDriver, loadTaImages, ScriptedUiProvider, ScriptedAccessibleUiProvider, enterPin as types } from '../../tee/index.ts';
import { TeeContext, KeystoreClient } from '../../ree/tee-client/index.ts';
import { AttestClient } from '../../ree/attestation/client.ts';
import { HealthCollector } from '../../ree/attestation/collector.ts';
import { BackendLink, type LinkState } from '../../ree/attestation/backend-link.ts';
import { PinpadClient, enterPin } from '../../ree/pin/pin-entry.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { fromHex } from '../../common/hex.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { UnionPayCardSim, VisaCardSim, MastercardCardSim } from '../../sim/cards/index.ts';
import { provisionDevice } from '../../sim/oem/index.ts';
import { TEST_CARDS } from '../../backend/issuer-sim/index.ts';
import { healthy } from '../attest/device.ts';

export const pay = trusttap.payment.v1;
const tx = trusttap.txsign.v1;
export const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
export const unionpay = TEST_CARDS.find((c) => c.name === 'unionpay')!;
const atcs = new Map<string, number>();
/** The PIN pad's currency display (ISO 4217 alpha) of the test cards' numeric codes. */
const CURRENCY_ALPHA: Record<string, string> = { '156': 'CNY', '840': 'USD', '978': 'EUR' };

/** One phone's TEE on a data directory, and its app side. Restartable on the same directory. */
export class Phone {
  runtime!: TeeRuntime;
  ctx!: TeeContext;
  link!: BackendLink;
  readonly person = new ScriptedUiProvider();
  readonly health = healthy();
  merchantId = '';
  terminalId = '';
  /** The last payment's encrypted PIN block and its KSN (never a clear PIN). */
  lastPin: { block: Uint8Array; ksn: Uint8Array } | null = null;
  constructor(public url: string, readonly dataDir: string) {}

  async boot(state: Partial<LinkState> = {}): Promise<void> {
    const { images, manifestSha256 } = loadTaImages();
    this.runtime = await TeeRuntime.start({ tas: images, dataDir: this.dataDir, manifestSha256, bootState: 'verified', ui: { standard: this.person, accessible: new ScriptedAccessibleUiProvider() } });
    this.ctx = await TeeContext.initialize(new InProcessTeeDriver(this.runtime));
    this.link = new BackendLink(this.url, await AttestClient.open(this.ctx), new HealthCollector(() => this.health), state);
  }

  async halt(): Promise<void> {
    await this.ctx.finalize();
    this.runtime.shutdown();
  }

  /** Enrol, attest, inject the DUKPT key, pin the token key in the pinpad. */
  async setUp(admin: { createTerminal(m: string, t: string): Promise<{ activationCode: string }> }, terminalId: string): Promise<void> {
    provisionDevice(this.dataDir, {});
    await this.boot();
    const t = await admin.createTerminal('M-RB', terminalId);
    const enrol = await this.link.enrol(t.activationCode);
    [this.merchantId, this.terminalId] = [enrol.merchantId, enrol.terminalId];
    await this.link.attestNow();
    const { kekKeyId, keys } = await this.link.injectKeys();
    const ks = await KeystoreClient.open(this.ctx);
    await ks.importKeyBlock('dukpt', kekKeyId, keys[0].tr31);
    await ks.close();
    const pin = await PinpadClient.open(this.ctx);
    await pin.provision(enrol.tokenPublicKey);
    await pin.close();
  }

  /** Tap, (online PIN typed on the TEE's PIN pad when pin is given), txsign; the AuthorizeRequest
   * with the given verdict token. */
  async payment(amount: number, token: Uint8Array, cardName = 'unionpay', pin?: string): Promise<trusttap.payment.v1.IAuthorizeRequest> {
    const card = TEST_CARDS.find((c) => c.name === cardName)!;
    const atc = (atcs.get(card.pan) ?? 200) + 1;
    atcs.set(card.pan, atc);
    const o = { pan: card.pan, psn: card.psn, cvn: card.cvn, atc };
    const t = new InProcessTransport(card.scheme === 'visa' ? new VisaCardSim(o) : card.scheme === 'mastercard' ? new MastercardCardSim(o) : new UnionPayCardSim(o));
    t.tap();
    const outcome = await runEntryPoint(t, config, { amount, currency: `0${card.currency}`, date: '251125', time: '120000' });
    expect(outcome.kind, outcome.reason).toBe('ONLINE_REQUEST');
    const online = outcome.onlineData!;
    let pinBlock: Uint8Array | undefined, pinKsn: Uint8Array | undefined;
    if (pin !== undefined) {
      this.person.enqueue(types(pin));
      const r = await enterPin(this.ctx, { pan: card.pan, amountMinor: amount, currency: CURRENCY_ALPHA[card.currency]!, keySetId: 'dukpt', attest: async (nonce) => (await this.link.attestNow(nonce)).signed });
      if (r.kind !== 'pin-block') throw new Error(`PIN entry: ${r.kind}`);
      [pinBlock, pinKsn] = [r.encryptedPinBlock, r.ksn];
      this.lastPin = { block: r.encryptedPinBlock, ksn: r.ksn };
    }
    const data: TlvEntry[] = Object.entries(online).filter(([k]) => k !== '9F26').map(([k, v]) => [k, v]);
    const s = await this.ctx.openSession('txsign');
    const raw = await s.invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({
      record: {
        type: tx.TransactionType.TRANSACTION_TYPE_PURCHASE, amountMinor: amount as any, currency: card.currency, merchantId: this.merchantId,
        terminalId: this.terminalId, applicationCryptogram: fromHex(online['9F26']), cryptogramData: encodeTlv(data), maskedPan: outcome.card!.maskedPan!,
        pinKsn: pinKsn ?? new Uint8Array(0), timestampMs: Date.now() as any, clientTransactionId: `rb-${card.name}-${atc}-${Date.now()}`,
      },
      dukptKeyId: 'dukpt', sensitiveCardData: outcome.sensitive!,
    }).finish());
    await s.close();
    if (!pinBlock) return { signedTransaction: raw, signedToken: token, aid: outcome.card!.aid, cvm: pay.Cvm.CVM_NO_CVM };
    return { signedTransaction: raw, signedToken: token, aid: outcome.card!.aid, cvm: pay.Cvm.CVM_ONLINE_PIN, encryptedPinBlock: pinBlock, pinBlockFormat: pay.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4 };
  }

  /** Copies the whole device state (sealed objects, RPMB image, HUK) while the TEE is halted. */
  async snapshot(): Promise<string> {
    await this.halt();
    const copy = mkdtempSync(join(tmpdir(), 'tt-rb-copy-'));
    cpSync(this.dataDir, copy, { recursive: true });
    await this.boot({ ...this.link.state });
    return copy;
  }

  /** Puts a snapshot back over the device state and restarts the TEE on it. */
  async restore(copy: string): Promise<void> {
    const state = { ...this.link.state };
    await this.halt();
    rmSync(this.dataDir, { recursive: true, force: true });
    cpSync(copy, this.dataDir, { recursive: true });
    await this.boot(state);
  }
}

/** A new phone on its own data directory, enrolled with keys. */
export async function newPhone(url: string, admin: { createTerminal(m: string, t: string): Promise<{ activationCode: string }> }, terminalId: string): Promise<Phone> {
  const p = new Phone(url, mkdtempSync(join(tmpdir(), 'tt-phone-')));
  await p.setUp(admin, terminalId);
  return p;
}

export const signedToken = async (p: Phone) => trusttap.attest.v1.SignedToken.encode((await p.link.attestNow()).signed).finish();
