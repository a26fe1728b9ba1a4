// Small pure helpers of the back end.
import { hash, randomFillSync } from 'node:crypto';

/** protobufjs (--force-long) gives uint64 as Long; the back end works in JS numbers (< 2^53). */
export function num(x: unknown): number {
  if (x === null || x === undefined) return 0;
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') return Number(x);
  const l = x as { toNumber?: () => number };
  return typeof l.toNumber === 'function' ? l.toNumber() : Number(x);
}

/** A uint64 counter as an exact number, or null past 2^53 − 1 (num() would round it). */
export function exactCounter(x: unknown): number | null {
  if (x === null || x === undefined) return 0;
  if (typeof x === 'number') return Number.isSafeInteger(x) && x >= 0 ? x : null;
  const l = x as { low?: unknown; high?: unknown; unsigned?: unknown };
  if (typeof l.low === 'number' && typeof l.high === 'number') {
    // A protobufjs Long, read from its two 32-bit halves (its decimal string costs ~5 µs a
    // request): exact while the high half is below 2^21, i.e. the value at most 2^53 − 1.
    if (l.high < 0 && !l.unsigned) return null;
    const hi = l.high >>> 0;
    return hi < 0x200000 ? hi * 0x1_0000_0000 + (l.low >>> 0) : null;
  }
  let big: bigint;
  try { big = BigInt(String(x)); } catch { return null; } // a Long prints its exact decimal value
  return big >= 0n && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : null;
}

/** A number for a protobufjs uint64 field (encode accepts numbers; the .d.ts says Long). */
export const u64 = (n: number) => n as any;

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** SHA-256 (FIPS 180-4) of the parts laid end to end (strings as UTF-8), in hex. node:crypto's
 * one-shot hash: no Hash object, whose native handle the young-generation GC must process — an
 * authorization hashed several times, and those handles were most of a scavenge's pause. */
export const sha256Hex = (...parts: (Uint8Array | string)[]) =>
  hash('sha256', parts.length === 1 ? parts[0] : Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))), 'hex');

/** Random bytes (node:crypto's CSPRNG) served from a block drawn 4 KiB at a time: one randomBytes
 * call costs ~3 µs and a native job object for the GC, whatever its size. For references and
 * codes, never for keys. Each call returns its own copy. */
const RANDOM_BLOCK = 4096;
const randomPool = Buffer.alloc(RANDOM_BLOCK);
let randomUsed = RANDOM_BLOCK;
export function pooledRandomBytes(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > RANDOM_BLOCK) throw new RangeError(`pooledRandomBytes: 0..${RANDOM_BLOCK} bytes, not ${n}`);
  if (randomUsed + n > RANDOM_BLOCK) { randomFillSync(randomPool); randomUsed = 0; }
  const out = Buffer.from(randomPool.subarray(randomUsed, randomUsed + n));
  randomPool.fill(0, randomUsed, randomUsed + n); // served once
  randomUsed += n;
  return out;
}
