// Typed refusals: each has the HTTP status and the protocol's ErrorCode (proto/attest.proto).
import { trusttap } from '../proto/gen/ts/trusttap.js';

export const ErrorCode = trusttap.attest.v1.ErrorCode;

export class ApiError extends Error {
  constructor(readonly http: number, readonly code: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
  get codeName(): string { return ErrorCode[this.code] ?? String(this.code); }
}

export const malformed = (m: string) => new ApiError(400, ErrorCode.ERROR_MALFORMED, m);
export const badSignature = (m: string) => new ApiError(401, ErrorCode.ERROR_BAD_SIGNATURE, m);
export const unknownDevice = (m: string) => new ApiError(404, ErrorCode.ERROR_UNKNOWN_DEVICE, m);
export const replay = (m: string) => new ApiError(409, ErrorCode.ERROR_REPLAY, m);
