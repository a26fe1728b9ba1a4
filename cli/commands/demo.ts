// `trusttap demo`: a whole purchase on embedded defaults — the back end on loopback with SQLite
// in a temporary directory, the reference TEE runtime with the signed TAs, a simulated
// contactless card — through the app-facing API (ree/terminal), printing each event and the
// receipt. Exit 0 whenever the flow ran to an outcome, whatever the outcome.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend, type Backend } from '../../backend/http/server.ts';
import { startRuntimeFromBuild, InProcessTeeDriver, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY, type TeeRuntime } from '../../tee/index.ts';
import { ScriptedUiProvider, enterPin } from '../../tee/tui/scripted.ts';
import { TEST_OEM_ROOT, simulatedDevice } from '../../sim/oem/index.ts';
import { UnionPayCardSim, VisaCardSim, MastercardCardSim, type SimulatedCard } from '../../sim/cards/index.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { Terminal, currencyOf, formatAmount, type PaymentResult, type PaymentEvent } from '../../ree/terminal/index.ts';
import type { HealthSnapshot } from '../../ree/attestation/collector.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { DEMO_CARDS, type DemoCard } from '../../sim/demo-cards.ts';
import { SimWallet } from '../../sim/wallet/index.ts';
import { TEST_WALLETS } from '../../backend/issuer-sim/wallet.ts';

export const summary = 'a whole purchase on embedded defaults: demo [--card unionpay|visa|mastercard] [--qr merchant|consumer] [--amount 12.34] [--currency CNY] [--pin 1234] [--scenario ...] [--json]';

const SCENARIOS = ['none', 'rooted', 'hooked', 'wrong-pin', 'over-limit', 'card-removed', 'lost-answer'] as const;
type Scenario = (typeof SCENARIOS)[number];

const USAGE = `usage: trusttap demo [options]
  --card unionpay|visa|mastercard   the simulated card (default unionpay)
  --amount 12.34                    amount in major units (default 1288.00, above UnionPay's CNY 1000 no-CVM limit: PIN)
  --currency CNY|USD|EUR|...        ISO 4217 (default CNY)
  --pin 1234                        what the person types on the trusted keypad (default: the card's PIN)
  --scenario ${SCENARIOS.filter((s) => s !== 'none').join('|')}
  --qr merchant|consumer            a QR payment instead of the card: merchant-presented (the phone shows the
                                    acquirer's dynamic code, a simulated wallet pays it) or consumer-presented
                                    (the wallet shows a one-time payment code, the phone scans it); scenarios rooted|hooked
  --wallet ${TEST_WALLETS.map((w) => w.id).join('|')}
                                    the simulated wallet for --qr (default wallet-cny; wallet-usd for USD)
  --isolation in-process|worker     TEE isolation (default in-process)
  --backend URL                     use a running back end (npx trusttap serve) instead of starting one;
                                    its admin token from --admin-token or $TRUSTTAP_ADMIN_TOKEN
  --json                            one JSON object: outcome, reason, masked data`;

function healthy(): HealthSnapshot {
  return {
    rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false,
    deviceId: 'demo-android-id', ipAddress: '127.0.0.1', location: { latitude: 31.2304, longitude: 121.4737, accuracyM: 25 },
    osVersion: 'Android 14', appVersion: '0.1.0',
  };
}

function parse(args: string[]): Record<string, string> | string {
  const o: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') { o.json = '1'; continue; }
    if (!a.startsWith('--') || args[i + 1] === undefined) return `unexpected argument ${a}`;
    o[a.slice(2)] = args[++i];
  }
  return o;
}

async function admin(url: string, token: string, path: string, body: Uint8Array) {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' }, body: Buffer.from(body) });
  if (r.status !== 201 && r.status !== 200) throw new Error(`back office ${path}: HTTP ${r.status} ${r.headers.get('x-trusttap-error') ?? ''}`);
  return new Uint8Array(await r.arrayBuffer());
}

