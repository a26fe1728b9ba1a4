// Durability: `trusttap serve` in a child process is killed with SIGKILL while clients write to
// it; after a restart on the same data directory every record the back end acknowledged is
// there, and the database is consistent (each request's effects committed all or nothing) — for
// back-office writes, and (issue 17 §11) for payments and remote key injection.
import { test, expect } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { randomInt } from 'node:crypto';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { KeystoreClient } from '../../ree/tee-client/index.ts';
import { BackendLink } from '../../ree/attestation/backend-link.ts';
import { TEST_CARDS, panHash } from '../../backend/issuer-sim/index.ts';
import { newPhone, signedToken, pay, type Phone } from './phone.ts';

const a = trusttap.attest.v1;
const TOKEN = 'crash-test-admin-token';

function serve(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['bin/trusttap.mjs', 'serve', '--port', '0', '--data', dataDir, '--admin-token', TOKEN, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => { err += d; });
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

const admin = (url: string, method: string, path: string, body?: Uint8Array) =>
  fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` }, body: body ? Buffer.from(body) : undefined });

test('kill -9 under load: every acknowledged record survives the restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-crash-'));
  const first = await serve(dataDir);
  const acked: { deviceId: string; terminalId: string; state?: number }[] = [];
  let stop = false;
  let seq = 0;
  const worker = async (w: number) => {
    while (!stop) {
      const terminalId = `T-${w}-${seq++}`;
      try {
        const r = await admin(first.url, 'POST', '/v1/admin/terminals', a.CreateTerminalRequest.encode({ merchantId: 'M-CRASH', terminalId }).finish());
        if (r.status !== 201) continue;
        const t = a.CreateTerminalResponse.decode(new Uint8Array(await r.arrayBuffer()));
        const rec: { deviceId: string; terminalId: string; state?: number } = { deviceId: t.deviceId, terminalId };
        acked.push(rec);
        if (acked.length % 3 === 0) {
          // A second write to the same record: disable it (state + history + reason in one transaction).
          const s = await admin(first.url, 'POST', `/v1/admin/devices/${t.deviceId}/state`, a.SetDeviceStateRequest.encode({ state: a.DeviceState.DEVICE_STATE_DISABLED, reason: 'crash test' }).finish());
          if (s.status === 200) rec.state = a.DeviceState.DEVICE_STATE_DISABLED;
        }
      } catch {
        return; // the server is gone
      }
    }
  };
  const load = [0, 1, 2, 3].map(worker);
  while (acked.length < 150) await new Promise((r) => setTimeout(r, 20));
  const exited = new Promise((r) => first.child.once('exit', r));
  first.child.kill('SIGKILL');
  stop = true;
  await Promise.all(load);
  await exited;
  expect(acked.length).toBeGreaterThanOrEqual(150);

  const second = await serve(dataDir);
  try {
    for (const x of acked) {
      const r = await admin(second.url, 'GET', `/v1/admin/devices/${x.deviceId}`);
      expect(r.status, x.deviceId).toBe(200);
      const d = a.DeviceRecord.decode(new Uint8Array(await r.arrayBuffer()));
      expect(d.terminalId).toBe(x.terminalId);
      if (x.state) expect(d.state).toBe(x.state);
    }
  } finally {
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }
  // Consistency: every disabled device has its state change in the history (same transaction).
  const db = new Database(join(dataDir, 'backend.db'), { readonly: true });
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  const orphans = db.prepare(`SELECT COUNT(*) AS n FROM devices d WHERE d.state = 'disabled' AND NOT EXISTS
    (SELECT 1 FROM history h WHERE h.device_id = d.device_id AND h.detail LIKE 'registered -> disabled%')`).get() as { n: number };
  expect(orphans.n).toBe(0);
  db.close();
});

// Issue 17 §11: the same kill -9, where money moves. Phones pay through the real TEE and kernel
// and one phone takes remote key injections while `serve` is killed at a random moment. After
// the restart: every approval a client saw is journaled with its reference (none lost); each
// journaled approval moved its card's balance exactly once (ledger and journal agree, none
// doubled); a payment whose answer was lost resolves to one state on resend and status; every
// key the device's keystore took by RKI is one the back end recorded as sent, and a retried RKI
// completes (none half-injected).
test('kill -9 during payments and remote key injection: no approval lost or doubled, no key half-injected', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-crash-pay-'));
  let server = await serve(dataDir);
  const adminApi = {
    async createTerminal(merchantId: string, terminalId: string) {
      const r = await admin(server.url, 'POST', '/v1/admin/terminals', a.CreateTerminalRequest.encode({ merchantId, terminalId }).finish());
      if (r.status !== 201) throw new Error(`createTerminal: ${r.status}`);
      return a.CreateTerminalResponse.decode(new Uint8Array(await r.arrayBuffer()));
    },
  };
  const cards = ['unionpay', 'visa', 'mastercard'];
  const phones: Phone[] = [];
  for (let i = 0; i < cards.length; i++) phones.push(await newPhone(server.url, adminApi, `TCR${i}`));
  const keyPhone = await newPhone(server.url, adminApi, 'TCRK');
  const all = [...phones, keyPhone];
  try {
    type Seen = { phone: Phone; ctid: string; req: trusttap.payment.v1.IAuthorizeRequest; answer?: trusttap.payment.v1.AuthorizeResponse };
    const seen: Seen[] = [];
    const injected: { keyId: string; initialKeyId: string; kcv: string }[] = [];
    let rkiInterrupted = 0;
    let stop = false;
    const payLoop = async (p: Phone, card: string) => {
      while (!stop) {
        let token: Uint8Array;
        try { token = await signedToken(p); } catch { return; }
        const req = await p.payment(1_00, token, card);
        const s: Seen = { phone: p, ctid: trusttap.txsign.v1.TransactionRecord.decode(trusttap.txsign.v1.SignTransactionResponse.decode(req.signedTransaction!).record).clientTransactionId, req };
        seen.push(s);
        try { s.answer = await p.link.authorize(req); } catch { return; } // the answer is lost
      }
    };
    const rkiLoop = async () => {
      for (let n = 0; !stop; n++) {
        let got;
        try { await keyPhone.link.attestNow(); got = await keyPhone.link.injectKeys(); } catch { rkiInterrupted++; return; }
        const ks = await KeystoreClient.open(keyPhone.ctx);
        await ks.importKeyBlock(`rki-${n}`, got.kekKeyId, got.keys[0].tr31);
        await ks.close();
        injected.push({ keyId: `rki-${n}`, initialKeyId: Buffer.from(got.keys[0].initialKeyId).toString('hex'), kcv: Buffer.from(got.keys[0].kcv).toString('hex') });
      }
    };
    const load = [...phones.map((p, i) => payLoop(p, cards[i])), rkiLoop()];
    // A random moment: after 6..30 answered payments and at least one injection.
    const killAfter = 6 + randomInt(25);
    while (seen.filter((s) => s.answer).length < killAfter || injected.length < 1) await new Promise((r) => setTimeout(r, 5));
    const exited = new Promise((r) => server.child.once('exit', r));
    server.child.kill('SIGKILL');
    stop = true;
    await exited;
    await Promise.all(load);

    server = await serve(dataDir);
    for (const p of all) p.link = new BackendLink(server.url, p.link.attest, p.link.collector, { ...p.link.state });
    const approved = seen.filter((s) => s.answer?.decision === pay.Decision.DECISION_APPROVED);
    expect(approved.length).toBeGreaterThan(0);
    // None lost: every approval a client saw is in the journal, same reference, not reversed.
    for (const s of approved) {
      const st = await s.phone.link.transactionStatus(s.ctid);
      expect([st.found, st.reversed, st.result?.transactionReference, st.result?.decision], s.ctid).toEqual([true, false, s.answer!.transactionReference, pay.Decision.DECISION_APPROVED]);
    }
    // Lost answers: the resend and the status agree (journaled before the kill, or decided now).
    for (const s of seen.filter((x) => !x.answer)) {
      const again = await s.phone.link.authorize(s.req);
      const st = await s.phone.link.transactionStatus(s.ctid);
      expect(st.found, s.ctid).toBe(again.journaledMs.toString() !== '0');
      if (st.found) expect([st.result!.decision, st.result!.transactionReference]).toEqual([again.decision, again.transactionReference]);
    }
    // RKI: an injection cut by the kill is retried and completes.
    await keyPhone.link.attestNow();
    const retry = await keyPhone.link.injectKeys();
    const ks = await KeystoreClient.open(keyPhone.ctx);
    await ks.importKeyBlock('rki-retry', retry.kekKeyId, retry.keys[0].tr31);
    injected.push({ keyId: 'rki-retry', initialKeyId: Buffer.from(retry.keys[0].initialKeyId).toString('hex'), kcv: Buffer.from(retry.keys[0].kcv).toString('hex') });
    const held = (await ks.listKeys()).map((k) => k.keyId).filter((k) => k.startsWith('rki-'));
    await ks.close();
    expect(held.sort()).toEqual(injected.map((k) => k.keyId).sort());
    const hist = a.HistoryResponse.decode(new Uint8Array(await (await admin(server.url, 'GET', `/v1/admin/devices/${keyPhone.link.state.deviceId}/history`)).arrayBuffer())).entries;
    for (const k of injected) {
      expect(hist.some((h) => h.kind === 'key_injection' && (h.detail ?? '').includes(`initial key ${k.initialKeyId} sent (KCV ${k.kcv})`)), k.keyId).toBe(true);
    }
    void rkiInterrupted;
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    for (const p of all) await p.halt().catch(() => {});
  }
  // None doubled: each approved journal row has exactly one ledger movement with its reference
  // and amount, no movement lacks its journal row, and every balance is its ledger's sum.
  const db = new Database(join(dataDir, 'backend.db'), { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const bad = db.prepare(`SELECT p.reference, COUNT(m.id) AS n FROM payments p LEFT JOIN account_movements m ON m.reference = p.reference
      WHERE p.decision = 'approved' AND p.reversed_ms = 0 GROUP BY p.reference HAVING n <> 1 OR SUM(m.delta_minor) <> MIN(p.account_delta)`).all();
    expect(bad).toEqual([]);
    const orphans = db.prepare(`SELECT m.reference FROM account_movements m WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.reference = m.reference AND p.decision = 'approved')`).all();
    expect(orphans).toEqual([]);
    const declinedMoved = db.prepare(`SELECT p.reference FROM payments p JOIN account_movements m ON m.reference = p.reference WHERE p.decision = 'declined'`).all();
    expect(declinedMoved).toEqual([]);
    for (const c of TEST_CARDS.filter((x) => ['unionpay', 'visa', 'mastercard'].includes(x.name))) {
      const h = panHash(c.pan);
      const { balance } = db.prepare('SELECT balance_minor AS balance FROM card_accounts WHERE pan_hash = ?').get(h) as { balance: number };
      const { moved } = db.prepare('SELECT COALESCE(SUM(delta_minor), 0) AS moved FROM account_movements WHERE pan_hash = ?').get(h) as { moved: number };
      expect(balance, c.name).toBe(c.balanceMinor + moved);
    }
  } finally {
    db.close();
  }
}, 240_000);
