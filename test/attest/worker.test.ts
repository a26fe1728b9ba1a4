// The attest TA in worker isolation: the runtime's measurements and the OEM key reach the TA's
// worker, so identity, OEM chain and evidence are the same as in-process.
import { test, expect } from 'vitest';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { startDevice } from './device.ts';

test('worker isolation: OEM-certified identity and evidence carrying the runtime\'s measurements', async () => {
  const dev = await startDevice({ only: ['attest', 'keystore'], isolation: 'worker' });
  try {
    const id = await dev.attest.getIdentity();
    expect(id.publicKey.length).toBe(65);
    expect(id.chain?.certificates?.length).toBeGreaterThan(0);
    const nonce = new Uint8Array(32).fill(7);
    const ev = await dev.attest.getEvidence(nonce, dev.collector.collect());
    const body = trusttap.attest.v1.Evidence.decode(ev.evidence);
    expect(Buffer.from(body.nonce).equals(Buffer.from(nonce))).toBe(true);
    expect(Buffer.from(body.measurements!.manifestSha256 as Uint8Array).toString('hex')).toBe(dev.manifestSha256);
    expect(body.measurements!.tas!.map((t) => t.name).sort()).toEqual(['attest', 'keystore']);
  } finally {
    await dev.close();
  }
});
