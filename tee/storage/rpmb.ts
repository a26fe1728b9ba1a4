// A SIMULATED replay-protected memory block (RPMB) device and the TEE's client for it, framed
// as JEDEC eMMC 5.1 (JESD84-B51) §6.6.22 "Replay Protected Memory Block": 512-byte data frames
//
//   stuff 196 | key/MAC 32 | data 256 | nonce 16 | write counter 4 | address 2 | block count 2 |
//   result 2 | request/response type 2                                   (big-endian integers)
//
// authenticated by HMAC-SHA256 over bytes 228..511 of every frame of a request or response,
// with a 32-byte authentication key programmed once into the device. The device is separate
// from the TAs' sealed storage (its own file, its own key, outside every TA's object tree); it
// is written only by an authenticated data write whose write counter equals the device's and
// whose MAC verifies, and it answers reads with the caller's nonce under the same MAC, so an
// old answer cannot be replayed to the TEE. Why it matters: a copy of the phone's flash can be
// restored, but a real RPMB's write counter cannot be set back — and neither can this one's
// except by restoring its image file, which is exactly the whole-storage rollback the back end
// catches (docs/threat-model.md). Simplification: the eMMC's separate "result read request"
// after a write is folded into the write's answer.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic.ts';

export const FRAME = 512;
export const BLOCK = 256;
/** 128 KiB, the RPMB partition's size unit (JESD84-B51 RPMB_SIZE_MULT). */
export const RPMB_BLOCKS = 512;

const OFF = { mac: 196, data: 228, nonce: 484, counter: 500, address: 504, count: 506, result: 508, type: 510 } as const;

export const Req = { PROGRAM_KEY: 0x0001, READ_COUNTER: 0x0002, WRITE: 0x0003, READ: 0x0004 } as const;
export const Result = {
  OK: 0x0000, GENERAL_FAILURE: 0x0001, AUTH_FAILURE: 0x0002, COUNTER_FAILURE: 0x0003, ADDRESS_FAILURE: 0x0004,
  WRITE_FAILURE: 0x0005, READ_FAILURE: 0x0006, KEY_NOT_PROGRAMMED: 0x0007,
} as const;

export class RpmbError extends Error {
  constructor(readonly result: number, message: string) {
    super(message);
    this.name = 'RpmbError';
  }
}

export interface RpmbFrame {
  mac?: Uint8Array;
  data?: Uint8Array;
  nonce?: Uint8Array;
  counter?: number;
  address?: number;
  count?: number;
  result?: number;
  type: number;
}

export function encodeFrame(f: RpmbFrame): Uint8Array {
  const b = Buffer.alloc(FRAME);
  if (f.mac) b.set(f.mac, OFF.mac);
  if (f.data) b.set(f.data.subarray(0, BLOCK), OFF.data);
  if (f.nonce) b.set(f.nonce, OFF.nonce);
  b.writeUInt32BE((f.counter ?? 0) >>> 0, OFF.counter);
  b.writeUInt16BE(f.address ?? 0, OFF.address);
  b.writeUInt16BE(f.count ?? 0, OFF.count);
  b.writeUInt16BE(f.result ?? 0, OFF.result);
  b.writeUInt16BE(f.type, OFF.type);
  return new Uint8Array(b);
}

export function decodeFrame(frame: Uint8Array): Required<RpmbFrame> {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  return {
    mac: frame.slice(OFF.mac, OFF.data), data: frame.slice(OFF.data, OFF.nonce), nonce: frame.slice(OFF.nonce, OFF.counter),
    counter: b.readUInt32BE(OFF.counter), address: b.readUInt16BE(OFF.address), count: b.readUInt16BE(OFF.count),
    result: b.readUInt16BE(OFF.result), type: b.readUInt16BE(OFF.type),
  };
}

/** HMAC-SHA256 over bytes 228..511 of each frame, in order (§6.6.22.4.3). */
export function frameMac(key: Uint8Array, frames: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const f of frames) h.update(f.subarray(OFF.data));
  return new Uint8Array(h.digest());
}

