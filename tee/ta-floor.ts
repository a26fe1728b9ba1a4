// TA anti-rollback (issue 17 §10), as OP-TEE's TA rollback protection: the runtime keeps, per TA
// UUID, the highest version it has ever loaded on this device, in the TEE core's slot of the
// replay-protected storage (storage/rpmb-slots.ts slot 0). A TA whose manifest version is lower —
// an older build, correctly signed, perhaps with a fixed bug put back — does not load
// (LoadError TA_ROLLBACK). Versions compare as common/ta-version.ts says (SemVer precedence). The floor lives in RPMB, not in a file
// the REE could replace; a restore of the whole RPMB image resets it, which the back end's
// policy floor (backend/attestation/policy.ts ta_min_versions) still catches.
import { LoadError } from '../common/load-error.ts';
import { compareTaVersions } from '../common/ta-version.ts';
import type { RpmbSlots } from './storage/rpmb-slots.ts';

/** Version floors by lower-case TA UUID. */
export type Floors = Record<string, string>;

/** The floors in the TEE core's RPMB slot (empty on a new device). The runtime reads them once
 * when it boots: slot 0 is the core's own and only the core writes it. */
export function readVersionFloors(slots: RpmbSlots): Floors {
  const raw = slots.readCore();
  if (!raw) return {};
  try {
    const j = JSON.parse(new TextDecoder().decode(raw)) as { floors?: Floors };
    return j.floors ?? {};
  } catch {
    throw new LoadError('TA_ROLLBACK', 'the TA version floors in replay-protected storage are unreadable');
  }
}

/** Refuses any TA older than its floor, then raises `floors` to what is loaded and writes them
 * (one RPMB write, only when something rose). Throws before anything is written or changed if
 * one TA is refused. */
export function raiseVersionFloors(slots: RpmbSlots, floors: Floors, tas: { name: string; uuid: string; version: string }[]): void {
  for (const t of tas) {
    const floor = floors[t.uuid.toLowerCase()];
    if (floor && compareTaVersions(t.version, floor) < 0) {
      throw new LoadError('TA_ROLLBACK', `TA ${t.name} version ${t.version} is older than version ${floor} this device loaded before (anti-rollback floor)`);
    }
  }
  const raised: Floors = { ...floors };
  let rose = false;
  for (const t of tas) {
    const key = t.uuid.toLowerCase();
    if (!raised[key] || compareTaVersions(t.version, raised[key]) > 0) { raised[key] = t.version; rose = true; }
  }
  if (!rose) return;
  slots.writeCore(new TextEncoder().encode(JSON.stringify({ floors: raised })));
  Object.assign(floors, raised);
}