export async function run(args: string[]): Promise<number> {
  const o = parse(args);
  if (typeof o === 'string') { console.error(`trusttap demo: ${o}\n${USAGE}`); return 2; }
  const json = !!o.json;
  const scenario = (o.scenario ?? 'none') as Scenario;
  if (!SCENARIOS.includes(scenario)) { console.error(`trusttap demo: unknown scenario ${o.scenario}\n${USAGE}`); return 2; }
  const cardName = (o.card ?? 'unionpay') as DemoCard['scheme'];
  const demoCard = DEMO_CARDS[cardName];
  if (!demoCard) { console.error(`trusttap demo: unknown card ${o.card}\n${USAGE}`); return 2; }
  let currency;
  try { currency = currencyOf(o.currency ?? 'CNY'); } catch { console.error(`trusttap demo: unknown currency ${o.currency}`); return 2; }
  const major = o.amount ?? (scenario === 'over-limit' ? '9999.00' : '1288.00');
  if (!/^\d+(\.\d{1,3})?$/.test(major)) { console.error(`trusttap demo: bad amount ${major}`); return 2; }
  const amount = Math.round(Number(major) * 10 ** currency.exponent);
  const pin = scenario === 'wrong-pin' ? wrongPin(demoCard.pin) : (o.pin ?? demoCard.pin);
  const isolation = (o.isolation ?? 'in-process') as 'in-process' | 'worker';
  const qr = o.qr as 'merchant' | 'consumer' | undefined;
  if (qr !== undefined && qr !== 'merchant' && qr !== 'consumer') { console.error(`trusttap demo: --qr takes merchant or consumer\n${USAGE}`); return 2; }
  if (qr && !['none', 'rooted', 'hooked'].includes(scenario)) { console.error(`trusttap demo: scenario ${scenario} is for card payments\n${USAGE}`); return 2; }
  const walletId = o.wallet ?? (currency.alpha === 'USD' ? 'wallet-usd' : 'wallet-cny');
  if (qr && !TEST_WALLETS.some((w) => w.id === walletId)) { console.error(`trusttap demo: unknown wallet ${o.wallet}\n${USAGE}`); return 2; }

  const say = (line: string) => { if (!json) console.log(line); };
  const work = mkdtempSync(join(tmpdir(), 'trusttap-demo-'));
  say(`TrustTap demo — ${qr ? `QR ${qr}-presented, ${walletId}` : demoCard.label}, ${formatAmount(amount, currency)}${scenario !== 'none' ? `, scenario ${scenario}` : ''}`);
  say(`  state in ${work}`);

  // 1. The acquirer back end (or the one given).
  let be: Backend | null = null;
  let url = o.backend;
  let adminToken = o['admin-token'] ?? process.env.TRUSTTAP_ADMIN_TOKEN ?? '';
  if (!url) {
    be = await startBackend({
      dataDir: join(work, 'backend'), port: 0, sweepIntervalMs: 0,
      oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
      manifestKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY),
      manifests: [{ bytes: new Uint8Array(readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json'))), signature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8') }],
    });
    url = be.url;
    adminToken = be.adminToken;
    say(`  back end on ${url} (SQLite, software HSM)`);
  }

  // 2. The phone: a provisioned TEE (simulated OEM key) running the signed TAs, a scripted
  //    person at the trusted keypad, a simulated card at the NFC antenna.
  const deviceDir = join(work, 'device');
  const device = simulatedDevice(deviceDir);
  const person = new ScriptedUiProvider();
  let runtime: TeeRuntime | null = null;
  let terminal: Terminal | null = null;
  let result: PaymentResult;
  const events: PaymentEvent['type'][] = [];
  try {
    runtime = await startRuntimeFromBuild({ dataDir: deviceDir, isolation, bootState: device.bootState, ui: { standard: person } });
    const health = healthy();
    const card: SimulatedCard = demoCard.make(scenario === 'card-removed' ? { tearAtIns: 0xb2 } : {});
    const nfc = new InProcessTransport(card);
    const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
    terminal = await Terminal.open({ tee: new InProcessTeeDriver(runtime), backendUrl: url, health: () => health, kernelConfig: config, nfc });

    const cap = await terminal.checkCapability();
    say(`1. capability: contactless ${cap.contactless ? 'yes' : 'no'}, PIN on trusted UI ${cap.pin ? 'yes' : 'no'}, keys in the ${cap.keyStorage.toUpperCase()}`);

    const t = trusttap.attest.v1.CreateTerminalResponse.decode(await admin(url, adminToken, '/v1/admin/terminals',
      trusttap.attest.v1.CreateTerminalRequest.encode({ merchantId: 'M-DEMO-0001', terminalId: `T${Date.now().toString(36).slice(-7).toUpperCase()}` }).finish()));
    const enrolled = await terminal.enroll(t.activationCode);
    say(`2. enrolled as ${enrolled.deviceId} (merchant ${enrolled.merchantId}, terminal ${enrolled.terminalId}); DUKPT key injected, KCV ${enrolled.keyCheckValues[0]}`);

    if (scenario === 'rooted') health.rooted = true;
    if (scenario === 'hooked') health.hookingFramework = true;
    try {
      const ready = await terminal.prepare();
      say(`3. prepared: attestation ALLOW, ${ready.transactionsLeft.toLocaleString('en')} DUKPT transactions left`);
    } catch (e) {
      say(`3. prepare refused: ${(e as Error).message}`);
    }

    if (qr) {
      result = await qrPayment(qr, terminal, url, adminToken, walletId, amount, currency.alpha, events, say);
    } else {
      person.enqueue(enterPin(pin));
      if (scenario === 'lost-answer') dropFirstAuthorizeAnswer();
      const clientTransactionId = `demo-${Date.now().toString(36)}`;
      const payment = terminal.startPayment({ amount, currency: currency.alpha, clientTransactionId });
      say('4. payment:');
      for await (const e of payment.events) {
        events.push(e.type);
        say(`   · ${describe(e)}`);
        if (e.type === 'card-requested') setTimeout(() => nfc.tap(), 10); // the customer taps
        if (e.type === 'card-read') nfc.remove();
        if (e.type === 'pin-requested') say(`     (the person reads the keypad on the trusted display and types ${'*'.repeat(pin.length)})`);
      }
      result = await payment.result;
      if (result.outcome === 'result-unknown') {
        say(`   · the answer was lost: ${result.remedy}`);
        restoreFetch();
        result = await terminal.resolve(result.clientTransactionId);
        say('   · resolved from the acquirer\'s journal');
      }
    }
  } catch (e) {
    result = { outcome: 'failed', code: 'TEE_ERROR', message: (e as Error).message, remedy: 'see the message' };
  } finally {
    restoreFetch();
    await terminal?.close().catch(() => undefined);
    runtime?.shutdown();
    await be?.close();
  }

  if (json) {
    console.log(JSON.stringify({ outcome: result.outcome, reason: reasonOf(result), scenario, ...(qr ? { qr, wallet: walletId } : { card: cardName }), amount, currency: currency.alpha, events, ...detailsOf(result) }));
  } else {
    say(`5. ${summaryOf(result)}`);
    if ('receipt' in result) {
      const r = result.receipt;
      say('   ┌──────────────────────────────────────────────');
      say(`   │ ${r.application} ${r.maskedPan}   ${r.aid}`);
      say(`   │ ${r.type.toUpperCase()}  ${formatAmount(r.amount, currencyOf(r.currency))}`);
      say(`   │ merchant ${r.merchantId}  terminal ${r.terminalId}`);
      say(`   │ ref ${r.transactionReference}  auth ${r.authorizationCode || '—'}  rc ${r.responseCode}`);
      say(`   │ ${result.outcome === 'approved' ? 'APPROVED' : `DECLINED (${(result as { reason: string }).reason})`}  ${new Date(r.timestampMs).toISOString()}`);
      say('   └──────────────────────────────────────────────');
    }
  }
  return 0;
}

