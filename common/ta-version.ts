// TA versions (ta.json "version" → the signed manifest → the runtime's measurements), compared
// as SemVer 2.0.0 §11 precedence: "major[.minor[.patch]][-pre-release]", numbers in order,
// missing ones 0, a pre-release below its release (two pre-releases of one release compare
// equal). One copy for the runtime's anti-rollback floor (tee/ta-floor.ts) and the back end's
// policy floor (backend/attestation/policy.ts).
import { LoadError } from './load-error.ts';

/** [major, minor, patch, 1 for a release or 0 for a pre-release]; LoadError BAD_MANIFEST if
 * the text is not a version. */
export function parseTaVersion(v: string): [number, number, number, number] {
  const m = /^(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?(-[0-9A-Za-z.-]+)?$/.exec(v);
  if (!m) throw new LoadError('BAD_MANIFEST', `TA version ${JSON.stringify(v)} is not major[.minor[.patch]][-pre-release]`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0), m[4] ? 0 : 1];
}

/** Negative, 0 or positive as a is older than, equal to or newer than b. */
export function compareTaVersions(a: string, b: string): number {
  const x = parseTaVersion(a), y = parseTaVersion(b);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || x[3] - y[3];
}
