// Typed refusals: each has the HTTP status and the protocol's ErrorCode (proto/attest.proto).
import { trusttap } from '../proto/gen/ts/trusttap.js';

export const ErrorCode = trusttap.attest.v1.ErrorCode;

/** A refusal that is also a monitoring event (issue 16 §2): written into the device's history
 * with a THREAT_ALERT after the refused request's own effects are rolled back; `suspend` also
 * suspends an active device. */
export interface MonitoringEvent { deviceId: string; detail: string; suspend: boolean }

export class ApiError extends Error {
  constructor(readonly http: number, readonly code: number, message: string, readonly extra: { clientRefusal?: number; monitor?: MonitoringEvent } = {}) {
    super(message);
    this.name = 'ApiError';
  }
  get codeName(): string { return ErrorCode[this.code] ?? String(this.code); }
}

export const malformed = (m: string) => new ApiError(400, ErrorCode.ERROR_MALFORMED, m);
export const badSignature = (m: string) => new ApiError(401, ErrorCode.ERROR_BAD_SIGNATURE, m);
export const unknownDevice = (m: string) => new ApiError(404, ErrorCode.ERROR_UNKNOWN_DEVICE, m);
export const replay = (m: string) => new ApiError(409, ErrorCode.ERROR_REPLAY, m);