/** A QR payment through the app API, with a simulated customer wallet on the other side. */
async function qrPayment(mode: 'merchant' | 'consumer', terminal: Terminal, url: string, adminToken: string, walletId: string, amount: number, currency: string,
  events: PaymentEvent['type'][], say: (line: string) => void): Promise<PaymentResult> {
  const wallet = await SimWallet.login(url, adminToken, walletId);
  say(`   the customer's wallet ${walletId} (${wallet.maskedAccount}), provisioned by the simulated issuer`);
  const clientTransactionId = `demo-qr-${Date.now().toString(36)}`;
  let payment;
  if (mode === 'merchant') {
    payment = terminal.startQrPayment({ mode: 'merchant-presented', amount, currency, clientTransactionId, pollIntervalMs: 100 });
  } else {
    const code = await wallet.paymentCode();
    say(`   the wallet shows a one-time payment code (EMVCo CPM, valid until ${new Date(code.expiresMs).toISOString()}); the phone scans it`);
    payment = terminal.startQrPayment({ mode: 'consumer-presented', code: code.cpm, amount, currency, clientTransactionId });
  }
  say('4. QR payment:');
  for await (const e of payment.events) {
    events.push(e.type);
    say(`   · ${describe(e)}`);
    if (e.type === 'qr-displayed') {
      // The customer scans the code with the wallet (CRC checked there) and pays.
      setTimeout(() => {
        wallet.pay(e.payload).then((p) => say(`   · the wallet paid ${p.merchantName}: ${p.result.reasonText}`), (err: Error) => say(`   · the wallet could not pay: ${err.message}`));
      }, 10);
    }
  }
  return payment.result;
}

