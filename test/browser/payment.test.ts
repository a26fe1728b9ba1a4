// A whole payment with the REE client running in a real browser (issue #11 §4): the page
// (page/app.ts, the app API as an app developer uses it) is bundled by esbuild for the browser
// platform — no Node built-in, no polyfill — and loaded in headless Chromium (Debian's, driven by
// playwright-core; nothing downloaded). Its client talks HTTP to `trusttap serve` on loopback
// (another origin, allowed with --cors-origin), and reaches the reference TEE and a simulated
// card through the HTTP bridge (bridge.ts), where the trusted UI's scripted person types the PIN.
// Kept: .data/artifacts/browser-payment.png. Without /usr/bin/chromium (or $TRUSTTAP_CHROMIUM) it
// skips and says why, unless TRUSTTAP_REQUIRE_BROWSER=1 (CI), where that is a failure.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServe } from '../helpers/serve.ts';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startRuntimeFromBuild, ScriptedUiProvider, enterPin, readKeys, type TeeRuntime, type TuiScreen, type UiProvider } from '../../tee/index.ts';
import { toPbm } from '../../tee/tui/eyes.ts';
import { simulatedDevice } from '../../sim/oem/index.ts';
import { DEMO_CARDS } from '../../sim/demo-cards.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { startBridge, type Bridge } from './bridge.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const PAGE_DIR = join(ROOT, 'test/browser/page');
/** Debian's chromium package; TRUSTTAP_CHROMIUM names another system binary (nothing is downloaded). */
const CHROMIUM = process.env.TRUSTTAP_CHROMIUM || '/usr/bin/chromium';
const ARTIFACT = join(ROOT, '.data/artifacts/browser-payment.png');
// What the simulated trusted display showed: the pinpad TA's own pixels (never the page's).
const KEYPAD_ARTIFACT = join(ROOT, '.data/artifacts/browser-trusted-keypad.pbm');
const required = process.env.TRUSTTAP_REQUIRE_BROWSER === '1';
const why = existsSync(CHROMIUM) ? '' : `${CHROMIUM} not found (Debian: apt-get install chromium, or .ci/setup-browser.sh)`;
if (why && !required) console.warn(`browser tests skipped: ${why}`);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** The page's bundle: browser platform, and nothing of the TEE, the simulators or the back end. */
async function bundlePage() {
  let out;
  try {
    out = await build({
      entryPoints: [join(PAGE_DIR, 'app.ts')], bundle: true, platform: 'browser', format: 'esm', target: 'es2022',
      write: false, metafile: true, logLevel: 'silent', legalComments: 'none', absWorkingDir: ROOT, // metafile paths relative to the repository
    });
  } catch (e) {
    // Name every import the browser cannot have (a Node built-in reached from the page).
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    throw new Error(`the page does not bundle for the browser:\n${errors.map((x) => `  ${x.location ? `${x.location.file}:${x.location.line}: ` : ''}${x.text}`).join('\n') || (e as Error).message}`);
  }
  return { code: out.outputFiles[0].text, inputs: Object.keys(out.metafile.inputs) };
}


async function createTerminal(url: string, adminToken: string): Promise<string> {
  const r = await fetch(`${url}/v1/admin/terminals`, {
    method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/x-protobuf' },
    body: Buffer.from(trusttap.attest.v1.CreateTerminalRequest.encode({ merchantId: 'M-BROWSER-01', terminalId: 'TBROWSE1' }).finish()),
  });
  if (r.status !== 201) throw new Error(`create terminal: HTTP ${r.status} ${r.headers.get('x-trusttap-error')}`);
  return trusttap.attest.v1.CreateTerminalResponse.decode(new Uint8Array(await r.arrayBuffer())).activationCode;
}

/** Where `needle` occurs in any body the page sent or received. */
const seenBy = (bridge: Bridge, needle: Uint8Array) => bridge.traffic.filter((t) => Buffer.from(t.bytes).includes(Buffer.from(needle)));

if (why && required) {
  describe('payment in headless Chromium', () => {
    it('needs Chromium (TRUSTTAP_REQUIRE_BROWSER=1)', () => {
      throw new Error(why);
    });
  });
}

