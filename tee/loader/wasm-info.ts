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

export function readWasmInfo(bytes: Uint8Array): WasmInfo {
  let p = 0;
  const need = (n: number) => { if (p + n > bytes.length) throw new WasmFormatError(`truncated at byte ${p}`); };
  const u8 = () => { need(1); return bytes[p++]; };
  const leb = () => {
    let result = 0, shift = 0, b;
    do { b = u8(); result += (b & 0x7f) * 2 ** shift; shift += 7; if (shift > 35) throw new WasmFormatError('LEB128 too long'); } while (b & 0x80);
    return result;
  };
  const name = () => { const n = leb(); need(n); const s = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(p, p + n)); p += n; return s; };
  const valtype = () => { const t = VALTYPES[u8()]; if (!t) throw new WasmFormatError(`unknown value type at byte ${p - 1}`); return t; };
  const limits = () => { const flag = u8(); const min = leb(); const max = flag & 1 ? leb() : null; return { min, max }; };

  need(8);
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw new WasmFormatError('not a WebAssembly module (bad magic)');
  if (bytes[4] !== 1 || bytes[5] || bytes[6] || bytes[7]) throw new WasmFormatError('unsupported WebAssembly version');
  p = 8;
  const types: FuncType[] = [];
  const info: WasmInfo = { imports: [], exports: [], memory: null };
  while (p < bytes.length) {
    const id = u8();
    const size = leb();
    need(size);
    const end = p + size;
    if (id === 1) {
      for (let n = leb(); n > 0; n--) {
        if (u8() !== 0x60) throw new WasmFormatError('bad function type');
        const params = Array.from({ length: leb() }, valtype);
        const results = Array.from({ length: leb() }, valtype);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        const module = name(), field = name(), kind = KINDS[u8()];
        if (!kind) throw new WasmFormatError('bad import kind');
        const imp: WasmImport = { module, name: field, kind };
        if (kind === 'function') imp.type = types[leb()];
        else if (kind === 'table') { u8(); limits(); }
        else if (kind === 'memory') { const l = limits(); info.memory = { initialPages: l.min, maximumPages: l.max, imported: true }; }
        else if (kind === 'global') { valtype(); u8(); }
        else leb();
        info.imports.push(imp);
      }
    } else if (id === 5) {
      if (leb() > 0) { const l = limits(); info.memory = { initialPages: l.min, maximumPages: l.max, imported: false }; }
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const field = name(), kind = KINDS[u8()];
        leb();
        info.exports.push({ name: field, kind });
      }
    }
    p = end;
  }
  return info;
}
