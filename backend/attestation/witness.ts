// Issue 17 §1: the back end as witness of the counters a device's TEE keeps. A phone's storage
// can be copied and restored whole (sealed objects and RPMB image together); inside the device
// nothing then notices, but every counter the back end has seen goes back. Each is kept per
// device and only moves forward (repository witnessCounter); a value that goes back is refused
// and suspends the device (BackendService.rollbackDetected). What is witnessed, and why each is
// the TEE's own (not something the REE chooses):
//   - DUKPT transaction counters, per initial key (ANSI X9.24-3-2017 §6.1: the KSN is the
//     initial key ID, 8 bytes, and a 4-byte transaction counter; X9.24-1 TDES: 59 + 21 bits). The
//     keystore TA advances it in sealed storage; a KSN seen once must never serve again;
//   - the RPMB write counter in the attestation evidence (Measurements.rpmb_write_counter);
//   - the pinpad's entry epoch, carried in its nonce (ta/pinpad/token.ts);
//   - each TA's version in the measurements (versionNumber), so an older build cannot return;
//   - the txsign record counter has its own column (authorization/authorize.ts).
// The request counter of a signed device request is NOT one of them: the REE picks it (its
// wall clock in µs) and the attest TA signs what it is given, so a restored TEE does not reset
// it; a request counter that goes back is refused as a replay (409) and recorded, not a sign of
// rollback (docs/threat-model.md).
import type { Repository } from '../store/repository.ts';
import { hex } from '../util.ts';
import { parseTaVersion } from '../../common/ta-version.ts';

export interface KsnCounter { name: string; counter: number }

/** The witnessed counter of a KSN: AES DUKPT (12 bytes: initial key ID || 32-bit counter) or
 * TDES DUKPT (10 bytes, the counter in the low 21 bits); null for any other length. */
export function ksnCounter(ksn: Uint8Array): KsnCounter | null {
  if (ksn.length === 12) {
    return { name: `ksn:${hex(ksn.subarray(0, 8))}`, counter: ((ksn[8] << 24) >>> 0) + (ksn[9] << 16) + (ksn[10] << 8) + ksn[11] };
  }
  if (ksn.length === 10) {
    const id = Uint8Array.from(ksn);
    id[7] &= 0xe0; id[8] = 0; id[9] = 0;
    return { name: `ksn:${hex(id)}`, counter: ((ksn[7] & 0x1f) << 16) | (ksn[8] << 8) | ksn[9] };
  }
  return null;
}

/** Witnesses one counter; the reason text of a regression, or '' when it moved forward (or
 * stayed, where equal is allowed). */
export async function witness(repo: Repository, deviceId: string, name: string, value: number, strict: boolean, what: string): Promise<string> {
  // Inside the request's one transaction (handleDevice): the compare-and-set and the refusal
  // commit with everything else the request does.
  if (await repo.witnessCounter(deviceId, name, value, strict)) return '';
  const last = await repo.witnessedCounter(deviceId, name);
  return `rollback: ${what} ${value} ${strict ? 'is not above' : 'is below'} the ${last} seen before — the device's storage was restored or cloned`;
}

/** The pinpad TA's nonce (ta/pinpad/token.ts) starts with "TTpe" and its 8-byte entry epoch;
 * the evidence nonce is the back end's 32-byte challenge followed by it. null when absent. */
export const PINPAD_NONCE_MAGIC = 'TTpe';
export function pinpadEpoch(evidenceNonce: Uint8Array): number | null {
  const own = evidenceNonce.subarray(32);
  if (own.length !== 32 || Buffer.from(own.subarray(0, 4)).toString('latin1') !== PINPAD_NONCE_MAGIC) return null;
  const v = Buffer.from(own.subarray(4, 12)).readBigUInt64BE();
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(v);
}

/** A TA version as one number that orders as the versions do (major·10^10 + minor·10^5 + patch,
 * ×2, +1 for a release); null when it does not parse or a part is 10^5 or more. */
export function versionNumber(v: string): number | null {
  try {
    const [ma, mi, pa, rel] = parseTaVersion(v);
    if (mi >= 1e5 || pa >= 1e5 || ma >= 4e5) return null;
    return (ma * 1e10 + mi * 1e5 + pa) * 2 + rel;
  } catch {
    return null;
  }
}
