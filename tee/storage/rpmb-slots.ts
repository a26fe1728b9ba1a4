// How the TEE divides its (simulated) RPMB partition (rpmb.ts): 32 slots of 16 blocks (4 KiB).
// Slot 0 is the TEE core's own (the TAs' anti-rollback version floors, tee/ta-floor.ts); slots
// 1..31 belong to one TA each, claimed on its first write. A slot's first 20 bytes name its
// owner (the TA's UUID) and the length of what follows. Claiming is a compare-and-swap on the
// device's write counter, so two TEE threads never claim one slot.
import { BLOCK, RPMB_BLOCKS, Result, RpmbError, type RpmbClient } from './rpmb.ts';

export const SLOT_BLOCKS = 16;
export const SLOTS = RPMB_BLOCKS / SLOT_BLOCKS;
const HEAD = 20;
/** The most a slot holds. */
export const SLOT_CAPACITY = SLOT_BLOCKS * BLOCK - HEAD;
const CORE = new Uint8Array(16); // slot 0's owner name (never looked up by a TA's UUID)

export class SlotError extends Error {
  constructor(message: string) { super(message); this.name = 'SlotError'; }
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const empty = (owner: Uint8Array) => owner.every((x) => x === 0);

export class RpmbSlots {
  private readonly cache = new Map<string, number>();

  constructor(private readonly rpmb: RpmbClient) {}

  /** The slot a TA owns, or -1 (and the first free slot, or -1). */
  private find(uuid: Uint8Array): { slot: number; free: number } {
    const known = this.cache.get(Buffer.from(uuid).toString('hex'));
    if (known !== undefined) return { slot: known, free: -1 };
    let free = -1;
    for (let s = 1; s < SLOTS; s++) {
      const owner = this.rpmb.read(s * SLOT_BLOCKS, 1).subarray(0, 16);
      if (same(owner, uuid)) {
        this.cache.set(Buffer.from(uuid).toString('hex'), s);
        return { slot: s, free };
      }
      if (free < 0 && empty(owner)) free = s;
    }
    return { slot: -1, free };
  }

  /** first: the slot's first block when the caller has just read it (saves a round trip). */
  private readSlot(slot: number, first = this.rpmb.read(slot * SLOT_BLOCKS, 1)): Uint8Array | null {
    const len = Buffer.from(first).readUInt32BE(16);
    if (len > SLOT_CAPACITY) throw new RpmbError(Result.READ_FAILURE, `RPMB slot ${slot} claims ${len} bytes`);
    const blocks = Math.ceil((HEAD + len) / BLOCK);
    const all = blocks > 1 ? this.rpmb.read(slot * SLOT_BLOCKS, blocks) : first;
    return all.slice(HEAD, HEAD + len);
  }

  private encode(owner: Uint8Array, data: Uint8Array): Uint8Array {
    if (data.length > SLOT_CAPACITY) throw new SlotError(`${data.length} bytes do not fit an RPMB slot (${SLOT_CAPACITY})`);
    const out = new Uint8Array(Math.ceil((HEAD + data.length) / BLOCK) * BLOCK);
    out.set(owner, 0);
    Buffer.from(out.buffer).writeUInt32BE(data.length, 16);
    out.set(data, HEAD);
    return out;
  }

  /** What the TA stored, or null when it has no slot yet. */
  read(uuid: Uint8Array): Uint8Array | null {
    const { slot } = this.find(uuid);
    return slot < 0 ? null : this.readSlot(slot);
  }

  write(uuid: Uint8Array, data: Uint8Array): void {
    const frame = this.encode(uuid, data);
    for (;;) {
      const { slot, free } = this.find(uuid);
      if (slot >= 0) return this.rpmb.write(slot * SLOT_BLOCKS, frame);
      if (free < 0) throw new SlotError('every RPMB slot is taken');
      const counter = this.rpmb.writeCounter();
      if (!empty(this.rpmb.read(free * SLOT_BLOCKS, 1).subarray(0, 16))) continue; // taken meanwhile
      try {
        this.rpmb.write(free * SLOT_BLOCKS, frame, counter);
        this.cache.set(Buffer.from(uuid).toString('hex'), free);
        return;
      } catch (e) {
        if (!(e instanceof RpmbError) || e.result !== Result.COUNTER_FAILURE) throw e;
      }
    }
  }

  /** The TEE core's own record (slot 0). */
  readCore(): Uint8Array | null {
    const first = this.rpmb.read(0, 1);
    return empty(first.subarray(0, 20)) ? null : this.readSlot(0, first);
  }

  writeCore(data: Uint8Array): void {
    const frame = this.encode(CORE, data);
    frame[15] = 1; // a non-zero owner marks slot 0 as written
    this.rpmb.write(0, frame);
  }
}
