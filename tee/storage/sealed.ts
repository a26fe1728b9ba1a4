// Sealed storage for one TA (GP TEE_OpenPersistentObject & co, simplified to whole objects):
// AES-256-GCM under a key derived from the HUK and the TA's UUID, with a rollback counter per
// object kept in the (simulated) replay-protected memory block — a separate device, rpmb.ts,
// reached only through its authenticated frames — in this TA's slot there (rpmb-slots.ts). A
// blob that fails its tag is CORRUPT_OBJECT; an older version than the counter (a replayed
// file), an RPMB answer that fails its MAC or nonce, or a missing counter table while objects
// exist is SECURITY. Writes are atomic.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Status } from '../../proto/status.ts';
import { writeFileAtomic } from './atomic.ts';
import { RpmbError, type RpmbClient } from './rpmb.ts';
import { RpmbSlots, SlotError } from './rpmb-slots.ts';
import type { Huk } from '../huk.ts';

export class StorageError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

const MAGIC = Buffer.from('TTS1');
export const MAX_OBJECT_ID = 64;
export const MAX_OBJECT_SIZE = 1 << 20;

interface CounterEntry { v: number; deleted?: boolean }
type Counters = Record<string, CounterEntry>;

export class SealedStorage {
  private readonly dir: string;
  private readonly objects: string;
  private readonly sealKey: Uint8Array;
  private readonly uuid: Uint8Array;
  private readonly slots: RpmbSlots;

  /** root: the TEE's storage directory (this TA's objects go under root/<uuid>/objects); rpmb:
   * the TEE core's client of the RPMB device, which lives elsewhere (runtime: device/rpmb.img). */
  constructor(root: string, uuid: Uint8Array, huk: Huk, rpmb: RpmbClient) {
    this.uuid = uuid;
    this.dir = join(root, Buffer.from(uuid).toString('hex'));
    this.objects = join(this.dir, 'objects');
    mkdirSync(this.objects, { recursive: true });
    this.sealKey = huk.derive(uuid, 'sealed-storage', 32);
    this.slots = new RpmbSlots(rpmb);
  }

  private checkId(id: Uint8Array): string {
    if (id.length === 0 || id.length > MAX_OBJECT_ID) {
      throw new StorageError(Status.ERROR_BAD_PARAMETERS, `object id must be 1..${MAX_OBJECT_ID} bytes, got ${id.length}`);
    }
    return Buffer.from(id).toString('hex');
  }

  private blobPath(hexId: string): string {
    return join(this.objects, `${hexId}.blob`);
  }

  // --- the counter table, in this TA's RPMB slot: count u16, then per object: id length u8,
  // id, version u64, deleted u8 ---
  private readCounters(): Counters {
    let raw: Uint8Array | null;
    try {
      raw = this.slots.read(this.uuid);
    } catch (e) {
      throw securityError(e);
    }
    if (!raw) {
      const stored = readdirSync(this.objects).filter((f) => f.endsWith('.blob'));
      if (stored.length) throw new StorageError(Status.ERROR_SECURITY, 'rollback counters missing while sealed objects exist');
      return {};
    }
    const b = Buffer.from(raw);
    const c: Counters = {};
    try {
      let o = 2;
      for (let i = 0, n = b.readUInt16BE(0); i < n; i++) {
        const len = b[o++];
        const id = b.subarray(o, o + len).toString('hex');
        o += len;
        const v = Number(b.readBigUInt64BE(o));
        o += 8;
        c[id] = b[o++] ? { v, deleted: true } : { v };
      }
    } catch {
      throw new StorageError(Status.ERROR_SECURITY, 'rollback counter table is unreadable');
    }
    return c;
  }

  private writeCounters(c: Counters): void {
    const parts: Buffer[] = [Buffer.alloc(2)];
    const entries = Object.entries(c);
    parts[0].writeUInt16BE(entries.length);
    for (const [id, e] of entries) {
      const idb = Buffer.from(id, 'hex');
      const v = Buffer.alloc(8);
      v.writeBigUInt64BE(BigInt(e.v));
      parts.push(Buffer.of(idb.length), idb, v, Buffer.of(e.deleted ? 1 : 0));
    }
    try {
      this.slots.write(this.uuid, Buffer.concat(parts));
    } catch (e) {
      if (e instanceof SlotError) throw new StorageError(Status.ERROR_STORAGE_NO_SPACE, e.message);
      throw securityError(e);
    }
  }

