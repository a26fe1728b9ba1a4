// ECDSA P-256 verifications (./p256.ts, FIPS 186-5) started ahead on libuv's thread pool, for
// checks that run later, synchronously, inside a transaction (issue 13 §4: the OpenSSL work off
// the one event loop, while the request waits for its group commit anyway). A verification's
// answer depends on the key, message and signature bytes alone, so a later check takes the
// answer only when all three are the same bytes and the verification has finished; otherwise
// (nothing started, still running, another key — the device's key as read in the transaction is
// not the one guessed ahead) it verifies then and there. Nothing is decided here: it only moves
// where the computation runs.
import { verifyP256, verifyP256Async } from './p256.ts';

interface Entry { key: Uint8Array; msg: Uint8Array; sig: Uint8Array; ok: boolean | undefined }

/** At most this many verifications kept at once (each lives for its request only). */
const MAX_ENTRIES = 10_000;

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

export class VerifyAhead {
  /** By the signature's bytes (base64): signatures do not repeat between honest requests; a
   * signature sent twice at once keeps the first entry, and the second request's check compares. */
  private readonly entries = new Map<string, Entry>();

  get size(): number { return this.entries.size; }

  /** Starts verifying on the thread pool; resolves when done (never rejects). Returns forget():
   * call it once the request that needed the answer is over. */
  start(key: Uint8Array, msg: Uint8Array, sig: Uint8Array): { done: Promise<void>; forget: () => void } {
    const id = Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength).toString('base64');
    if (this.entries.has(id) || this.entries.size >= MAX_ENTRIES) return { done: Promise.resolve(), forget: () => undefined };
    // Copies: the answer is for these bytes, whatever later happens to the caller's arrays.
    const e: Entry = { key: key.slice(), msg: msg.slice(), sig: sig.slice(), ok: undefined };
    this.entries.set(id, e);
    return {
      done: verifyP256Async(e.key, e.msg, e.sig).then((ok) => { e.ok = ok; }),
      forget: () => { if (this.entries.get(id) === e) this.entries.delete(id); },
    };
  }

  /** verifyP256(key, msg, sig): the answer found ahead when it is for the same bytes, else now. */
  verify(key: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
    const e = this.entries.get(Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength).toString('base64'));
    if (e && e.ok !== undefined && same(e.sig, sig) && same(e.key, key) && same(e.msg, msg)) return e.ok;
    return verifyP256(key, msg, sig);
  }
}
