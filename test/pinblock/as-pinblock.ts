// Loads test/as/pinblock-harness.ts (the AssemblyScript PIN block code of ta/lib) with the real
// host imports, and wraps it for TypeScript: PIN/PAN as ASCII digit strings, bytes as hex.
// A status < 0 is a PinBlockError (see PIN_BLOCK_ERRORS).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileAs } from '../helpers/asc.ts';
import { HostContext } from '../../tee/abi/context.ts';
import { buildImports } from '../../tee/abi/table.ts';
import { createServices } from '../../tee/services.ts';
import { Huk } from '../../tee/huk.ts';

export const PIN_BLOCK_ERRORS: Record<number, string> = {
  [-1]: 'PIN_LENGTH', [-2]: 'PIN_DIGIT', [-3]: 'PAN_LENGTH', [-4]: 'PAN_DIGIT', [-5]: 'BLOCK_LENGTH',
  [-6]: 'BUFFER_LENGTH', [-7]: 'CONTROL_FIELD', [-8]: 'FILL', [-9]: 'RANDOM', [-10]: 'KEY_LENGTH',
  [-11]: 'CIPHER', [-100]: 'HARNESS_BAD_ARG',
};

export interface Result { status: number; out: string }

const A = 0, B = 64, C = 128, D = 192, OUT = 256;

/** '1234' -> 01 02 03 04 (digit values, as the TA holds them); other characters map outside 0..9. */
export const digits = (s: string) => Uint8Array.from([...s].map((ch) => (ch.charCodeAt(0) - 48) & 0xff));
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const nibbles = (h: string) => Uint8Array.from([...h].map((c) => parseInt(c, 16)));

export class PinblockAs {
  private constructor(private readonly ex: any) {}

  static async load(random?: (out: Uint8Array) => void): Promise<PinblockAs> {
    const wasm = await compileAs('test/as/pinblock-harness.ts');
    const dir = mkdtempSync(join(tmpdir(), 'tt-pb-'));
    const ctx = new HostContext(createServices({ name: 'pinblock-harness', uuid: new Uint8Array(16) }, { storageDir: dir, huk: Huk.fromBytes(new Uint8Array(32)), random }));
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>), buildImports(ctx));
    const ex = instance.exports as any;
    ctx.memory = ex.memory;
    return new PinblockAs(ex);
  }

  /** The whole linear memory (for leftover scans). */
  memory(): Uint8Array { return new Uint8Array(this.ex.memory.buffer); }
  clearIo(): void { this.ex.clear(); }

  private put(off: number, b: Uint8Array | null): number {
    if (!b) return -1;
    new Uint8Array(this.ex.memory.buffer, this.ex.io() + off, b.length).set(b);
    return b.length;
  }
  private out(n: number): string {
    return hex(new Uint8Array(this.ex.memory.buffer, this.ex.io() + OUT, n));
  }
  private pin(status: number): Result {
    if (status < 0) return { status, out: '' };
    return { status, out: [...new Uint8Array(this.ex.memory.buffer, this.ex.io() + OUT, status)].map((d) => String(d)).join('') };
  }

  panField03(pan: string): Result { const s = this.ex.panField03(this.put(B, digits(pan))); return { status: s, out: s < 0 ? '' : this.out(8) }; }
  panField4(pan: string): Result { const s = this.ex.panField4(this.put(B, digits(pan))); return { status: s, out: s < 0 ? '' : this.out(16) }; }
  pinField4(pin: string, randomHex?: string): Result {
    const s = this.ex.pinField4(this.put(A, digits(pin)), this.put(C, randomHex === undefined ? null : fromHex(randomHex)));
    return { status: s, out: s < 0 ? '' : this.out(16) };
  }
  pinField4Decode(fieldHex: string): Result { return this.pin(this.ex.pinField4Decode(this.put(C, fromHex(fieldHex)))); }

  /** Clear block of format 0..3; fill as hex nibbles (formats 1 and 3) or random when absent. */
  encode(format: 0 | 1 | 2 | 3, pin: string, pan = '', fillNibbles?: string): Result {
    const s = this.ex.encode(format, this.put(A, digits(pin)), this.put(B, digits(pan)), this.put(C, fillNibbles === undefined ? null : nibbles(fillNibbles)));
    return { status: s, out: s < 0 ? '' : this.out(8) };
  }
  decode(format: 0 | 1 | 2 | 3, blockHex: string, pan = ''): Result {
    return this.pin(this.ex.decode(format, this.put(C, fromHex(blockHex)), this.put(B, digits(pan))));
  }

  encipher4(keyHex: string, pin: string, pan: string, randomHex?: string): Result {
    const s = this.ex.encipher4(this.put(D, fromHex(keyHex)), this.put(A, digits(pin)), this.put(B, digits(pan)), this.put(C, randomHex === undefined ? null : fromHex(randomHex)));
    return { status: s, out: s < 0 ? '' : this.out(16) };
  }
  decipher4(keyHex: string, blockHex: string, pan: string): Result {
    return this.pin(this.ex.decipher4(this.put(D, fromHex(keyHex)), this.put(C, fromHex(blockHex)), this.put(B, digits(pan))));
  }

  errorText(code: number): string {
    const n = this.ex.errorText(code);
    return Buffer.from(new Uint8Array(this.ex.memory.buffer, this.ex.io() + OUT, n)).toString('utf8');
  }

  /** UnionPay SM4: 'pin_field' | 'pan_field' | 'clear' | 'enciphered'. */
  sm4Encode(what: 'pin_field' | 'pan_field' | 'clear' | 'enciphered', pin: string, pan: string, keyHex = ''): Result {
    const w = ['pin_field', 'pan_field', 'clear', 'enciphered'].indexOf(what);
    const s = this.ex.sm4Encode(w, this.put(D, fromHex(keyHex)), this.put(A, digits(pin)), this.put(B, digits(pan)));
    return { status: s, out: s < 0 ? '' : this.out(16) };
  }
  sm4Decode(blockHex: string, pan: string, keyHex?: string): Result {
    return this.pin(this.ex.sm4Decode(keyHex === undefined ? 0 : 1, this.put(D, fromHex(keyHex ?? '')), this.put(C, fromHex(blockHex)), this.put(B, digits(pan))));
  }
}

let shared: Promise<PinblockAs> | null = null;
/** One instance per process, on the TEE's default random source. */
export function pinblockAs(): Promise<PinblockAs> {
  return (shared ??= PinblockAs.load());
}

/** Throws a PIN-free error for a failing status. */
export function must(r: Result, what: string): string {
  if (r.status < 0) throw new Error(`${what}: ${PIN_BLOCK_ERRORS[r.status] ?? r.status}`);
  return r.out;
}
