// A payment app's page, written as an app developer writes one against the app API (`trusttap`):
// Terminal.open → checkCapability → enroll → prepare → startPayment, events shown as they come,
// one result. It runs in the browser (bundled by esbuild for platform 'browser', no Node
// built-in, no polyfill); the TEE and the card are reached through the bridge's transports,
// the acquirer back end over HTTP (another origin: CORS).
// ree/index.ts is the package's main entry: `import { Terminal, loadSignedConfig } from 'trusttap'`.
import { Terminal, loadSignedConfig, currencyOf, formatAmount, type PaymentEvent, type PaymentResult, type SignedConfig } from '../../../ree/index.ts';
import { BridgeCardTransport, BridgeTeeTransport } from './transports.ts';

/** What the page is given (/config.json): in a real app, its build configuration and the
 * activation code the merchant types in. */
interface PageConfig {
  backendUrl: string;
  activationCode: string;
  /** The acquirer's signed terminal configuration and the key the app pins to check it. */
  terminalConfig: SignedConfig;
  terminalConfigKey: string;
  payment: { amount: number; currency: string; clientTransactionId: string };
}

const $ = (id: string) => document.getElementById(id)!;

function step(text: string, cls = 'step', event?: PaymentEvent['type']): void {
  const li = document.createElement('li');
  li.className = cls;
  li.textContent = text;
  if (event) li.dataset.event = event;
  $('events').append(li);
}

function describe(e: PaymentEvent): string {
  switch (e.type) {
    case 'qr-displayed': return 'QR code shown';
    case 'card-requested': return 'present card';
    case 'card-presented': return 'card presented';
    case 'card-read': return 'card read — remove card';
    case 'see-phone': return 'see phone — verify on the phone and tap again';
    case 'pin-requested': return 'enter PIN on the trusted keypad';
    case 'pin-entered': return 'PIN entered (encrypted in the TEE)';
    case 'processing': return 'processing';
  }
}

function show(r: PaymentResult): void {
  const el = $('result');
  el.dataset.outcome = r.outcome;
  if (r.outcome === 'approved' || r.outcome === 'declined') {
    const x = r.receipt;
    el.textContent = `${r.outcome === 'approved' ? 'APPROVED' : `DECLINED (${r.reason})`}\n${x.application} ${x.maskedPan}\n` +
      `${formatAmount(x.amount, currencyOf(x.currency))} · auth ${x.authorizationCode || '—'} · ref ${x.transactionReference}`;
  } else if (r.outcome === 'failed') {
    el.textContent = `FAILED: ${r.code} — ${r.message}\nRemedy: ${r.remedy}`;
  } else {
    el.textContent = r.outcome.toUpperCase();
  }
}

async function main(): Promise<PaymentResult> {
  const cfg = (await (await fetch('/config.json')).json()) as PageConfig;
  const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
  const kernelConfig = loadSignedConfig(cfg.terminalConfig, unhex(cfg.terminalConfigKey));
  const nfc = new BridgeCardTransport(location.origin);
  await nfc.ready;

  const terminal = await Terminal.open({
    tee: new BridgeTeeTransport(location.origin),
    backendUrl: cfg.backendUrl,
    // A WebView cannot see root or hooks: the native side reports them (here: a clean phone).
    health: () => ({ rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false,
      deviceId: 'browser-test-device', ipAddress: '127.0.0.1', osVersion: navigator.userAgent.slice(0, 64), appVersion: '0.1.0' }),
    kernelConfig,
    nfc,
  });
  try {
    const cap = await terminal.checkCapability();
    step(`capability: contactless ${cap.contactless ? 'yes' : 'no'}, PIN ${cap.pin ? 'yes' : 'no'}, keys in the ${cap.keyStorage.toUpperCase()}`);
    const enrolled = await terminal.enroll(cfg.activationCode);
    step(`enrolled as ${enrolled.deviceId} (terminal ${enrolled.terminalId})`);
    const ready = await terminal.prepare();
    step(`prepared: ${ready.transactionsLeft} transactions left on the payment key`);

    const payment = terminal.startPayment(cfg.payment);
    for await (const e of payment.events) step(describe(e), 'event', e.type);
    return await payment.result;
  } finally {
    await terminal.close();
    await nfc.close();
  }
}

main().then(show, (e: Error) => {
  const el = $('result');
  el.dataset.outcome = 'error';
  el.textContent = `ERROR: ${e.name}: ${e.message}`;
});
