// The operators' console in a real browser (issue 12 §1): `trusttap serve` as an operator runs
// it, the page built by `trusttap build` (build/console/), Debian's headless Chromium driven by
// playwright-core (nothing downloaded). A phone — the reference TEE with the signed TAs, a
// simulated UnionPay card, the app API as the demo uses it — pays; in the console the admin sees
// the device and the payment in the journal, suspends the device (the next payment fails
// DEVICE_NOT_TRUSTED), resumes it (the phone attests again and pays); a viewer account, made with
// `trusttap operator add`, cannot suspend — the page offers no action and the server refuses the
// route. axe-core runs on every section: no serious or critical violation. Screenshots:
// .data/artifacts/console-*.png. Without /usr/bin/chromium (or $TRUSTTAP_CHROMIUM) it skips and
// says why, unless TRUSTTAP_REQUIRE_BROWSER=1 (CI), where that is a failure.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServe } from '../helpers/serve.ts';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEMO_CARDS } from '../../sim/demo-cards.ts';
import { CONSOLE_DIR } from '../../backend/console/routes.ts';
import { startPhone, type Phone } from '../helpers/phone.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.TRUSTTAP_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, '.data/artifacts');
const required = process.env.TRUSTTAP_REQUIRE_BROWSER === '1';
const why = !existsSync(CHROMIUM) ? `${CHROMIUM} not found (Debian: apt-get install chromium, or .ci/setup-browser.sh)`
  : !existsSync(join(CONSOLE_DIR, 'app.js')) ? `the console is not built (${CONSOLE_DIR}): run npm run build` : '';
if (why && !required) console.warn(`console browser test skipped: ${why}`);
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const VIEWER_PASSWORD = `viewer-${randomBytes(9).toString('base64url')}`;