function wrongPin(p: string): string {
  return p.split('').map((d) => String((Number(d) + 1) % 10)).join('');
}

function describe(e: PaymentEvent): string {
  switch (e.type) {
    case 'qr-displayed': return `QR code shown (reference ${e.reference}, until ${new Date(e.expiresMs).toISOString()}): ${e.payload}`;
    case 'card-requested': return 'present card';
    case 'card-presented': return 'card presented';
    case 'card-read': return 'card read — remove card';
    case 'pin-requested': return 'enter PIN on the trusted keypad';
    case 'pin-entered': return 'PIN entered (encrypted in the TEE)';
    case 'processing': return 'processing (signed by the TEE, sent to the acquirer)';
  }
}

function reasonOf(r: PaymentResult): string {
  switch (r.outcome) {
    case 'approved': return 'APPROVED';
    case 'declined': return r.reason;
    case 'failed': return r.code;
    case 'result-unknown': return 'RESULT_UNKNOWN';
    case 'cancelled': return 'CANCELLED';
  }
}

function summaryOf(r: PaymentResult): string {
  switch (r.outcome) {
    case 'approved': return 'APPROVED';
    case 'declined': return `DECLINED: ${r.reason} — ${r.reasonText}`;
    case 'failed': return `FAILED: ${r.code} — ${r.message}. Remedy: ${r.remedy}`;
    case 'result-unknown': return `RESULT UNKNOWN — ${r.remedy}`;
    case 'cancelled': return 'CANCELLED';
  }
}

function detailsOf(r: PaymentResult): Record<string, unknown> {
  if ('receipt' in r) return { maskedPan: r.receipt.maskedPan, application: r.receipt.application, authorizationCode: r.receipt.authorizationCode, responseCode: r.receipt.responseCode, transactionReference: r.receipt.transactionReference };
  if (r.outcome === 'failed') return { message: r.message, remedy: r.remedy };
  return {};
}

// "lost-answer": the first authorization reaches the acquirer, but its answer never reaches the
// phone (a dropped connection), as a real network loses it.
const realFetch = globalThis.fetch;
function dropFirstAuthorizeAnswer(): void {
  let dropped = false;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const res = await realFetch(input, init);
    if (!dropped && String(input).endsWith('/v1/device/authorize')) {
      dropped = true;
      await res.arrayBuffer();
      throw new TypeError('fetch failed: connection reset before the answer arrived');
    }
    return res;
  }) as typeof fetch;
}
function restoreFetch(): void {
  globalThis.fetch = realFetch;
}
