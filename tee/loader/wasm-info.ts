// Reads what a runtime must check before instantiating a TA, straight from the WebAssembly
// binary (WebAssembly Core Specification 2.0, §5 Binary Format): function types, imports with
// their signatures (the JS API does not expose them), exports, and memory limits.
export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export interface FuncType { params: ValType[]; results: ValType[] }
export interface WasmImport { module: string; name: string; kind: 'function' | 'table' | 'memory' | 'global' | 'tag'; type?: FuncType }
export interface WasmExport { name: string; kind: 'function' | 'table' | 'memory' | 'global' | 'tag' }
export interface MemoryLimits { initialPages: number; maximumPages: number | null; imported: boolean }
export interface WasmInfo { imports: WasmImport[]; exports: WasmExport[]; memory: MemoryLimits | null }

export class WasmFormatError extends Error {
  constructor(message: string) { super(message); this.name = 'WasmFormatError'; }
}

const VALTYPES: Record<number, ValType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

// A cursor over the binary. Written for the first call in a fresh process, which is the one a
// TA's cold start makes: few distinct functions and no per-call closures (V8 runs such code in
// its interpreter, paying for every function and property site it meets the first time).
class Reader {
  p = 0;
  constructor(private readonly b: Uint8Array) {}
  need(n: number): void {
    if (this.p + n > this.b.length) throw new WasmFormatError(`truncated at byte ${this.p}`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.p++]!;
  }
  leb(): number {
    let result = 0, shift = 0, b;
    do { b = this.u8(); result += (b & 0x7f) * 2 ** shift; shift += 7; if (shift > 35) throw new WasmFormatError('LEB128 too long'); } while (b & 0x80);
    return result;
  }
  /** A name (§5.2.4: UTF-8); import and export names are printable ASCII, read without a decoder. */
  name(): string {
    const n = this.leb();
    this.need(n);
    const b = this.b, start = this.p;
    let s = '';
    for (let i = start; i < start + n; i++) {
      const c = b[i]!;
      if (c < 0x20 || c > 0x7e) { s = utf8.decode(b.subarray(start, start + n)); break; }
      s += String.fromCharCode(c);
    }
    this.p = start + n;
    return s;
  }
  valtype(): ValType {
    const t = VALTYPES[this.u8()];
    if (!t) throw new WasmFormatError(`unknown value type at byte ${this.p - 1}`);
    return t;
  }
  valtypes(): ValType[] {
    const out: ValType[] = [];
    for (let n = this.leb(); n > 0; n--) out.push(this.valtype());
    return out;
  }
  limits(): { min: number; max: number | null } {
    const flag = this.u8();
    const min = this.leb();
    return { min, max: flag & 1 ? this.leb() : null };
  }
}

export function readWasmInfo(bytes: Uint8Array): WasmInfo {
  const r = new Reader(bytes);
  r.need(8);
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw new WasmFormatError('not a WebAssembly module (bad magic)');
  if (bytes[4] !== 1 || bytes[5] || bytes[6] || bytes[7]) throw new WasmFormatError('unsupported WebAssembly version');
  r.p = 8;
  const types: FuncType[] = [];
  const info: WasmInfo = { imports: [], exports: [], memory: null };
  while (r.p < bytes.length) {
    const id = r.u8();
    const size = r.leb();
    r.need(size);
    const end = r.p + size;
    if (id === 1) {
      for (let n = r.leb(); n > 0; n--) {
        if (r.u8() !== 0x60) throw new WasmFormatError('bad function type');
        const params = r.valtypes();
        types.push({ params, results: r.valtypes() });
      }
    } else if (id === 2) {
      for (let n = r.leb(); n > 0; n--) {
        const module = r.name(), field = r.name(), kind = KINDS[r.u8()];
        if (!kind) throw new WasmFormatError('bad import kind');
        const imp: WasmImport = { module, name: field, kind };
        if (kind === 'function') imp.type = types[r.leb()];
        else if (kind === 'table') { r.u8(); r.limits(); }
        else if (kind === 'memory') { const l = r.limits(); info.memory = { initialPages: l.min, maximumPages: l.max, imported: true }; }
        else if (kind === 'global') { r.valtype(); r.u8(); }
        else r.leb();
        info.imports.push(imp);
      }
    } else if (id === 5) {
      if (r.leb() > 0) { const l = r.limits(); info.memory = { initialPages: l.min, maximumPages: l.max, imported: false }; }
    } else if (id === 7) {
      for (let n = r.leb(); n > 0; n--) {
        const field = r.name(), kind = KINDS[r.u8()];
        r.leb();
        info.exports.push({ name: field, kind });
      }
    }
    r.p = end;
  }
  return info;
}