/** axe-core in the page (evaluated, so the page's CSP does not apply): serious and critical violations. */
async function axe(page: Page, what: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const { checked, violations } = await page.evaluate(async () => {
    const r = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return {
      checked: r.passes.length + r.violations.length,
      violations: r.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
        .map((v: any) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n: any) => n.target.join(' ')).join(', ')}`) as string[],
    };
  });
  expect(checked, `axe-core ran no rule on ${what}`).toBeGreaterThan(10);
  return violations.map((v: string) => `${what}: ${v}`);
}

if (why && required) {
  describe('operators\' console in headless Chromium', () => {
    it('needs Chromium and the built console (TRUSTTAP_REQUIRE_BROWSER=1)', () => { throw new Error(why); });
  });
}

describe.skipIf(!!why)(`operators' console in headless Chromium${why ? ` (skipped: ${why})` : ''}`, () => {
  const card = DEMO_CARDS.unionpay;
  const adminToken = randomBytes(18).toString('base64url');
  let work = '';
  let backend: { child: ChildProcess; url: string };
  let phone: Phone;
  let browser: Browser;
  let deviceId = '';
  const pageErrors: string[] = [];
  const violations: string[] = [];

  async function shot(page: Page, name: string) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
  }

  async function signIn(page: Page, how: { token: string } | { username: string; password: string }) {
    await page.goto(`${backend.url}/console`);
    if ('token' in how) {
      await page.getByRole('radio', { name: 'the admin token' }).check();
      await page.getByLabel('Admin token', { exact: true }).fill(how.token);
    } else {
      await page.getByLabel('Username').fill(how.username);
      await page.getByLabel('Password').fill(how.password);
    }
    await page.getByRole('button', { name: 'Sign in' }).press('Enter'); // keyboard, not a click
    await page.getByText('Signed in as').waitFor();
  }

  const section = (page: Page, name: string) => page.getByRole('navigation', { name: 'Console sections' }).getByRole('button', { name }).click();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tt-console-'));
    backend = await spawnServe(['--port', '0', '--data', join(work, 'backend'), '--admin-token', adminToken, '--quiet']);
    // A viewer account, as an operations team adds one: the password on standard input.
    const add = spawnSync(process.execPath, [join(ROOT, 'bin/trusttap.mjs'), 'operator', 'add', 'victor', '--role', 'viewer', '--data', join(work, 'backend')],
      { cwd: ROOT, input: `${VIEWER_PASSWORD}\n`, encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`trusttap operator add: ${add.stderr}`);
    expect(add.stdout + add.stderr).not.toContain(VIEWER_PASSWORD);

    phone = await startPhone({ backendUrl: backend.url, adminToken, dataDir: work, merchantId: 'M-CONSOLE-01', terminalId: 'TCONSOLE' });
    deviceId = phone.deviceId;
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await phone?.close();
    backend?.child.kill('SIGTERM');
    if (backend && backend.child.exitCode === null) await new Promise((r) => backend.child.once('exit', r));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('an admin sees the paying device and its payment, suspends it (the next payment fails DEVICE_NOT_TRUSTED), resumes it (the phone pays again)', async () => {
    const first = await phone.pay('console-pay-1');
    expect(first.outcome).toBe('approved');

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${e.name}: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error' && !/401/.test(m.text())) pageErrors.push(m.text()); });
    await page.goto(`${backend.url}/console`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    violations.push(...await axe(page, 'sign-in'));
    await shot(page, 'sign-in');
    await signIn(page, { token: adminToken });

    // Devices: the phone that paid, then its record.
    const row = page.getByRole('row').filter({ hasText: deviceId });
    await expect.poll(() => row.textContent()).toContain('M-CONSOLE-01 / TCONSOLE');
    await page.getByRole('button', { name: `Open device ${deviceId}` }).click();
    const detail = page.getByTestId('device-detail');
    await expect.poll(() => detail.getByTestId('detail-state').textContent()).toBe('active');
    const text = await detail.textContent();
    expect(text).toContain('198.51.100.7');
    expect(text).toContain('22.5431, 114.0579');
    expect(text).toMatch(/allow at .*all checks passed/);
    expect(text).toMatch(/6228\d\d\*+0017/); // its payment, masked
    violations.push(...await axe(page, 'devices'));
    await shot(page, 'device');

    // The journal: the payment, found by device; its detail shows the masked PAN only.
    await section(page, 'Journal');
    await page.getByLabel('Device').fill(deviceId);
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByTestId('payment-outcome').allTextContents()).toEqual(['approved']);
    await page.getByRole('button', { name: /^Open payment / }).click();
    const payment = await page.getByTestId('payment-detail').textContent();
    expect(payment).toMatch(/6228\d\d\*+0017/);
    expect(payment).not.toContain(card.pan);
    expect(payment).toContain('console-pay-1');
    violations.push(...await axe(page, 'journal'));
    await shot(page, 'journal');

    // Suspend from the console, with a reason.
    await page.getByRole('button', { name: `Open device ${deviceId}` }).click();
    await expect.poll(() => page.getByTestId('detail-state').textContent()).toBe('active');
    await page.getByLabel(/^Reason/).fill('merchant reported the phone stolen');
    await page.getByRole('button', { name: 'Suspend' }).click();
    await expect.poll(() => page.getByTestId('detail-state').textContent()).toBe('suspended');
    expect(await page.getByTestId('device-detail').textContent()).toContain('active -> suspended: merchant reported the phone stolen (by admin token)');

    const refused = await phone.pay('console-pay-2');
    expect(refused.outcome).toBe('failed');
    expect((refused as { code: string }).code).toBe('DEVICE_NOT_TRUSTED');

    // The alert is there as it happened.
    await section(page, 'Alerts');
    await expect.poll(() => page.getByRole('table', { name: 'Alerts and notices' }).textContent()).toContain('DEVICE_SUSPENDED');
    violations.push(...await axe(page, 'alerts'));
    await shot(page, 'alerts');

    // Resume; the phone attests again and pays.
    await page.getByRole('button', { name: `Open device ${deviceId}` }).first().click();
    await expect.poll(() => page.getByTestId('detail-state').textContent()).toBe('suspended');
    await page.getByLabel(/^Reason/).fill('phone found, checked by the merchant');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.getByTestId('detail-state').textContent()).toBe('active');
    await phone.terminal.prepare();
    const again = await phone.pay('console-pay-3');
    expect(again.outcome).toBe('approved');

    await section(page, 'Journal');
    await page.getByLabel('Device').fill(deviceId);
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByTestId('payment-outcome').allTextContents()).toEqual(['approved', 'approved']);
    // The newest is reversed from the console, with a reason.
    await page.getByRole('button', { name: /^Open payment / }).first().click();
    expect(await page.getByTestId('payment-detail').textContent()).toContain('console-pay-3');
    await page.getByLabel('Reason for the reversal').fill('customer charged twice');
    await page.getByRole('button', { name: 'Reverse' }).click();
    await expect.poll(() => page.getByTestId('payment-outcome').allTextContents()).toEqual(['reversed', 'approved']);
    expect(await page.getByTestId('payment-detail').textContent()).toMatch(/reversed at/);

    await section(page, 'Policy');
    await page.getByRole('heading', { name: /Attestation policy of acquirer default — version/ }).waitFor();
    // A change that would suspend the phone: the preview names it, nothing is rolled out.
    await page.getByLabel('Runtime versions (comma-separated)').fill('9.9.9');
    await page.getByRole('button', { name: 'Preview these tunables' }).click();
    const affected = page.getByRole('table', { name: 'Affected devices' });
    await expect.poll(() => affected.textContent()).toContain(deviceId);
    expect(await affected.textContent()).toMatch(/allow.*suspend.*runtime version 0\.1\.0 is not allowed/);
    violations.push(...await axe(page, 'policy'));
    await shot(page, 'policy');
    // A harmless one is rolled out, with a reason.
    await page.getByLabel('Runtime versions (comma-separated)').fill('0.1.0');
    await page.getByLabel('Heartbeat timeout (ms)').fill('960000');
    await page.getByRole('button', { name: 'Preview these tunables' }).click();
    await expect.poll(() => page.getByTestId('policy-preview').textContent()).toContain('heartbeatTimeoutMs: 900000 → 960000');
    await page.getByTestId('policy-preview').getByLabel('Reason').fill('fewer false alarms on weak networks');
    await page.getByRole('button', { name: 'Roll out version 2' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('policy version 2 rolled out');

    await section(page, 'Plots');
    await expect.poll(() => page.getByRole('list', { name: 'Authorizations per minute by outcome: totals' }).textContent()).toContain('approved: 1');
    expect(await page.getByRole('list', { name: 'Authorizations per minute by outcome: totals' }).textContent()).toContain('reversed: 1');
    await page.locator('.uplot').first().waitFor();
    expect(await page.locator('.uplot canvas').count()).toBe(3);
    violations.push(...await axe(page, 'plots'));
    await shot(page, 'plots');

    await section(page, 'Devices');
    await page.getByRole('button', { name: `Open device ${deviceId}` }).click();
    await page.getByTestId('device-detail').waitFor();
    await shot(page, 'overview');
    await context.close();
    expect(pageErrors, pageErrors.join('\n')).toEqual([]);
  }, 240_000);

  it('a viewer cannot suspend: the page offers no action and the server refuses the route', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, { username: 'victor', password: VIEWER_PASSWORD });
    await page.getByRole('button', { name: `Open device ${deviceId}` }).click();
    await expect.poll(() => page.getByTestId('detail-state').textContent()).toBe('active');
    expect(await page.getByRole('button', { name: 'Suspend' }).isDisabled()).toBe(true);
    expect(await page.getByTestId('viewer-note').textContent()).toContain('viewer');
    violations.push(...await axe(page, 'viewer'));
    await shot(page, 'viewer');
    // The route itself, called from the signed-in page with the session's CSRF token.
    const answer = await page.evaluate(async (id) => {
      const me = await (await fetch('/console/api/session')).json();
      const r = await fetch(`/console/api/devices/${id}/suspend`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken }, body: JSON.stringify({ reason: 'viewer tries' }) });
      return { status: r.status, body: await r.json() };
    }, deviceId);
    expect(answer.status).toBe(403);
    expect(answer.body.message).toMatch(/viewer may not/);
    await page.reload();
    await page.getByRole('button', { name: `Open device ${deviceId}` }).click();
    await expect.poll(() => page.getByTestId('detail-state').textContent()).toBe('active');
    await context.close();
  }, 120_000);

  it('axe-core finds no serious or critical violation in any section', () => {
    expect(violations, violations.join('\n')).toEqual([]);
  });
});
