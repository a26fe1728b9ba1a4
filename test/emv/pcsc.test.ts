// The kernel through the real PC/SC stack: pcscd + vsmartcard vpcd, with a simulated card
// plugged in as a vpcd virtual card. Needs `bash .ci/setup-pcsc.sh start`; skips otherwise.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { PcscTransport, loadPcsclite } from '../../ree/node/index.ts';
import { CardRemovedError } from '../../ree/nfc/transport.ts';
import { VpcdVirtualCard } from '../../sim/vpcd/virtual-card.ts';
import { MastercardCardSim, UnionPayCardSim, VisaCardSim } from '../../sim/cards/index.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { selectPpse } from '../../common/emv/apdu.ts';

const why = !existsSync('/run/pcscd/pcscd.comm') ? 'pcscd is not running (bash .ci/setup-pcsc.sh start)'
  : !loadPcsclite() ? 'the @pokusew/pcsclite binding is not installed (bash .ci/setup-pcsc.sh start installs it)' : '';
if (why) console.warn(`PC/SC tests skipped: ${why}`);

const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
const READER = 'Virtual PCD 00 00';

describe.skipIf(!!why)(`contactless kernel through pcscd + vpcd${why ? ` (skipped: ${why})` : ''}`, () => {
  let vcard: VpcdVirtualCard | undefined;
  let transport: PcscTransport | undefined;
  // Take the card out and wait until pcscd has seen the reader empty, so the next test's card
  // is not mistaken for this one (vpcd notices a closed connection only on its next poll).
  afterEach(async () => {
    const t = transport;
    if (t) {
      const gone = new Promise<void>((res) => { const off = t.onCardEvent((e) => { if (e.type === 'removed') { off(); res(); } }); });
      vcard?.remove();
      await Promise.race([gone, new Promise((res) => setTimeout(res, 5_000))]);
      await t.close();
    }
    vcard?.remove();
    transport = undefined; vcard = undefined;
  });

  for (const [name, make] of [['visa', () => new VisaCardSim()], ['mastercard', () => new MastercardCardSim()], ['unionpay', () => new UnionPayCardSim()]] as const) {
    it(`${name}: purchase completes as an online request with ODA passed`, async () => {
      vcard = new VpcdVirtualCard(make());
      await vcard.insert();
      transport = await PcscTransport.open({ reader: READER, timeoutMs: 10_000 });
      const o = await runEntryPoint(transport, config, { amount: 12_00, currency: '0156', date: '251125' });
      expect([o.kind, o.oda, o.cvm]).toEqual(['ONLINE_REQUEST', 'PASSED', 'NO_CVM']);
      expect(o.card?.maskedPan).toMatch(/\*{6}/);
    });
  }

  it('a card taken out of the reader gives CardRemovedError, and the kernel Try Again', async () => {
    vcard = new VpcdVirtualCard(new VisaCardSim({ tearAtIns: 0xa8 }));
    await vcard.insert();
    transport = await PcscTransport.open({ reader: READER, timeoutMs: 10_000 });
    const removed = new Promise<void>((res) => transport!.onCardEvent((e) => { if (e.type === 'removed') res(); }));
    const o = await runEntryPoint(transport, config, { amount: 12_00, currency: '0156', date: '251125' });
    expect([o.kind, o.reason]).toEqual(['TRY_AGAIN', 'CARD_REMOVED']);
    await removed;
    await expect(transport.transceive(selectPpse())).rejects.toThrow(CardRemovedError);
  });
});
