// The pinpad's sealed state: the pinned verdict-token key and device binding, the policy, and
// the per-device try counter with its backoff/lockout. The try counter is written before a PIN
// entry is shown (counted as a failure until it succeeds), so a crash, restart or killed TA
// never gives an attacker a free try.
import * as host from "../lib/host";
import { SealedConfig, SealedTries, Policy, Accessibility, PinFormat } from "../../proto/gen/as/pinpad";
import { bytesOf } from "../lib/bytes";
import { ERROR_CORRUPT_OBJECT, ERROR_ITEM_NOT_FOUND } from "../lib/status";

const CONFIG_ID = bytesOf("config");
const TRIES_ID = bytesOf("tries");

/** The last storage status (0 or a status < 0). */
export let storageStatus: i32 = 0;

/** Backoff after free_tries unsuccessful entries: 30 s, doubling per further failure; from
 * lockout_tries on, one entry per 24 h (Android CDD 9.11's floor after many failures). */
export const BACKOFF_BASE_MS: u64 = 30_000;
export const LOCKOUT_MS: u64 = 86_400_000;

function readObject(id: Uint8Array): Uint8Array | null {
  const size = host.storage_size(id.dataStart, id.length);
  if (size < 0) { storageStatus = size; return null; }
  const buf = new Uint8Array(size);
  const n = host.storage_read(id.dataStart, id.length, buf.dataStart, buf.length);
  if (n < 0) { storageStatus = n; return null; }
  storageStatus = 0;
  return buf;
}

function writeObject(id: Uint8Array, data: Uint8Array): i32 {
  storageStatus = host.storage_write(id.dataStart, id.length, data.dataStart, data.length);
  return storageStatus;
}

export function defaultPolicy(): Policy {
  const p = new Policy();
  p.minLength = 4;
  p.maxLength = 12;
  p.timeoutMs = 30_000;
  p.tokenMaxAgeS = 60;
  p.accessibility = Accessibility.ACCESSIBILITY_ON_REQUEST;
  p.defaultFormat = PinFormat.PIN_FORMAT_ISO_4;
  p.freeTries = 3;
  p.lockoutTries = 10;
  return p;
}

/** "" when the policy is within bounds, else what is wrong. */
export function checkPolicy(p: Policy): string {
  if (p.minLength < 4 || p.minLength > 12) return "min_length must be 4..12";
  if (p.maxLength < p.minLength || p.maxLength > 12) return "max_length must be min_length..12";
  if (p.timeoutMs < 100 || p.timeoutMs > 300_000) return "timeout_ms must be 100..300000";
  if (p.tokenMaxAgeS < 1 || p.tokenMaxAgeS > 600) return "token_max_age_s must be 1..600";
  if (p.accessibility > Accessibility.ACCESSIBILITY_ALWAYS) return "unknown accessibility";
  if (p.defaultFormat != PinFormat.PIN_FORMAT_ISO_4 && p.defaultFormat != PinFormat.PIN_FORMAT_ISO_0 && p.defaultFormat != PinFormat.PIN_FORMAT_UNIONPAY_SM4) return "default_format must be ISO_4, ISO_0 or UNIONPAY_SM4";
  if (p.freeTries < 1 || p.freeTries > 5) return "free_tries must be 1..5";
  if (p.lockoutTries <= p.freeTries || p.lockoutTries > 20) return "lockout_tries must be free_tries+1..20";
  return "";
}

/** The sealed configuration, or a fresh one when none was ever written; null on a storage
 * failure (tampered, rolled back). */
export function loadConfig(): SealedConfig | null {
  const raw = readObject(CONFIG_ID);
  if (!raw) {
    if (storageStatus != <i32>ERROR_ITEM_NOT_FOUND) return null;
    const c = new SealedConfig();
    c.policy = defaultPolicy();
    storageStatus = 0;
    return c;
  }
  const c = SealedConfig.decode(raw);
  if (!c) { storageStatus = <i32>ERROR_CORRUPT_OBJECT; return null; }
  if (!c.policy) c.policy = defaultPolicy();
  return c;
}

export function saveConfig(c: SealedConfig): i32 {
  return writeObject(CONFIG_ID, c.encode());
}

export function loadTries(): SealedTries | null {
  const raw = readObject(TRIES_ID);
  if (!raw) {
    if (storageStatus != <i32>ERROR_ITEM_NOT_FOUND) return null;
    storageStatus = 0;
    return new SealedTries();
  }
  const t = SealedTries.decode(raw);
  if (!t) { storageStatus = <i32>ERROR_CORRUPT_OBJECT; return null; }
  return t;
}

export function saveTries(t: SealedTries): i32 {
  return writeObject(TRIES_ID, t.encode());
}

export function backoffMs(failures: u32, p: Policy): u64 {
  if (failures < p.freeTries) return 0;
  if (failures >= p.lockoutTries) return LOCKOUT_MS;
  const k = failures - p.freeTries;
  if (k >= 20) return LOCKOUT_MS;
  const ms = BACKOFF_BASE_MS << <u64>k;
  return ms < LOCKOUT_MS ? ms : LOCKOUT_MS;
}

// This instance's monotonic floor of the lockout: moving the REE clock forward does not shorten
// a backoff while the TA instance lives (docs/pinpad.md: clocks).
let monoLockedUntil: f64 = 0;

export function reeNow(): u64 {
  const t = host.ree_time_ms();
  return t > 0 ? <u64>t : 0;
}

/** Milliseconds until the next entry may start (0 = now). A stored deadline further away than
 * the whole backoff (the REE clock went back) is clamped to the backoff and saved. */
export function retryAfter(t: SealedTries, p: Policy): u64 {
  const now = reeNow();
  const full = backoffMs(t.failures, p);
  let left: u64 = t.lockedUntilMs > now ? t.lockedUntilMs - now : 0;
  if (left > full) {
    left = full;
    t.lockedUntilMs = now + full;
    saveTries(t);
  }
  const mono = monoLockedUntil - host.clock_ms();
  if (mono > 0 && <u64>mono > left) left = <u64>mono;
  return left;
}

/** Records the failures count and arms its backoff from now. */
export function armBackoff(t: SealedTries, p: Policy): i32 {
  const b = backoffMs(t.failures, p);
  t.lockedUntilMs = b > 0 ? reeNow() + b : 0;
  monoLockedUntil = b > 0 ? host.clock_ms() + <f64>b : 0;
  return saveTries(t);
}
