// Issue 17 §10 revocations in the attestation policy (backend/attestation/policy.ts), one row per
// decision (issue 18: the mutation score of policy.ts): the validation of the revocation lists an
// administrator sends (checkRevocations), a revoked manifest and the per-TA version floors in the
// measurements (assessMeasurements, olderThan: exactly the floor, one below, an unparsable
// version), and the merge of a PUT into the policy in force (unionBytes, raiseFloors: a floor is
// only ever raised, a revoked manifest never un-revoked).
import { describe, expect, it } from 'vitest';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { assessMeasurements, checkRevocations, policyFromManifests, raiseFloors, unionBytes, verdictOf, type Policy } from '../../backend/attestation/policy.ts';
import { LoadError } from '../../common/load-error.ts';
import type { Manifest, ManifestTa } from '../../common/manifest.ts';

const a = trusttap.attest.v1;
const sha = (b: number) => 'ab'.repeat(31) + b.toString(16).padStart(2, '0');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
// Every group has both a digit and a letter, so a character class missing either one refuses it.
const UUID_ATTEST = '1a2b3c4d-5e6f-7a8b-9c0d-e1f2a3b4c5d6';
const UUID_PIN = 'a0b1c2d3-e4f5-a6b7-c8d9-e0f1a2b3c4d5';
const uuidBytes = (u: string) => bytes(u.replace(/-/g, ''));
const M1 = sha(1), M2 = sha(2);

const ta = (name: string, uuid: string, s: string) => ({ name, uuid, version: '1.0.0', sha256: s, debug: false }) as unknown as ManifestTa;
const basePolicy = (o: Partial<trusttap.attest.v1.IPolicy> = {}): Policy => a.Policy.create({
  ...policyFromManifests(3, [{ manifest: { tas: [ta('attest', UUID_ATTEST, sha(10)), ta('pinpad', UUID_PIN, sha(11))] } as unknown as Manifest, sha256: M1 }]),
  ...o,
});
const measured = (pinpadVersion: string | null | undefined, o: Partial<trusttap.attest.v1.IMeasurements> = {}): trusttap.attest.v1.IMeasurements => ({
  runtimeVersion: '0.1.0', bootState: a.BootState.BOOT_STATE_VERIFIED, manifestSha256: bytes(M1),
  tas: [
    { name: 'attest', uuid: uuidBytes(UUID_ATTEST), sha256: bytes(sha(10)), version: '1.0.0' },
    { name: 'pinpad', uuid: uuidBytes(UUID_PIN), sha256: bytes(sha(11)), version: pinpadVersion },
  ],
  ...o,
});
const below = (version: string | null | undefined, floor: string) => `suspend: revoked: TA pinpad version ${version} is below the minimum ${floor} the policy accepts`;

