// Error channel of the payment algorithms in ta/lib: no algorithm traps on bad input. A function
// that fails returns null (or false) and records a GlobalPlatform status (status.ts) with a
// reason naming the field and the rule it broke. Reasons never carry key material.
import { ERROR_BAD_PARAMETERS, SUCCESS } from "./status";

let _code: u32 = SUCCESS;
let _reason: string = "";

/** Records a failure; always returns null so callers can `return fail(...)`. */
export function fail<T>(code: u32, reason: string): T | null {
  _code = code;
  _reason = reason;
  return null;
}

/** Records a failure for functions that answer bool / status. */
export function failCode(code: u32, reason: string): u32 {
  _code = code;
  _reason = reason;
  return code;
}

export function badParam<T>(reason: string): T | null {
  return fail<T>(ERROR_BAD_PARAMETERS, reason);
}

export function clearError(): void {
  _code = SUCCESS;
  _reason = "";
}

/** Status of the last failure (SUCCESS if the last checked call succeeded). */
export function lastError(): u32 {
  return _code;
}

export function lastErrorReason(): string {
  return _reason;
}