  private aad(hexId: string, version: number): Buffer {
    const v = Buffer.alloc(8);
    v.writeBigUInt64BE(BigInt(version));
    return Buffer.concat([MAGIC, Buffer.from(this.uuid), Buffer.from(hexId, 'hex'), v]);
  }

  write(id: Uint8Array, data: Uint8Array): void {
    const hexId = this.checkId(id);
    if (data.length > MAX_OBJECT_SIZE) throw new StorageError(Status.ERROR_STORAGE_NO_SPACE, `object of ${data.length} bytes exceeds ${MAX_OBJECT_SIZE}`);
    const counters = this.readCounters();
    const version = (counters[hexId]?.v ?? 0) + 1;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.sealKey, iv);
    c.setAAD(this.aad(hexId, version));
    const ct = Buffer.concat([c.update(data), c.final()]);
    const header = Buffer.alloc(8);
    header.writeBigUInt64BE(BigInt(version));
    // Blob first, counter second: a crash between them leaves version = counter + 1, which
    // read() accepts once and commits; anything older than the counter is a replay.
    writeFileAtomic(this.blobPath(hexId), Buffer.concat([MAGIC, header, iv, ct, c.getAuthTag()]));
    counters[hexId] = { v: version };
    this.writeCounters(counters);
  }

  /** The object's plaintext, or null when it does not exist. */
  read(id: Uint8Array): Uint8Array | null {
    const hexId = this.checkId(id);
    const counters = this.readCounters();
    const entry = counters[hexId];
    const path = this.blobPath(hexId);
    if (!existsSync(path)) {
      if (entry && !entry.deleted) throw new StorageError(Status.ERROR_SECURITY, 'sealed object was removed outside the TEE');
      return null;
    }
    const blob = readFileSync(path);
    if (blob.length < 4 + 8 + 12 + 16 || !blob.subarray(0, 4).equals(MAGIC)) {
      throw new StorageError(Status.ERROR_CORRUPT_OBJECT, 'sealed object is corrupt (bad header)');
    }
    const version = Number(blob.readBigUInt64BE(4));
    const current = entry?.v ?? 0;
    if (entry?.deleted && version <= current) {
      unlinkSync(path); // a stale copy of a deleted object: never served
      return null;
    }
    if (version < current || version > current + 1) {
      throw new StorageError(Status.ERROR_SECURITY, `sealed object version ${version} does not match rollback counter ${current}`);
    }
    const iv = blob.subarray(12, 24);
    const tag = blob.subarray(blob.length - 16);
    const d = createDecipheriv('aes-256-gcm', this.sealKey, iv);
    d.setAAD(this.aad(hexId, version));
    d.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([d.update(blob.subarray(24, blob.length - 16)), d.final()]);
    } catch {
      throw new StorageError(Status.ERROR_CORRUPT_OBJECT, 'sealed object failed its integrity check');
    }
    if (version === current + 1) {
      counters[hexId] = { v: version }; // finish a write that crashed before its counter update
      this.writeCounters(counters);
    }
    return new Uint8Array(plain);
  }

  delete(id: Uint8Array): boolean {
    const hexId = this.checkId(id);
    const counters = this.readCounters();
    const entry = counters[hexId];
    const path = this.blobPath(hexId);
    if (!existsSync(path) && (!entry || entry.deleted)) return false;
    counters[hexId] = { v: (entry?.v ?? 0) + 1, deleted: true };
    this.writeCounters(counters);
    if (existsSync(path)) unlinkSync(path);
    return true;
  }

  list(): Uint8Array[] {
    const counters = this.readCounters();
    return Object.entries(counters)
      .filter(([, e]) => !e.deleted)
      .map(([hex]) => new Uint8Array(Buffer.from(hex, 'hex')))
      .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  }
}

function securityError(e: unknown): unknown {
  if (e instanceof RpmbError) return new StorageError(Status.ERROR_SECURITY, `replay-protected storage: ${e.message}`);
  return e;
}