describe('checkRevocations: the lists an administrator sends', () => {
  const ok: Array<[string, trusttap.attest.v1.IPolicy]> = [
    ['no lists at all', {}],
    ['empty lists', { revokedManifestSha256: [], taMinVersions: [] }],
    ['a 32-byte manifest hash', { revokedManifestSha256: [bytes(M1), bytes(M2)] }],
    ['a lower-case UUID and a version', { taMinVersions: [{ uuid: UUID_ATTEST, minVersion: '1.2.3' }] }],
    ['each version form', { taMinVersions: [{ uuid: UUID_ATTEST, minVersion: '1' }, { uuid: UUID_PIN, minVersion: '1.2' }, { uuid: UUID_PIN, minVersion: '1.2.3-rc.1' }] }],
    ['a UUID of digits only', { taMinVersions: [{ uuid: '01234567-8901-2345-6789-012345678901', minVersion: '1' }] }],
    ['a UUID of letters only', { taMinVersions: [{ uuid: 'abcdefab-cdef-abcd-efab-cdefabcdefab', minVersion: '1' }] }],
  ];
  for (const [what, p] of ok) it(`takes ${what}`, () => expect(() => checkRevocations(p)).not.toThrow());

  const hashMessage = 'revoked_manifest_sha256 entries are 32-byte SHA-256 values';
  const badHash: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['31 bytes', new Uint8Array(31)],
    ['33 bytes', new Uint8Array(33)],
    ['a hex string’s 64 bytes', new TextEncoder().encode(M1)],
  ];
  for (const [what, h] of badHash) {
    it(`refuses a revoked manifest hash of ${what}`, () => {
      expect(() => checkRevocations({ revokedManifestSha256: [bytes(M1), h] })).toThrow(new Error(hashMessage));
    });
  }

  const badUuid: Array<[string, string | null | undefined]> = [
    ['no UUID', undefined],
    ['a null UUID', null],
    ['an empty UUID', ''],
    ['upper case', UUID_ATTEST.toUpperCase()],
    ['no dashes', UUID_ATTEST.replace(/-/g, '')],
    ['braces', `{${UUID_ATTEST}}`],
    ['a character before', `x${UUID_ATTEST}`],
    ['a character after', `${UUID_ATTEST}x`],
    ['a non-hex letter', UUID_ATTEST.replace('1a', '1g')],
    ['group 1 one short', '1a2b3c4-5e6f-7a8b-9c0d-e1f2a3b4c5d6'],
    ['group 1 one long', '1a2b3c4d0-5e6f-7a8b-9c0d-e1f2a3b4c5d6'],
    ['group 2 one short', '1a2b3c4d-5e6-7a8b-9c0d-e1f2a3b4c5d6'],
    ['group 2 one long', '1a2b3c4d-5e6f0-7a8b-9c0d-e1f2a3b4c5d6'],
    ['group 3 one short', '1a2b3c4d-5e6f-7a8-9c0d-e1f2a3b4c5d6'],
    ['group 3 one long', '1a2b3c4d-5e6f-7a8b0-9c0d-e1f2a3b4c5d6'],
    ['group 4 one short', '1a2b3c4d-5e6f-7a8b-9c0-e1f2a3b4c5d6'],
    ['group 4 one long', '1a2b3c4d-5e6f-7a8b-9c0d0-e1f2a3b4c5d6'],
    ['group 5 one short', '1a2b3c4d-5e6f-7a8b-9c0d-e1f2a3b4c5d'],
    ['group 5 one long', '1a2b3c4d-5e6f-7a8b-9c0d-e1f2a3b4c5d60'],
  ];
  for (const [what, uuid] of badUuid) {
    it(`refuses a TA floor with ${what}`, () => {
      expect(() => checkRevocations({ taMinVersions: [{ uuid: UUID_PIN, minVersion: '1' }, { uuid, minVersion: '1.0.0' }] }))
        .toThrow(new Error(`ta_min_versions: ${JSON.stringify(uuid)} is not a lower-case UUID`));
    });
  }

  const badVersion: Array<[string, string | null | undefined]> = [
    ['no version', undefined],
    ['an empty version', ''],
    ['a word', 'latest'],
    ['a leading v', 'v1.0.0'],
    ['four numbers', '1.2.3.4'],
  ];
  for (const [what, minVersion] of badVersion) {
    it(`refuses a TA floor with ${what}`, () => {
      let err: unknown;
      try { checkRevocations({ taMinVersions: [{ uuid: UUID_ATTEST, minVersion }] }); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(LoadError);
      expect((err as LoadError).code).toBe('BAD_MANIFEST');
      expect((err as LoadError).message).toContain(JSON.stringify(minVersion ?? ''));
    });
  }
});

describe('a revoked manifest suspends', () => {
  it('even when it is also on the allowed list, and says so (not "not allowed")', () => {
    const p = basePolicy({ revokedManifestSha256: [bytes(M2), bytes(M1)] });
    const r = assessMeasurements(measured('1.0.0'), p);
    expect(r).toEqual([`suspend: revoked: the TAs were loaded from manifest ${M1.slice(0, 16)}…, which is revoked`]);
    expect(verdictOf(r).verdict).toBe('suspend');
  });
  it('another manifest revoked changes nothing', () => {
    expect(assessMeasurements(measured('1.0.0'), basePolicy({ revokedManifestSha256: [bytes(M2)] }))).toEqual([]);
  });
  it('a manifest neither allowed nor revoked is "not allowed"', () => {
    expect(assessMeasurements(measured('1.0.0', { manifestSha256: bytes(M2) }), basePolicy({ revokedManifestSha256: [bytes(sha(3))] })))
      .toEqual(['suspend: the TAs were not loaded from an allowed signed manifest']);
  });
  it('a policy object without the revocation lists (an older stored policy) revokes nothing', () => {
    const old = { ...basePolicy(), revokedManifestSha256: undefined, taMinVersions: undefined } as unknown as Policy;
    expect(assessMeasurements(measured('0.0.1'), old)).toEqual([]);
  });
});

