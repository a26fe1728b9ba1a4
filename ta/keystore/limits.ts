// KeyMint-style use limits (expiry, maximum uses, minimum interval), checked before every use
// and accounted in the sealed record before the operation runs, so a crash never yields a free use.
// Uses are counted only for keys that have limits (the others pay no storage write per use).
import { StoredKey } from "../../proto/gen/as/keystore_sealed";
import * as host from "../lib/host";

/** "" when the key may be used now (and the use is counted in rec), else the reason. */
export function checkAndCount(rec: StoredKey): string {
  const info = rec.info!;
  const attrs = info.attributes!;
  const lim = attrs.limits;
  if (!hasLimits(rec)) return "";
  const now = <u64>host.ree_time_ms();
  if (lim) {
    if (lim.notAfterMs != 0 && now > lim.notAfterMs) return "the key expired";
    if (lim.maxUses != 0 && info.uses >= lim.maxUses) return "the key reached its maximum number of uses";
    if (lim.minIntervalMs != 0 && rec.lastUseMs != 0 && now < rec.lastUseMs + <u64>lim.minIntervalMs) return "the key was used too recently (minimum interval)";
  }
  info.uses += 1;
  rec.lastUseMs = now;
  return "";
}

/** Whether this key's uses must be persisted (only keys with limits pay a storage write). */
export function hasLimits(rec: StoredKey): bool {
  const lim = rec.info!.attributes!.limits;
  return lim != null && (lim.notAfterMs != 0 || lim.maxUses != 0 || lim.minIntervalMs != 0);
}
