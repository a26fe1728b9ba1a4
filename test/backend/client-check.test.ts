// Issue 16 §2: backend/attestation/client-allowlist.ts's decision, every branch and boundary (a
// table, pinned for mutation testing: test/mutation/modules.json). The flows through the app API
// and the HTTP API are test/backend/client-allowlist.test.ts.
import { describe, test, expect } from 'vitest';
import { checkClient, describeClient } from '../../backend/attestation/client-allowlist.ts';
import type { ClientReleaseRow } from '../../backend/store/repository.ts';
import { policyFromManifests } from '../../backend/attestation/policy.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const a = trusttap.attest.v1;

describe('checkClient: each branch', () => {
  const sha = 'ab'.repeat(32);
  const row = (o: Partial<ClientReleaseRow> = {}): ClientReleaseRow => ({ acquirerId: 'default', name: 'trusttap-client', version: '1.0.0', sha256: sha, allowed: true, allowedMs: 1, revokedMs: 0, reason: '', ...o });
  const client = (o: Record<string, unknown> = {}) => ({ name: 'trusttap-client', version: '1.0.0', sha256: Buffer.from(sha, 'hex'), ...o });
  const ok = row();
  test.each([
    ['no release allowed: not checked', null, [], 'unchecked', null],
    ['no measurement', null, [row()], 'not_measured', /^the evidence carries no client measurement, and this acquirer allows only measured clients$/],
    ['no name', client({ name: '' }), [row()], 'not_measured', /^the evidence carries an incomplete client measurement \(name, version and a 32-byte SHA-256 are needed\), and/],
    ['no version', client({ version: '' }), [row()], 'not_measured', /incomplete/],
    ['31-byte hash', client({ sha256: new Uint8Array(31) }), [row()], 'not_measured', /incomplete/],
    ['33-byte hash', client({ sha256: new Uint8Array(33) }), [row()], 'not_measured', /incomplete/],
    ['no hash', client({ sha256: undefined }), [row()], 'not_measured', /incomplete/],
    ['another version', client({ version: '1.0.1' }), [row()], 'unknown', /^client trusttap-client 1\.0\.1 \(sha256 abababababababab…\) is not a release this acquirer allows$/],
    ['another name', client({ name: 'other' }), [row()], 'unknown', /^client other 1\.0\.0 /],
    ['revoked, with a reason', client(), [row({ allowed: false, reason: 'CVE-1' })], 'revoked', /^client trusttap-client 1\.0\.0 \(sha256 abababababababab…\) was revoked: CVE-1$/],
    ['revoked, no reason', client(), [row({ allowed: false })], 'revoked', /was revoked$/],
    ['one bit changed', client({ sha256: Buffer.from('aa' + sha.slice(2), 'hex') }), [row()], 'altered',
      /^client trusttap-client 1\.0\.0 \(sha256 aaababababababab…\) differs from the allowed trusttap-client 1\.0\.0 \(sha256 abababababababab…\): its code was changed$/],
    ['self-reported, platform only', client({ source: 1 }), [row()], 'self_reported', /^client trusttap-client 1\.0\.0 \(sha256 abababababababab…\) measured itself, and this acquirer accepts only clients its platform measured \(app attestation\)$/, true],
    ['no source, platform only', client(), [row()], 'self_reported', /measured itself/, true],
    ['platform-measured, platform only', client({ source: 2 }), [ok], 'ok', null, true],
    ['platform only, but unmeasured', null, [row()], 'not_measured', /no client measurement/, true],
    ['the allowed release among others', client(), [row({ version: '0.9.0', sha256: 'cd'.repeat(32) }), ok], 'ok', null],
  ] as const)('%s', (...args) => {
    const [, c, rows, want, detail] = args;
    const platformOnly = (args as unknown[])[5] === true;
    const d = checkClient(c as never, rows as unknown as ClientReleaseRow[], platformOnly);
    const got = !d.checked ? 'unchecked' : d.ok ? 'ok' : d.refusal;
    expect(got).toBe(want);
    if (d.checked && !d.ok) expect(d.detail).toMatch(detail!);
    if (d.checked && d.ok) expect(d.release).toBe(ok);
  });
});

test('the policy switch is off unless set, and a new policy version keeps it', () => {
  expect(policyFromManifests(0, []).clientPlatformMeasuredOnly).toBe(false);
  const on = a.Policy.create({ ...policyFromManifests(0, []), clientPlatformMeasuredOnly: true });
  expect(policyFromManifests(1, [], on).clientPlatformMeasuredOnly).toBe(true);
});

describe('describeClient', () => {
  test.each([
    [null, 'no client measurement'],
    [{ name: 'trusttap-client', version: '1.0.0', sha256: new Uint8Array(32).fill(0xab) }, 'trusttap-client 1.0.0 (sha256 abababababababab…)'],
    [{ name: '', version: '', sha256: new Uint8Array(0) }, '? ? (sha256 none)'],
  ])('%j', (c, want) => expect(describeClient(c)).toBe(want));
});
