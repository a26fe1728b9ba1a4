// Hand-assembled WebAssembly modules for loader tests (WebAssembly Core Spec 2.0 §5): a TA that
// exports the TA ABI and imports whatever the test asks for, so every refusal path can be
// exercised without the compiler.
import { requiredTaExports } from '../../tee/abi/ta-exports.ts';

type V = 'i32' | 'i64' | 'f32' | 'f64';
const VT: Record<V, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c };

export interface FixtureImport { module: string; name: string; params: V[]; results: V[] }
export interface FixtureOptions {
  imports?: FixtureImport[];
  /** Maximum memory pages; null = no maximum. Default 2. */
  maxPages?: number | null;
  /** TA ABI exports to leave out. */
  omit?: string[];
}

const leb = (n: number): number[] => { const out: number[] = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; };
const str = (s: string) => { const b = [...new TextEncoder().encode(s)]; return [...leb(b.length), ...b]; };
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];

export function taWasm(opts: FixtureOptions = {}): Uint8Array {
  const imports = opts.imports ?? [{ module: 'env', name: 'abort', params: ['i32', 'i32', 'i32', 'i32'], results: [] }];
  const types = [[0x60, 0, 1, VT.i32], ...imports.map((i) => [0x60, ...leb(i.params.length), ...i.params.map((p) => VT[p]), ...leb(i.results.length), ...i.results.map((r) => VT[r])])];
  const fnExports = requiredTaExports.filter((e) => e !== 'memory' && !opts.omit?.includes(e));
  const maxPages = opts.maxPages === undefined ? 2 : opts.maxPages;
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports.map((imp, i) => [...str(imp.module), ...str(imp.name), 0x00, ...leb(i + 1)]))),
    ...section(3, vec(fnExports.map(() => [0]))),
    ...section(5, vec([maxPages === null ? [0x00, 1] : [0x01, 1, ...leb(maxPages)]])),
    ...section(7, vec([
      ...(opts.omit?.includes('memory') ? [] : [[...str('memory'), 0x02, 0]]),
      ...fnExports.map((name, i) => [...str(name), 0x00, ...leb(imports.length + i)]),
    ])),
    // every function: () -> i32 { i32.const 0 }
    ...section(10, vec(fnExports.map(() => [4, 0, 0x41, 0, 0x0b]))),
  ];
  return new Uint8Array(bytes);
}