function macOk(key: Uint8Array, frames: Uint8Array[], mac: Uint8Array): boolean {
  const want = frameMac(key, frames);
  return mac.length === want.length && timingSafeEqual(mac, want);
}

/** The MAC goes into the last frame only (the others carry zeros there). */
function seal(key: Uint8Array, frames: Uint8Array[]): Uint8Array[] {
  frames[frames.length - 1].set(frameMac(key, frames), OFF.mac);
  return frames;
}

const split = (bytes: Uint8Array): Uint8Array[] => {
  if (bytes.length === 0 || bytes.length % FRAME) throw new RpmbError(Result.GENERAL_FAILURE, `an RPMB exchange is whole ${FRAME}-byte frames, got ${bytes.length} bytes`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += FRAME) out.push(Uint8Array.from(bytes.subarray(i, i + FRAME)));
  return out;
};
const join = (frames: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(frames.length * FRAME);
  frames.forEach((f, i) => out.set(f, i * FRAME));
  return out;
};

// ------------------------------------------------------------------------------ the device

const IMAGE_MAGIC = Buffer.from('TTRPMB01');
/** The device never lets its write counter wrap (JEDEC: the counter expires at 0xFFFFFFFF). */
const COUNTER_MAX = 0xffffffff;

interface Image { key: Uint8Array | null; counter: number; blocks: Map<number, Uint8Array> }

/** SIMULATED eMMC RPMB partition: one image file holding the programmed key, the write counter
 * and the written blocks. Everything goes through exchange() as request frames in, response
 * frames out — the only interface an eMMC offers. Operations on the image are serialised with a
 * lock file, because the TEE's threads (worker isolation: one per TA) share the one device. */
export class SimulatedRpmb {
  constructor(readonly path: string, readonly blocks = RPMB_BLOCKS) {
    mkdirSync(dirname(path), { recursive: true });
  }

  exchange(request: Uint8Array): Uint8Array {
    const frames = split(request);
    // Reads change nothing and the image is only ever replaced whole (write + rename), so a read
    // sees the image before or after any concurrent write, as a device orders the two commands:
    // only key programming and writes take the lock. (A TEE start makes three RPMB reads; under
    // disk load each lock file's create and unlink cost milliseconds.)
    const type = frames[0] ? decodeFrame(frames[0]).type : -1;
    if (type === Req.READ || type === Req.READ_COUNTER) return join(this.handle(frames));
    return this.locked(() => join(this.handle(frames)));
  }

  private handle(frames: Uint8Array[]): Uint8Array[] {
    const first = decodeFrame(frames[0]);
    const img = this.load();
    const answer = (result: number, extra: Partial<RpmbFrame> = {}): Uint8Array[] => {
      const f = [encodeFrame({ type: first.type << 8, result, counter: img.counter, address: first.address, ...extra })];
      return img.key ? seal(img.key, f) : f;
    };
    switch (first.type) {
      case Req.PROGRAM_KEY: {
        if (img.key) return answer(Result.WRITE_FAILURE); // programmable once
        img.key = first.mac.slice();
        this.save(img);
        return [encodeFrame({ type: first.type << 8, result: Result.OK })];
      }
      case Req.READ_COUNTER:
        if (!img.key) return [encodeFrame({ type: first.type << 8, result: Result.KEY_NOT_PROGRAMMED })];
        return answer(Result.OK, { nonce: first.nonce });
      case Req.WRITE: {
        if (!img.key) return [encodeFrame({ type: first.type << 8, result: Result.KEY_NOT_PROGRAMMED })];
        const last = decodeFrame(frames[frames.length - 1]);
        if (!macOk(img.key, frames, last.mac)) return answer(Result.AUTH_FAILURE);
        if (img.counter >= COUNTER_MAX) return answer(Result.WRITE_FAILURE | 0x80);
        if (first.counter !== img.counter) return answer(Result.COUNTER_FAILURE);
        if (first.count !== frames.length || first.address + first.count > this.blocks) return answer(Result.ADDRESS_FAILURE);
        frames.forEach((f, i) => img.blocks.set(first.address + i, decodeFrame(f).data));
        img.counter += 1;
        this.save(img);
        return answer(Result.OK);
      }
      case Req.READ: {
        if (!img.key) return [encodeFrame({ type: first.type << 8, result: Result.KEY_NOT_PROGRAMMED })];
        const count = first.count || 1;
        if (first.address + count > this.blocks) return answer(Result.ADDRESS_FAILURE, { nonce: first.nonce });
        const out: Uint8Array[] = [];
        for (let i = 0; i < count; i++) {
          out.push(encodeFrame({
            type: first.type << 8, result: Result.OK, nonce: first.nonce, address: first.address, count,
            data: img.blocks.get(first.address + i) ?? new Uint8Array(BLOCK),
          }));
        }
        return seal(img.key, out);
      }
      default:
        return [encodeFrame({ type: first.type << 8, result: Result.GENERAL_FAILURE })];
    }
  }

