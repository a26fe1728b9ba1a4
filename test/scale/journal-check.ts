// What must hold after nodes or the database primary died under load (test/scale/): every payment
// a client saw approved is in the journal once with the reference it was told, nothing approved
// that no client ended up seeing, each card debited once per approval (balance and ledger agree),
// and every approval in the whole journal has exactly one ledger movement.
import { expect } from 'vitest';
import type { PostgresRepository } from '../../backend/store/postgres.ts';
import type { IssuerSim } from '../../backend/issuer-sim/index.ts';
import type { PayingDevice, Outcome } from '../helpers/multinode.ts';

export async function checkJournal(repo: PostgresRepository, issuer: IssuerSim, devices: PayingDevice[], outcomes: (Outcome & { device: number })[], startBalance: number): Promise<void> {
  for (const [i, d] of devices.entries()) {
    const mine = outcomes.filter((o) => o.device === i && o.decision === 'approved');
    const rows = await repo.query('SELECT client_transaction_id AS ctid, reference, decision, amount_minor FROM payments WHERE device_id = $1', [d.link.state.deviceId]);
    for (const o of mine) {
      const r = rows.filter((x) => x.ctid === o.ctid);
      expect(r, o.ctid).toHaveLength(1);
      expect(r[0]).toMatchObject({ reference: o.reference, decision: 'approved', amount_minor: o.amount });
    }
    expect(rows.filter((x) => x.decision === 'approved').map((x) => x.ctid).sort()).toEqual(mine.map((o) => o.ctid).sort());
    const acct = (await issuer.account(d.pan))!;
    const moves = await repo.accountMovements(acct.panHash);
    expect(moves).toHaveLength(mine.length);
    expect(new Set(moves.map((m) => m.reference))).toEqual(new Set(mine.map((o) => o.reference)));
    expect(acct.balanceMinor).toBe(startBalance - mine.reduce((s, o) => s + o.amount, 0));
  }
  const orphans = await repo.query(`SELECT p.reference FROM payments p WHERE p.decision = 'approved' AND p.account_delta <> 0
    AND (SELECT COUNT(*) FROM account_movements m WHERE m.reference = p.reference) <> 1`);
  expect(orphans).toEqual([]);
}
