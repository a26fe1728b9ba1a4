// The simulated hardware unique key (HUK) and the per-TA keys derived from it, as OP-TEE's
// tee_otp_get_hw_unique_key + huk_subkey_derive do: HKDF-SHA256 (RFC 5869) with the TA's
// UUID and a label as info, so no TA can compute another TA's keys.
import { createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from './storage/atomic.ts';

export class Huk {
  /** The key imported once: every derivation (two per TA start, one for the RPMB key) would
   * otherwise import it again. */
  private readonly ikm: KeyObject;
  private constructor(private readonly key: Uint8Array) {
    this.ikm = createSecretKey(key);
  }

  static fromBytes(key: Uint8Array): Huk {
    if (key.length !== 32) throw new Error('hardware unique key must be 32 bytes');
    return new Huk(Uint8Array.from(key));
  }

  /** Simulates a fused key: created once per device directory, then read back. */
  static openSimulated(path: string): Huk {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, randomBytes(32));
    }
    return Huk.fromBytes(readFileSync(path));
  }

  /** A copy for another thread of the same TEE (a TA worker); never handed to the REE. */
  exportForTeeThread(): Uint8Array {
    return Uint8Array.from(this.key);
  }

  /** A key for the TEE core itself (the RPMB authentication key): another HKDF salt, so no
   * TA's derive() can reach it whatever UUID and label it uses. */
  deriveCore(label: string, len = 32): Uint8Array {
    return new Uint8Array(hkdfSync('sha256', this.ikm, 'TrustTap HUK core v1', new TextEncoder().encode(label), len));
  }

  derive(taUuid: Uint8Array, label: Uint8Array | string, len = 32): Uint8Array {
    const l = typeof label === 'string' ? new TextEncoder().encode(label) : label;
    const info = new Uint8Array(taUuid.length + l.length);
    info.set(taUuid, 0);
    info.set(l, taUuid.length);
    return new Uint8Array(hkdfSync('sha256', this.ikm, 'TrustTap HUK v1', info, len));
  }
}
