// Issue 17 §1: a whole-storage rollback. The phone's entire TEE state — the sealed objects AND
// the simulated RPMB image — is copied, a payment is made, and the copy is put back (the TEE is
// restarted on it, as after restoring a flash image). Inside the device nothing can notice: the
// RPMB's write counter went back with its image. The back end notices, because it witnessed the
// counters: the txsign record counter and the DUKPT KSN of the next payment were used before, and
// the next attestation (the one before PIN entry included) carries a lower RPMB write counter and
// a lower pinpad entry epoch. Each is refused, and the device is suspended with the reason.
import { test, expect, beforeAll, afterAll } from 'vitest';
import { enterPin as types } from '../../tee/index.ts';
import { enterPin } from '../../ree/pin/pin-entry.ts';
import { startTestBackend, Admin, tid, a, type Backend } from './harness.ts';
import { newPhone, signedToken, pay, unionpay } from './phone.ts';

let be: Backend;
let admin: Admin;
beforeAll(async () => { be = await startTestBackend(); admin = new Admin(be); }, 60_000);
afterAll(async () => { await be?.close(); });


test('txsign and DUKPT: after a whole-storage restore the next payment reuses a record counter and a KSN: refused, device suspended', async () => {
  const p = await newPhone(be.url, admin, tid());
  try {
    const token = await signedToken(p);
    const copy = await p.snapshot();
    const first = await p.link.authorize(await p.payment(10_00, token));
    expect(pay.Decision[first.decision], first.reasonText).toBe('DECISION_APPROVED');

    await p.restore(copy);
    // The same verdict token (still fresh): no attestation in between, so the payment path alone
    // must catch it.
    const second = await p.link.authorize(await p.payment(11_00, token));
    expect([pay.Decision[second.decision], pay.DeclineReason[second.reason]]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_INVALID_TRANSACTION']);
    expect(second.reasonText).toMatch(/rollback: txsign record counter \d+ already numbered payment rb-/);
    expect(second.reasonText).toMatch(/rollback: DUKPT data\/MAC KSN counter \(key [0-9a-f]{16}\) \d+ is not above the \d+ seen before/);
    expect(second.journaledMs.toString()).toBe('0'); // nothing journaled, nothing charged

    const rec = await admin.device(p.link.state.deviceId);
    expect(a.DeviceState[rec.state]).toBe('DEVICE_STATE_SUSPENDED');
    expect(rec.stateReason).toMatch(/rollback: txsign record counter/);
    expect((await admin.history(p.link.state.deviceId)).some((h) => h.kind === 'rule' && /rollback/.test(h.detail ?? ''))).toBe(true);
    // And stays refused: the next payment on the restored device is declined as not allowed.
    const third = await p.link.authorize(await p.payment(12_00, token));
    expect(pay.DeclineReason[third.reason]).toBe('DECLINE_REASON_DEVICE_NOT_ALLOWED');
  } finally {
    await p.halt();
  }
}, 120_000);

test('PIN tries: after a whole-storage restore the attestation before PIN entry carries a lower RPMB write counter and pinpad epoch: refused, device suspended', async () => {
  const p = await newPhone(be.url, admin, tid());
  try {
    const copy = await p.snapshot();
    // A PIN entry (its nonce opens a new pinpad epoch, its sealed state is written) and a payment.
    p.person.enqueue(types('1234'));
    const entry = await enterPin(p.ctx, {
      pan: unionpay.pan, amountMinor: 25_00, currency: 'CNY', keySetId: 'dukpt',
      attest: async (nonce) => (await p.link.attestNow(nonce)).signed,
    });
    expect(entry.kind).toBe('pin-block');
    const ok = await p.link.authorize(await p.payment(10_00, await signedToken(p)));
    expect(pay.Decision[ok.decision], ok.reasonText).toBe('DECISION_APPROVED');

    await p.restore(copy);
    // The restored pinpad has its old try counter and epoch; the attestation it needs first is
    // refused by the back end, so no PIN entry opens.
    p.person.enqueue(types('1234'));
    const again = await enterPin(p.ctx, {
      pan: unionpay.pan, amountMinor: 25_00, currency: 'CNY', keySetId: 'dukpt',
      attest: async (nonce) => (await p.link.attestNow(nonce)).signed,
    });
    expect(again.kind).not.toBe('pin-block');
    const rec = await admin.device(p.link.state.deviceId);
    expect(a.DeviceState[rec.state]).toBe('DEVICE_STATE_SUSPENDED');
    expect(rec.stateReason).toMatch(/rollback: RPMB write counter \d+ is below the \d+ seen before/);
    expect(rec.stateReason).toMatch(/rollback: pinpad entry epoch \d+ is not above the \d+ seen before/);
  } finally {
    await p.halt();
  }
}, 120_000);