describe.skipIf(!!why)(`payment in headless Chromium${why ? ` (skipped: ${why})` : ''}`, () => {
  const card = DEMO_CARDS.unionpay;
  let work = '';
  const person = new ScriptedUiProvider();
  // The trusted display draws the TA's pixels for the person; it keeps the first screen so the
  // test can save it and check that the drawing never reached the page.
  const shown: TuiScreen[] = [];
  const display: UiProvider = { open: (screen, sink) => { shown.push(screen); return person.open(screen, sink); } };
  let runtime: TeeRuntime;
  let bridge: Bridge;
  let backend: { child: ChildProcess; url: string };
  let context: BrowserContext;
  let page: Page;
  let inputs: string[];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tt-browser-'));
    const bundle = await bundlePage();
    inputs = bundle.inputs;
    const device = simulatedDevice(join(work, 'device'));
    runtime = await startRuntimeFromBuild({ dataDir: join(work, 'device'), bootState: device.bootState, ui: { standard: display } });
    bridge = await startBridge({
      runtime, card: card.make(),
      files: {
        '/': { type: 'text/html; charset=utf-8', body: readFileSync(join(PAGE_DIR, 'index.html'), 'utf8') },
        '/app.js': { type: 'text/javascript; charset=utf-8', body: bundle.code },
      },
    });
    const adminToken = randomBytes(18).toString('base64url');
    backend = await spawnServe(['--port', '0', '--data', join(work, 'backend'), '--admin-token', adminToken, '--cors-origin', bridge.origin, '--quiet']);
    bridge.config = {
      backendUrl: backend.url,
      activationCode: await createTerminal(backend.url, adminToken),
      terminalConfig: signedTestTerminalConfig(),
      terminalConfigKey: hex(testConfigSigningKey().publicKey),
      // CNY 1288.00: above UnionPay's CNY 1000 no-CVM limit, so online PIN on the trusted keypad.
      payment: { amount: 1288_00, currency: 'CNY', clientTransactionId: `browser-${Date.now().toString(36)}` },
    };
    person.enqueue(enterPin(card.pin));
    context = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
      executablePath: CHROMIUM, headless: true, viewport: { width: 640, height: 560 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${e.name}: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  });

  afterAll(async () => {
    await context?.close();
    backend?.child.kill('SIGTERM');
    if (backend && backend.child.exitCode === null) await new Promise((r) => backend.child.once('exit', r));
    await bridge?.close();
    runtime?.shutdown();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the page bundle holds the REE client only: no Node built-in, no TEE, no simulator, no back end', () => {
    const ours = inputs.filter((f) => !f.startsWith('node_modules/'));
    expect(ours).toContain('test/browser/page/app.ts');
    expect(ours.some((f) => f.startsWith('ree/terminal/'))).toBe(true);
    expect(ours.some((f) => f.startsWith('ree/emv/'))).toBe(true);
    expect(inputs.filter((f) => f.startsWith('node:') || /^(tee|tee-c|sim|backend|ta|cli|ree\/node)\//.test(f))).toEqual([]);
  });

  it('takes a payment in the page: approved, the PIN typed on the TEE side and never seen by the page', async () => {
    // Waits for a payment event on the page; a result shown first (an error) ends the wait with it.
    const until = async (event: string) => {
      await page.locator(`[data-event="${event}"], #result[data-outcome]`).first().waitFor({ timeout: 60_000 });
      if (await page.locator(`[data-event="${event}"]`).count() === 0) {
        throw new Error(`the page ended before "${event}": ${await page.locator('#result').innerText()}\n${pageErrors.join('\n')}`);
      }
    };
    await page.goto(`${bridge.origin}/`);
    try {
      // The customer: taps when the page asks for the card, takes it away when it says so.
      await until('card-requested');
      bridge.tap();
      await until('card-read');
      bridge.remove();
      await page.locator('#result[data-outcome]').waitFor({ timeout: 60_000 });
    } finally {
      mkdirSync(dirname(ARTIFACT), { recursive: true });
      await page.screenshot({ path: ARTIFACT, fullPage: true });
    }

    const outcome = await page.locator('#result').getAttribute('data-outcome');
    const text = await page.locator('#result').innerText();
    expect(pageErrors, pageErrors.join('\n')).toEqual([]);
    expect({ outcome, text }).toMatchObject({ outcome: 'approved' });
    expect(text).toMatch(/UnionPay|UNIONPAY/i);
    expect(text).toMatch(/\d{6}\*+\d{4}/); // the app sees a masked PAN only
    const events = await page.locator('[data-event]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.event));
    expect(events).toEqual(['card-requested', 'card-presented', 'card-read', 'pin-requested', 'pin-entered', 'processing']);

    // The kernel ran in the page: the page itself sent SELECT 2PAY.SYS.DDF01 to the card, and the
    // TEE requests came from it.
    const ppse = Uint8Array.from(Buffer.from('00A404000E325041592E5359532E444446303100', 'hex'));
    expect(seenBy(bridge, ppse).map((t) => `${t.path} ${t.direction}`)).toContain('/card/transceive from-page');
    expect(bridge.traffic.filter((t) => t.path === '/tee' && t.direction === 'from-page').length).toBeGreaterThan(10);
    // The PIN was typed by the person at the TEE's keypad, never in the page: it appears in no
    // body the page sent or received — neither as text nor as a clear ISO 9564 PIN field.
    expect(person.pending).toBe(0);
    expect(person.errors).toEqual([]);
    // The keypad was the TA's drawing, read by the person off its pixels (13 keys: ten digits,
    // CLEAR, OK, CANCEL); the drawing stayed on the TEE side.
    expect(shown.length).toBe(1);
    writeFileSync(KEYPAD_ARTIFACT, toPbm(shown[0]!));
    expect(readKeys(shown[0]!).map((k) => k.text).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'CANCEL', 'CLEAR', 'OK']);
    // (rows 10 to 13 of the drawing: the top row of digits, which differ with every layout)
    expect(seenBy(bridge, shown[0]!.pixels!.subarray(180, 252)).map((t) => t.path)).toEqual([]);
    const pin = card.pin;
    const field = (format: number, fill: string) => Buffer.from(`${format}${pin.length.toString(16)}${pin}`.padEnd(16, fill), 'hex');
    for (const needle of [Buffer.from(pin, 'ascii'), field(0, 'F'), field(4, 'A')]) {
      expect(seenBy(bridge, needle).map((t) => t.path), `PIN pattern ${hex(needle)} in the page's traffic`).toEqual([]);
    }
  });
});
