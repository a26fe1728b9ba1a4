// The console's journal, reversal and plots on real payments (a phone as the demo runs one:
// reference TEE, simulated UnionPay card, the app API): search by reference, client transaction
// id, device, outcome and date; the detail with the masked PAN only; reversal from the console
// with who and why; per-minute counts by outcome and decline reason.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBackend, type Backend } from './harness.ts';
import { startPhone, type Phone } from '../helpers/phone.ts';
import { DEMO_CARDS } from '../../sim/demo-cards.ts';

describe('console journal on real payments', () => {
  let be: Backend;
  let phone: Phone;
  let work = '';
  let cookie = '', csrf = '';
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${be.url}/console/api/${path}`, {
      method, headers: { cookie, ...(method === 'GET' ? {} : { 'content-type': 'application/json', 'x-csrf-token': csrf }) },
      body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
    });
    return { status: r.status, json: await r.json() as any };
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tt-console-journal-'));
    be = await startTestBackend({ dataDir: join(work, 'backend') });
    phone = await startPhone({ backendUrl: be.url, adminToken: be.adminToken, dataDir: work, merchantId: 'M-JOURNAL', terminalId: 'TJOURNAL' });
    const r = await fetch(`${be.url}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ adminToken: be.adminToken }) });
    cookie = r.headers.get('set-cookie')!.split(';')[0]!;
    csrf = ((await r.json()) as { csrfToken: string }).csrfToken;
  }, 120_000);
  afterAll(async () => { await phone?.close(); await be?.close(); if (work) rmSync(work, { recursive: true, force: true }); });

  it('finds payments, shows the masked PAN only, reverses from the console, counts them', async () => {
    const t0 = Date.now();
    expect((await phone.pay('journal-1')).outcome).toBe('approved');
    const over = await phone.pay('journal-2', { wrongPin: true });
    expect(over.outcome).toBe('declined');
    expect((await phone.pay('journal-3', { amountMinor: 12_00 })).outcome).toBe('approved'); // below the CVM limit: no PIN

    const all = (await call('GET', `payments?device=${phone.deviceId}`)).json;
    expect(all.map((p: any) => [p.clientTransactionId, p.outcome])).toEqual([['journal-3', 'approved'], ['journal-2', 'declined'], ['journal-1', 'approved']]);
    expect(all[1].reason).toBe((over as { reason: string }).reason);
    const first = all[2];
    expect(first).toMatchObject({ amount: 'CNY 1288.00', maskedPan: expect.stringMatching(/^622848\*+0017$/), outcome: 'approved' });
    expect(JSON.stringify(all)).not.toContain(DEMO_CARDS.unionpay.pan);
    expect(JSON.stringify(all)).not.toMatch(/panHash|recordSha256|"response"/);

    expect((await call('GET', `payments?reference=${first.reference}`)).json.map((p: any) => p.clientTransactionId)).toEqual(['journal-1']);
    expect((await call('GET', 'payments?ctid=journal-3')).json.map((p: any) => p.amount)).toEqual(['CNY 12.00']);
    expect((await call('GET', `payments?device=${phone.deviceId}&outcome=declined`)).json.map((p: any) => p.clientTransactionId)).toEqual(['journal-2']);
    expect((await call('GET', `payments?from=${Date.now() + 60_000}`)).json).toEqual([]);
    expect((await call('GET', `payments?from=${t0}&to=${Date.now() + 1}`)).json.length).toBe(3);

    // Reversal from the console: with a reason, once; a decline cannot be reversed.
    expect((await call('POST', `payments/${phone.deviceId}/journal-1/reverse`, {})).status).toBe(400);
    const rev = await call('POST', `payments/${phone.deviceId}/journal-1/reverse`, { reason: 'customer charged twice' });
    expect(rev.status).toBe(200);
    expect(rev.json).toMatchObject({ outcome: 'reversed', reasonText: 'reversed' });
    expect((await call('POST', `payments/${phone.deviceId}/journal-1/reverse`, { reason: 'again' })).status).toBe(409);
    expect((await call('POST', `payments/${phone.deviceId}/journal-2/reverse`, { reason: 'a decline' })).status).toBe(409);
    const details = (await be.service.repo.history(phone.deviceId)).map((h) => h.detail);
    expect(details).toContain(`${first.reference}: reversal by the back office: customer charged twice (by admin token)`);
    expect(details.some((d) => d.startsWith(`journal-1 ${first.reference}: reversed`))).toBe(true);
    // The phone asking about its payment sees the reversal too (one journal).
    const status = await phone.terminal.resolve('journal-1');
    expect(status.outcome).toBe('reversed');
    expect((await call('GET', `payments?device=${phone.deviceId}&outcome=reversed`)).json.map((p: any) => p.clientTransactionId)).toEqual(['journal-1']);

    const s = (await call('GET', 'stats?minutes=10')).json;
    const count = (outcome: string, reason?: string) => s.payments.filter((r: any) => r.outcome === outcome && (!reason || r.reason === reason)).reduce((n: number, r: any) => n + r.n, 0);
    expect([count('approved'), count('reversed'), count('declined', (over as { reason: string }).reason)]).toEqual([1, 1, 1]);
  }, 180_000);
});
