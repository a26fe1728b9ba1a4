// The pure checks of a signed device request (docs/backend-api.md; issue 17 §2): the body and the
// request are canonical protobuf (common/canonical.ts), the signature (ECDSA P-256, FIPS 186-5,
// low-S r||s) is over the exact request bytes under LABEL.deviceRequest, by the enclosed key for
// a first contact or by the enrolled device key, the request's time is within MAX_SKEW_MS of the
// back end's clock, and its counter within counterBound. Kept apart from service.ts's steps that
// need the store (is the device known, advance the counter) so that each decision is pinned by a
// table (test/backend/request-verify.test.ts).
import { decodeCanonical } from '../common/canonical.ts';
import { labelled, LABEL } from '../common/signature-labels.ts';
import { trusttap } from '../proto/gen/ts/trusttap.js';
import { verifyP256, isP256Point } from './crypto/p256.ts';
import { ApiError, ErrorCode, malformed, badSignature, unknownDevice, replay } from './errors.ts';
import { num, exactCounter } from './util.ts';

const a = trusttap.attest.v1;

/** How far a request's time may be from the back end's clock, either way. */
export const MAX_SKEW_MS = 5 * 60_000;
/** Issue 17 §2: how far a signed request's counter may run ahead. Counters only move forward, so
 * one accepted counter of 2^53 or 2^64−1 would leave no higher value a device could ever send
 * (locked out for good, by a single request a compromised REE got the attest TA to sign). The
 * REE's counter is wall-clock microseconds (ree/attestation/backend-link.ts), so a genuine one is
 * at most max(last accepted, back-end clock + 5 min in µs) + this step (2^32 µs ≈ 71 min); a
 * counter that is a plain sequence also fits. A counter beyond it is refused (409
 * ERROR_COUNTER_JUMP, nothing consumed, the last accepted unchanged). */
export const MAX_COUNTER_STEP = 2 ** 32;

/** The highest request counter accepted now; below 2^53, so every counter is an exact number. */
export function counterBound(lastAccepted: number, nowMs: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(lastAccepted, (nowMs + MAX_SKEW_MS) * 1000) + MAX_COUNTER_STEP);
}

/** The request's counter as an exact number when it is within counterBound, else 409
 *  ERROR_COUNTER_JUMP. Whether it is above the last accepted is the store's compare-and-set. */
export function boundedCounter(counter: unknown, lastAccepted: number, nowMs: number): number {
  const c = exactCounter(counter);
  const bound = counterBound(lastAccepted, nowMs);
  if (c === null || c > bound) {
    throw new ApiError(409, ErrorCode.ERROR_COUNTER_JUMP,
      `counter ${String(counter)} runs too far ahead (at most ${bound} now, last accepted ${lastAccepted}): refused, nothing consumed; send a counter within the bound (docs/backend-api.md, Counters)`);
  }
  return c;
}

/** Every signed device request — challenge and enrolment included — carries its time, within
 *  MAX_SKEW_MS of the back end's clock. A missing time (0, the protobuf default) is refused,
 *  not read as "no time given": otherwise leaving it out would switch the check off. With the
 *  device's counter (strictly increasing) and the single-use nonces of challenge → evidence,
 *  this bounds how long a captured request can be replayed. */
export function checkTime(req: { timeMs?: unknown }, now: number): void {
  const t = num(req.timeMs);
  if (!t) throw malformed('time_ms is required: the device\'s clock when it signed the request');
  if (Math.abs(t - now) > MAX_SKEW_MS) throw replay('request time is more than 5 minutes from the back end\'s clock');
}

export interface DecodedRequest {
  signed: trusttap.attest.v1.SignedDeviceRequest;
  req: trusttap.attest.v1.DeviceRequest;
  /** What the signature covers: the exact request bytes under the device-request label. */
  message: Uint8Array;
}

/** Decodes a SignedDeviceRequest body whose request must hold `bodyField` (the endpoint's
 *  operation): 400 when either encoding is not canonical, the request is empty, the signature is
 *  not 64 bytes or the request is for another operation. The signature is not checked here. */
export function decodeRequest(body: Uint8Array, bodyField: string): DecodedRequest {
  let signed: trusttap.attest.v1.SignedDeviceRequest;
  let req: trusttap.attest.v1.DeviceRequest;
  try {
    signed = decodeCanonical(a.SignedDeviceRequest, body, 'the SignedDeviceRequest');
    req = decodeCanonical(a.DeviceRequest, signed.request, 'the request');
  } catch (e) {
    throw malformed(`body is not a SignedDeviceRequest: ${(e as Error).message}`);
  }
  if (!signed.request.length) throw malformed('request is empty');
  if (signed.signature.length !== 64) throw malformed('signature must be 64 bytes (ECDSA P-256 r||s)');
  if (req.body !== bodyField) throw malformed(`this endpoint takes a ${bodyField} request, the body holds ${req.body ?? 'nothing'}`);
  return { signed, req, message: labelled(LABEL.deviceRequest, signed.request) };
}

/** How a signature is verified: verifyP256, or the same answer found ahead (crypto/verify-ahead.ts). */
export type Verify = (key: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/** A request without a device id (a first contact: only challenge and enrol take one) is signed
 *  by the P-256 key it encloses; returns that key. 400 / 401 otherwise. */
export function verifyFirstContact(d: DecodedRequest, firstContactOp: boolean, verify: Verify = verifyP256): Uint8Array {
  if (!firstContactOp) throw malformed('device_id is required');
  if (!isP256Point(d.signed.publicKey)) throw malformed('enrolment requests carry the signing public key (65-byte P-256 point)');
  if (!verify(d.signed.publicKey, d.message, d.signed.signature)) throw badSignature('the request signature does not verify with the enclosed key');
  return d.signed.publicKey;
}

/** A request with a device id is signed by that device's enrolled key (`deviceKey`, from the
 *  store; none or empty: the device is not enrolled, 404). 401 when the signature does not verify. */
export function verifyDeviceSignature(d: DecodedRequest, deviceKey: Uint8Array | undefined, verify: Verify = verifyP256): void {
  if (!deviceKey || deviceKey.length === 0) throw unknownDevice(`no enrolled device ${d.req.deviceId}`);
  if (!verify(deviceKey, d.message, d.signed.signature)) throw badSignature('the request signature does not verify with the device key');
}
