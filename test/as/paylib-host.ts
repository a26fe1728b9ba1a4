// Node side of the paylib test harness (test/as/paylib.ts): compiles it once per source content
// (cached under build/out/test), instantiates it with the real host ABI (tee/abi/table.ts on
// node:crypto) and marshals byte-string arguments through its static buffer.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileAs } from '../helpers/asc.ts';
import { HostContext } from '../../tee/abi/context.ts';
import { buildImports } from '../../tee/abi/table.ts';
import { createServices } from '../../tee/services.ts';
import { Huk } from '../../tee/huk.ts';

const root = new URL('../../', import.meta.url).pathname;

export class PaylibError extends Error {
  constructor(readonly status: number, readonly reason: string, fn: string) {
    super(`${fn}: status 0x${(status >>> 0).toString(16)}: ${reason}`);
    this.name = 'PaylibError';
  }
}

export interface Paylib {
  /** Calls an exported harness function with integer options and byte-string arguments. */
  call(fn: string, ints: number[], args: Uint8Array[]): Uint8Array[];
  /** As call, but returns the status instead of throwing (0 on success). */
  status(fn: string, ints: number[], args: Uint8Array[]): number;
  exports: Record<string, any>;
  ctx: HostContext;
}

function sourceHash(): string {
  const h = createHash('sha256');
  for (const dir of ['ta/lib']) {
    for (const f of readdirSync(join(root, dir)).sort()) if (f.endsWith('.ts')) h.update(f).update(readFileSync(join(root, dir, f)));
  }
  h.update(readFileSync(join(root, 'test/as/paylib.ts')));
  return h.digest('hex').slice(0, 16);
}

async function wasmBytes(): Promise<Uint8Array> {
  const dir = join(root, 'build', 'out', 'test');
  const file = join(dir, `paylib-${sourceHash()}.wasm`);
  if (existsSync(file)) return readFileSync(file);
  const w = await compileAs('test/as/paylib.ts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, w);
  return w;
}

let instance: Promise<Paylib> | null = null;

/** The harness instance (one per process). random: optional host random source. */
export function paylib(): Promise<Paylib> {
  instance ??= load();
  return instance;
}

export async function load(random?: (out: Uint8Array) => void): Promise<Paylib> {
  const wasm = await wasmBytes();
  const dir = mkdtempSync(join(tmpdir(), 'tt-paylib-'));
  const ctx = new HostContext(createServices({ name: 'paylib', uuid: new Uint8Array(16) }, { storageDir: dir, huk: Huk.fromBytes(new Uint8Array(32)), random }));
  const { instance: inst } = (await WebAssembly.instantiate(wasm as BufferSource, buildImports(ctx) as any)) as WebAssembly.WebAssemblyInstantiatedSource;
  const ex = inst.exports as any;
  ctx.memory = ex.memory;
  const io: number = ex.ioPtr();
  const size: number = ex.ioSize();
  const status = (fn: string, ints: number[], args: Uint8Array[]): number => {
    const need = 4 + args.reduce((n, a) => n + 4 + a.length, 0);
    if (need > size) throw new Error(`${fn}: arguments exceed the harness buffer`);
    const mem = new Uint8Array(ex.memory.buffer);
    const dv = new DataView(ex.memory.buffer);
    dv.setUint32(io, args.length, true);
    let p = io + 4;
    for (const a of args) {
      dv.setUint32(p, a.length, true);
      mem.set(a, p + 4);
      p += 4 + a.length;
    }
    const f = ex[fn];
    if (typeof f !== 'function') throw new Error(`harness has no function ${fn}`);
    return f(...ints) | 0;
  };
  const call = (fn: string, ints: number[], args: Uint8Array[]): Uint8Array[] => {
    const r = status(fn, ints, args);
    if (r !== 0) {
      const n = ex.errorReason();
      const reason = Buffer.from(new Uint8Array(ex.memory.buffer, io, n)).toString('utf8');
      throw new PaylibError(r, reason, fn);
    }
    const dv = new DataView(ex.memory.buffer);
    const count = dv.getUint32(io, true);
    const outs: Uint8Array[] = [];
    let p = io + 4;
    for (let i = 0; i < count; i++) {
      const len = dv.getUint32(p, true);
      outs.push(new Uint8Array(ex.memory.buffer.slice(p + 4, p + 4 + len)));
      p += 4 + len;
    }
    new Uint8Array(ex.memory.buffer, io, p - io).fill(0);
    return outs;
  };
  return { call, status, exports: ex, ctx };
}

export const unhex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
export const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
export const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
