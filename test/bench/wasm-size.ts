// Where a TA's bytes go, by component: the bench compiles each TA again with the release options
// plus `--debug` (a name section; asc runs the same optimisation passes) and sums each
// function body by the source file its name comes from (WebAssembly Core Specification 2.0,
// §5.5.13 code section; the custom "name" section of its Appendix 7.4). Inlining moves code
// between components, so the split is an estimate; the totals are exact for that build.
import { compile, readDescriptor, ascArgs, discoverDescriptors, PROJECT_ROOT } from '../../build/build.ts';

export type Component = 'codec' | 'payment library' | 'TA logic' | 'runtime and std' | 'data and tables';
export const COMPONENTS: Component[] = ['codec', 'payment library', 'TA logic', 'runtime and std', 'data and tables'];

/** The component a function belongs to, from its AssemblyScript internal name (file path first). */
export function componentOf(fn: string): Component {
  if (fn.startsWith('proto/')) return 'codec';
  if (fn.startsWith('ta/lib/')) return 'payment library';
  if (fn.startsWith('ta/')) return 'TA logic';
  return 'runtime and std'; // ~lib/…, start, virtual stubs, exports glue
}

interface Parsed { bodies: number[]; imported: number; names: Map<number, string>; dataBytes: number }

function parse(bytes: Uint8Array): Parsed {
  let p = 8;
  const leb = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
  const out: Parsed = { bodies: [], imported: 0, names: new Map(), dataBytes: 0 };
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = leb();
    const end = p + size;
    if (id === 2) { // imports: functions take the first indices
      for (let n = leb(); n > 0; n--) {
        { const a = leb(); p += a; } { const b = leb(); p += b; }
        const kind = bytes[p++];
        if (kind === 0) { leb(); out.imported++; } else if (kind === 1) { p++; const f = bytes[p++]; leb(); if (f & 1) leb(); } else if (kind === 2) { const f = bytes[p++]; leb(); if (f & 1) leb(); } else { p += 2; }
      }
    } else if (id === 10) {
      for (let n = leb(); n > 0; n--) { const s = leb(); out.bodies.push(s); p += s; }
    } else if (id === 11) {
      out.dataBytes += size;
    } else if (id === 0) {
      const nl = leb();
      const name = new TextDecoder().decode(bytes.subarray(p, p + nl));
      p += nl;
      if (name === 'name') {
        while (p < end) {
          const sub = bytes[p++]; const len = leb(); const subEnd = p + len;
          if (sub === 1) for (let n = leb(); n > 0; n--) { const idx = leb(); const l = leb(); out.names.set(idx, new TextDecoder().decode(bytes.subarray(p, p + l))); p += l; }
          p = subEnd;
        }
      }
    }
    p = end;
  }
  return out;
}

/** Bytes of each component in the named build of a release module; `other` = sections besides code and data. */
export function sizeByComponent(named: Uint8Array): Record<Component, number> {
  const m = parse(named);
  const r = Object.fromEntries(COMPONENTS.map((c) => [c, 0])) as Record<Component, number>;
  m.bodies.forEach((s, i) => { r[componentOf(m.names.get(m.imported + i) ?? '')] += s; });
  r['data and tables'] = m.dataBytes;
  return r;
}

/** Each TA of the repository compiled with its release arguments plus --debug (names), cached like the build. */
export async function namedReleaseBuilds(): Promise<Array<{ name: string; bytes: Uint8Array }>> {
  const out: Array<{ name: string; bytes: Uint8Array }> = [];
  for (const path of discoverDescriptors()) {
    const d = readDescriptor(PROJECT_ROOT, path);
    const { bytes } = await compile(PROJECT_ROOT, [...ascArgs(d, false), '--debug'], `${PROJECT_ROOT}/build/out/cache`);
    out.push({ name: d.name, bytes });
  }
  return out;
}