  private load(): Image {
    if (!existsSync(this.path)) return { key: null, counter: 0, blocks: new Map() };
    const b = readFileSync(this.path);
    if (b.length < 8 + 1 + 32 + 4 + 2 || !b.subarray(0, 8).equals(IMAGE_MAGIC)) throw new RpmbError(Result.READ_FAILURE, 'the simulated RPMB image is unreadable');
    const key = b[8] ? new Uint8Array(b.subarray(9, 41)) : null;
    const counter = b.readUInt32BE(41);
    const n = b.readUInt16BE(45);
    const blocks = new Map<number, Uint8Array>();
    if (b.length !== 47 + n * (2 + BLOCK)) throw new RpmbError(Result.READ_FAILURE, 'the simulated RPMB image is truncated');
    for (let i = 0, o = 47; i < n; i++, o += 2 + BLOCK) blocks.set(b.readUInt16BE(o), new Uint8Array(b.subarray(o + 2, o + 2 + BLOCK)));
    return { key, counter, blocks };
  }

  private save(img: Image): void {
    const head = Buffer.alloc(47);
    IMAGE_MAGIC.copy(head, 0);
    if (img.key) { head[8] = 1; head.set(img.key, 9); }
    head.writeUInt32BE(img.counter, 41);
    head.writeUInt16BE(img.blocks.size, 45);
    const parts: Buffer[] = [head];
    for (const [addr, data] of [...img.blocks].sort((x, y) => x[0] - y[0])) {
      const a = Buffer.alloc(2);
      a.writeUInt16BE(addr);
      parts.push(a, Buffer.from(data));
    }
    // A real RPMB write is atomic (reliable write); the whole image replaced atomically is too.
    writeFileAtomic(this.path, Buffer.concat(parts));
  }

  /** Serialises operations across the TEE's threads; a lock left by a killed process (older
   * than STALE_MS: an operation takes milliseconds) is broken. */
  private locked<T>(fn: () => T): T {
    const lock = `${this.path}.lock`;
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (let tries = 0; ; tries++) {
      try {
        closeSync(openSync(lock, 'wx'));
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        try {
          if (Date.now() - statSync(lock).mtimeMs > STALE_MS) unlinkSync(lock);
        } catch { /* taken or released meanwhile */ }
        Atomics.wait(sleeper, 0, 0, Math.min(1 + tries, 10));
      }
    }
    try {
      return fn();
    } finally {
      try { unlinkSync(lock); } catch { /* already broken as stale */ }
    }
  }
}
const STALE_MS = 5_000;

// ------------------------------------------------------------------------------ the TEE side

/** The TEE core's RPMB driver: programs the key on first use (as OP-TEE does at first boot),
 * reads with a fresh nonce and checks the MAC and nonce of every answer, writes with the
 * device's current write counter. The key is derived from the HUK and never leaves the TEE. */
export class RpmbClient {
  constructor(private readonly device: { exchange(req: Uint8Array): Uint8Array }, private readonly key: Uint8Array) {}