describe('TA version floors', () => {
  const floor = (uuid: string | null | undefined, minVersion: string | null | undefined) => basePolicy({ taMinVersions: [{ uuid, minVersion }] });
  const table: Array<[string, string | null | undefined, Policy, string[]]> = [
    ['no floor', '0.0.1', basePolicy(), []],
    ['exactly the floor', '1.2.3', floor(UUID_PIN, '1.2.3'), []],
    ['the floor written shorter', '1.2.0', floor(UUID_PIN, '1.2'), []],
    ['one patch below', '1.2.2', floor(UUID_PIN, '1.2.3'), [below('1.2.2', '1.2.3')]],
    ['one minor below', '1.1.9', floor(UUID_PIN, '1.2.0'), [below('1.1.9', '1.2.0')]],
    ['one major below', '0.9.9', floor(UUID_PIN, '1.0.0'), [below('0.9.9', '1.0.0')]],
    ['a pre-release of the floor', '1.2.3-rc.1', floor(UUID_PIN, '1.2.3'), [below('1.2.3-rc.1', '1.2.3')]],
    ['one patch above', '1.2.4', floor(UUID_PIN, '1.2.3'), []],
    ['a major above with lower minor', '2.0.0', floor(UUID_PIN, '1.9.9'), []],
    ['an unparsable version', 'latest', floor(UUID_PIN, '0.0.1'), [below('latest', '0.0.1')]],
    ['no version measured', undefined, floor(UUID_PIN, '0.0.1'), [below(undefined, '0.0.1')]],
    ['a null version measured', null, floor(UUID_PIN, '0.0.1'), [below(null, '0.0.1')]],
    ['the floor of another TA', '0.0.1', floor('00000000-0000-0000-0000-000000000000', '9.0.0'), []],
    ['a floor in upper case with dashes', '1.0.0', floor(UUID_PIN.toUpperCase(), '2.0.0'), [below('1.0.0', '2.0.0')]],
    ['a floor without dashes', '1.0.0', floor(UUID_PIN.replace(/-/g, ''), '2.0.0'), [below('1.0.0', '2.0.0')]],
    ['a floor with no minimum version (not applied)', 'latest', floor(UUID_PIN, undefined), []],
    ['a floor with no UUID (matches no TA with one)', '0.0.1', floor(undefined, '9.0.0'), []],
  ];
  for (const [what, version, p, reasons] of table) {
    it(what, () => {
      const r = assessMeasurements(measured(version), p);
      expect(r).toEqual(reasons);
      expect(verdictOf(r).verdict).toBe(reasons.length ? 'suspend' : 'allow');
    });
  }
  it('a floor applies to every TA it names, each finding listed', () => {
    const p = basePolicy({ taMinVersions: [{ uuid: UUID_ATTEST, minVersion: '2.0.0' }, { uuid: UUID_PIN, minVersion: '3.0.0' }] });
    expect(assessMeasurements(measured('1.0.0'), p)).toEqual([
      'suspend: revoked: TA attest version 1.0.0 is below the minimum 2.0.0 the policy accepts',
      below('1.0.0', '3.0.0'),
    ]);
  });
  it('a TA below its floor and not on the allowlist gets both findings', () => {
    const m = measured('1.0.0');
    m.tas![1] = { ...m.tas![1]!, sha256: bytes(sha(12)) };
    expect(assessMeasurements(m, floor(UUID_PIN, '2.0.0'))).toEqual([below('1.0.0', '2.0.0'), `suspend: TA pinpad image ${sha(12).slice(0, 16)}… is not on the allowlist`]);
  });
  it('a TA measured without a UUID meets only a floor without one', () => {
    const m = measured('1.0.0');
    m.tas![1] = { name: 'pinpad', sha256: bytes(sha(11)), version: '1.0.0' };
    const p = basePolicy({ tas: [...basePolicy().tas, { name: 'pinpad', sha256: bytes(sha(11)) }], taMinVersions: [{ minVersion: '2.0.0' }] });
    expect(assessMeasurements(m, p)).toEqual([below('1.0.0', '2.0.0')]);
    expect(assessMeasurements(measured('1.0.0'), p)).toEqual([]);
  });
});

