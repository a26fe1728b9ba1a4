// The software HSM's stored keys, unwrapped once (software-hsm.ts): each secret id's clear key as
// a node:crypto secret KeyObject (held in native memory, like a hardware HSM's key slots; never
// logged, persisted or returned by the HSM), and the wrapped bytes it came from. get() hands out
// a copy of the clear bytes for one operation; the caller wipes it.
//
// When an entry is read again from the store (Repository.shared):
//   - a database this process owns (SQLite, shared = false): never — every write of a secret goes
//     through this HSM, which forgets the id it writes (forget), so the entry is the stored key;
//   - a database several nodes share: another node may store a key this one has cached or missed.
//     Keys stored insert-if-absent (ADD_ONLY: BDKs, PIN verification keys, service keys) never
//     change once present, so a present entry stays; any other id (issuer master keys, replaced by
//     putSecret) and any absence is read again each time, and re-unwrapped only if the wrapped
//     bytes changed.
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Repository } from '../store/repository.ts';

/** Secret id prefixes whose keys are written once (Repository.addSecret) and never replaced. */
export const ADD_ONLY = ['bdk/', 'pvk/', 'service-key/'] as const;
/** More ids than a deployment has keys: past it the cache starts again (keys are re-read). */
const MAX_ENTRIES = 4096;

interface Entry { wrapped: Uint8Array | null; key: KeyObject | null }

export class KeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly repo: Pick<Repository, 'getSecret' | 'shared'>, private readonly unwrap: (id: string, wrapped: Uint8Array) => Uint8Array) {}

  /** A copy of the clear key stored under id, or null when none is stored. */
  async get(id: string): Promise<Uint8Array | null> {
    const e = await this.entry(id);
    if (!e.key) return null;
    const b = e.key.export();
    const out = new Uint8Array(b);
    b.fill(0);
    return out;
  }

  async has(id: string): Promise<boolean> {
    return (await this.entry(id)).key !== null;
  }

  /** This HSM stored (or may have stored) a key under id: the next use reads it. */
  forget(id: string): void {
    this.entries.delete(id);
  }

  /** Whether a cached entry is still the stored key without asking the store (rules above). */
  private current(id: string, e: Entry): boolean {
    if (!this.repo.shared) return true;
    return e.key !== null && ADD_ONLY.some((p) => id.startsWith(p));
  }

  private async entry(id: string): Promise<Entry> {
    const cached = this.entries.get(id);
    if (cached && this.current(id, cached)) return cached;
    const wrapped = await this.repo.getSecret(id);
    if (cached && sameBytes(cached.wrapped, wrapped)) return cached;
    let e: Entry = { wrapped: null, key: null };
    if (wrapped) {
      const clear = this.unwrap(id, wrapped); // throws when it does not decrypt: nothing is cached
      try {
        e = { wrapped, key: createSecretKey(clear) };
      } finally {
        clear.fill(0);
      }
    }
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(id, e);
    return e;
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}