  private call(frames: Uint8Array[], type: number, nonce?: Uint8Array): Required<RpmbFrame>[] {
    const raw = split(this.device.exchange(join(frames)));
    const got = raw.map(decodeFrame);
    const last = got[got.length - 1];
    if (got.some((f) => f.type !== type << 8)) throw new RpmbError(Result.GENERAL_FAILURE, 'RPMB answered another request type');
    if ((last.result & 0x7f) === Result.KEY_NOT_PROGRAMMED) throw new RpmbError(Result.KEY_NOT_PROGRAMMED, 'RPMB key not programmed');
    if (!macOk(this.key, raw, last.mac)) throw new RpmbError(Result.AUTH_FAILURE, 'the RPMB answer does not carry this TEE\'s MAC (another key, or a forged answer)');
    if (nonce && got.some((f) => !Buffer.from(f.nonce).equals(Buffer.from(nonce)))) throw new RpmbError(Result.AUTH_FAILURE, 'the RPMB answer is for another nonce (replayed)');
    if (last.result !== Result.OK) throw new RpmbError(last.result, `RPMB refused the request (result 0x${last.result.toString(16).padStart(4, '0')})`);
    return got;
  }

  private programmed = false;

  /** Runs an authenticated request; on a device whose key was never programmed (first boot),
   * programs it and runs the request again. Asking first would cost a round trip on every
   * start; the unauthenticated "not programmed" answer is trusted exactly as far as a probe's
   * would be: the key is programmable once, so a lying device only gets a refusal. */
  private withKey<T>(request: () => T): T {
    if (this.programmed) return request();
    try {
      const r = request();
      this.programmed = true;
      return r;
    } catch (e) {
      if (!(e instanceof RpmbError) || e.result !== Result.KEY_NOT_PROGRAMMED) throw e;
    }
    const r = decodeFrame(split(this.device.exchange(encodeFrame({ type: Req.PROGRAM_KEY, mac: this.key })))[0]);
    if (r.result !== Result.OK) throw new RpmbError(r.result, 'programming the RPMB key failed');
    this.programmed = true;
    return request();
  }

  /** The device's write counter, authenticated and fresh. */
  writeCounter(): number {
    return this.withKey(() => {
      const nonce = new Uint8Array(randomBytes(16));
      return this.call([encodeFrame({ type: Req.READ_COUNTER, nonce })], Req.READ_COUNTER, nonce)[0].counter;
    });
  }

  read(address: number, count: number): Uint8Array {
    const nonce = new Uint8Array(randomBytes(16));
    const got = this.withKey(() => this.call([encodeFrame({ type: Req.READ, nonce, address, count })], Req.READ, nonce));
    if (got.length !== count || got.some((f) => f.address !== address)) throw new RpmbError(Result.READ_FAILURE, 'RPMB answered other blocks');
    const out = new Uint8Array(count * BLOCK);
    got.forEach((f, i) => out.set(f.data, i * BLOCK));
    return out;
  }

  /** Writes whole blocks; retried when another TEE thread wrote in between (counter failure),
   * unless `at` is given: then one attempt at that write counter (a compare-and-swap: it fails
   * with COUNTER_FAILURE if anything was written since the caller read the counter). */
  write(address: number, data: Uint8Array, at?: number): void {
    if (data.length === 0 || data.length % BLOCK) throw new RpmbError(Result.GENERAL_FAILURE, `RPMB writes whole ${BLOCK}-byte blocks`);
    const count = data.length / BLOCK;
    for (let attempt = 0; ; attempt++) {
      const counter = at ?? this.writeCounter();
      const frames = [];
      for (let i = 0; i < count; i++) frames.push(encodeFrame({ type: Req.WRITE, counter, address, count, data: data.subarray(i * BLOCK, (i + 1) * BLOCK) }));
      try {
        const got = this.call(seal(this.key, frames), Req.WRITE);
        if (got[0].counter !== counter + 1) throw new RpmbError(Result.WRITE_FAILURE, 'RPMB write counter did not advance by one');
        return;
      } catch (e) {
        if (at !== undefined || !(e instanceof RpmbError) || e.result !== Result.COUNTER_FAILURE || attempt >= 20) throw e;
      }
    }
  }
}