describe('a new signed manifest keeps the revocations', () => {
  const manifestOf = (...tas: ManifestTa[]) => ({ tas }) as unknown as Manifest;
  it('a first policy revokes nothing', () => {
    const p = policyFromManifests(1, [{ manifest: manifestOf(ta('attest', UUID_ATTEST, sha(10))), sha256: M1 }]);
    expect([p.revokedManifestSha256, p.taMinVersions]).toEqual([[], []]);
  });
  it('a policy built on another keeps its revoked manifests and TA floors', () => {
    const base = basePolicy({ revokedManifestSha256: [bytes(M2)], taMinVersions: [{ uuid: UUID_PIN, minVersion: '1.2.3' }] });
    const p = policyFromManifests(4, [{ manifest: manifestOf(ta('attest', UUID_ATTEST, sha(20))), sha256: sha(3) }], base);
    expect(p.revokedManifestSha256.map(hexOf)).toEqual([M2]);
    expect(p.taMinVersions.map((f) => [f.uuid, f.minVersion])).toEqual([[UUID_PIN, '1.2.3']]);
    expect(assessMeasurements(measured('1.2.2'), p)).toEqual([below('1.2.2', '1.2.3')]);
  });
  it('a base without lists (a policy object as sent, not created) takes the defaults', () => {
    const base = { version: 2, tas: [], manifestSha256: [] } as unknown as Policy;
    const p = policyFromManifests(3, [{ manifest: manifestOf(ta('attest', UUID_ATTEST, sha(10))), sha256: M1 }], base);
    expect([p.runtimeVersions, p.bootStates, p.requiredTas]).toEqual([['0.1.0'], [a.BootState.BOOT_STATE_VERIFIED], ['attest']]);
    expect([p.revokedManifestSha256, p.taMinVersions]).toEqual([[], []]);
  });
});

describe('a PUT only adds revocations', () => {
  it('unionBytes: both lists, each hash once, in first-seen order', () => {
    const [x, y, z] = [bytes(M1), bytes(M2), bytes(sha(3))];
    expect(unionBytes([x, y], [bytes(M2), z]).map(hexOf)).toEqual([M1, M2, sha(3)]);
    expect(unionBytes([], [x]).map(hexOf)).toEqual([M1]);
    expect(unionBytes([x], []).map(hexOf)).toEqual([M1]);
    expect(unionBytes([], [])).toEqual([]);
    expect(unionBytes([x, bytes(M1)], []).map(hexOf)).toEqual([M1]);
  });

  const f = (uuid: string | undefined, minVersion: string) => ({ uuid, minVersion });
  const table: Array<[string, trusttap.attest.v1.ITaVersionFloor[], trusttap.attest.v1.ITaVersionFloor[], Array<{ uuid: string; minVersion: string }>]> = [
    ['nothing', [], [], []],
    ['a new floor', [], [f(UUID_PIN, '1.0.0')], [f(UUID_PIN, '1.0.0')] as never],
    ['a floor left out stays', [f(UUID_PIN, '1.0.0')], [], [f(UUID_PIN, '1.0.0')] as never],
    ['a higher floor raises it', [f(UUID_PIN, '1.0.0')], [f(UUID_PIN, '1.0.1')], [f(UUID_PIN, '1.0.1')] as never],
    ['a lower floor does not lower it', [f(UUID_PIN, '1.0.1')], [f(UUID_PIN, '1.0.0')], [f(UUID_PIN, '1.0.1')] as never],
    ['a release raises its pre-release', [f(UUID_PIN, '1.0.0-rc.1')], [f(UUID_PIN, '1.0.0')], [f(UUID_PIN, '1.0.0')] as never],
    ['an equal floor keeps the one in force, as written', [f(UUID_PIN, '1')], [f(UUID_PIN, '1.0.0')], [f(UUID_PIN, '1')] as never],
    ['floors of different TAs both stay, in order', [f(UUID_PIN, '2.0.0')], [f(UUID_ATTEST, '1.0.0')], [f(UUID_PIN, '2.0.0'), f(UUID_ATTEST, '1.0.0')] as never],
    ['a repeated UUID in one list keeps its highest', [], [f(UUID_PIN, '3.0.0'), f(UUID_PIN, '2.0.0'), f(UUID_PIN, '4.0.0')], [f(UUID_PIN, '4.0.0')] as never],
    ['a floor without a UUID is kept under the empty one', [], [f(undefined, '1.0.0')], [f('', '1.0.0')] as never],
    ['floors without a UUID are one TA: not lowered either', [f(undefined, '2.0.0')], [f(undefined, '1.0.0')], [f('', '2.0.0')] as never],
  ];
  for (const [what, now, put, want] of table) it(`raiseFloors: ${what}`, () => expect(raiseFloors(now, put)).toEqual(want));

  it('raiseFloors: a floor without a version is replaced by any one; an unparsable or missing one against a floor is a LoadError (checkRevocations refuses both first)', () => {
    expect(raiseFloors([{ uuid: UUID_PIN }], [f(UUID_PIN, '0.0.1')])).toEqual([f(UUID_PIN, '0.0.1')]);
    expect(() => raiseFloors([f(UUID_PIN, '1.0.0')], [{ uuid: UUID_PIN }])).toThrow(LoadError);
    expect(() => raiseFloors([f(UUID_PIN, '1.0.0')], [f(UUID_PIN, 'latest')])).toThrow(LoadError);
  });
});
