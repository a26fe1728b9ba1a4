// Code generator for the TrustTap protocol: reads .proto files through protobufjs reflection
// and emits (1) one AssemblyScript file per .proto: plain classes, each handing a small field
// table to the one generic codec in proto/as/message.ts (on the wire runtime proto/as/pb.ts),
// and (2) static ESM code + .d.ts for TypeScript via pbjs. It returns file contents instead of
// writing them, so `trusttap gen --check` and the sync test can compare with what is committed.
//
// Supported subset (anything else is refused with a message naming the field): proto3 syntax;
// scalar types except float/double; enums; nested messages/enums; oneof; proto3 `optional`;
// repeated (packed by default, `[packed=false]` honoured); imports between our files.
// Refused: maps (protobufjs writes them in insertion order, which is not canonical), float and
// double (no use in the protocol, and NaN/-0 make byte equality fragile), groups, extensions,
// proto2/editions files.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
// protobufjs-cli is CommonJS; its `pbjs.main` writes the static module and its .d.ts.
import cli from 'protobufjs-cli';

type Type = protobuf.Type;
type Enum = protobuf.Enum;
type Field = protobuf.Field;
type OneOf = protobuf.OneOf;
type ReflectionObject = protobuf.ReflectionObject;

export class GenError extends Error {}

/** Loads .proto files; imports resolve against the importing file's folder, then each root. */
export function loadRoot(files: string[]): protobuf.Root {
  const roots = [...new Set(files.map((f) => path.dirname(path.resolve(f))))];
  const root = new protobuf.Root();
  root.resolvePath = (origin: string, target: string): string => {
    if (path.isAbsolute(target)) return target;
    const candidates = [path.resolve(origin ? path.dirname(origin) : '.', target), ...roots.map((r) => path.resolve(r, target))];
    for (const c of candidates) {
      try {
        readFileSync(c);
        return c;
      } catch {
        /* try next */
      }
    }
    return candidates[0];
  };
  root.loadSync(files.map((f) => path.resolve(f)), { keepCase: false });
  root.resolveAll();
  return root;
}

// ---------------------------------------------------------------------------------------------
// AssemblyScript

interface ScalarInfo { as: string; wire: number; method: string; zero: string }
const SCALARS: Record<string, ScalarInfo> = {
  int32: { as: 'i32', wire: 0, method: 'int32', zero: '0' },
  uint32: { as: 'u32', wire: 0, method: 'uint32', zero: '0' },
  sint32: { as: 'i32', wire: 0, method: 'sint32', zero: '0' },
  int64: { as: 'i64', wire: 0, method: 'int64', zero: '0' },
  uint64: { as: 'u64', wire: 0, method: 'uint64', zero: '0' },
  sint64: { as: 'i64', wire: 0, method: 'sint64', zero: '0' },
  fixed32: { as: 'u32', wire: 5, method: 'fixed32', zero: '0' },
  sfixed32: { as: 'i32', wire: 5, method: 'sfixed32', zero: '0' },
  fixed64: { as: 'u64', wire: 1, method: 'fixed64', zero: '0' },
  sfixed64: { as: 'i64', wire: 1, method: 'sfixed64', zero: '0' },
  bool: { as: 'bool', wire: 0, method: 'bool', zero: 'false' },
  string: { as: 'string', wire: 2, method: 'string', zero: '""' },
  bytes: { as: 'Uint8Array', wire: 2, method: 'bytes', zero: 'new Uint8Array(0)' },
};
const REFUSED_TYPES = new Set(['float', 'double']);

// Identifiers AssemblyScript (or the generated class) cannot take as a field name.
const RESERVED = new Set([
  'encode', 'encodeTo', 'decode', 'decodeFrom', 'mergeFrom', 'pbTable', 'constructor', 'prototype',
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import',
  'in', 'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try',
  'typeof', 'var', 'void', 'while', 'with', 'let', 'static', 'yield', 'await', 'implements',
  'interface', 'package', 'private', 'protected', 'public',
]);

interface FieldModel {
  f: Field;
  name: string;            // camelCase, as protobufjs and the TS side name it
  id: number;
  kind: 'scalar' | 'enum' | 'message';
  scalar?: ScalarInfo;      // for scalars; enums use int32
  asType: string;           // element type in AS
  repeated: boolean;
  packed: boolean;
  optional: boolean;        // proto3 `optional` → has-flag
  oneof: OneOf | null;      // a real oneof (not the synthetic one of `optional`)
}

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const upperSnake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function isTypeObj(o: unknown): o is Type { return o instanceof protobuf.Type; }
/** proto2 groups (Type.group is set by the parser but missing from the .d.ts). */
function isGroup(o: unknown): boolean { return isTypeObj(o) && (o as unknown as { group?: boolean }).group === true; }
function isEnumObj(o: unknown): o is Enum { return o instanceof protobuf.Enum; }

/** Name of a message/enum inside its file: nested types are joined with '_'. */
function localName(o: ReflectionObject): string {
  const parts: string[] = [];
  let cur: ReflectionObject | null = o;
  while (cur && (isTypeObj(cur) || isEnumObj(cur))) {
    parts.unshift(cur.name);
    cur = cur.parent;
  }
  return parts.join('_');
}

function fileOf(o: ReflectionObject): string {
  if (!o.filename) throw new GenError(`${o.fullName}: no source file (well-known or built-in types are not supported)`);
  return path.resolve(o.filename);
}

function where(t: Type, f?: Field): string {
  return `${path.basename(t.filename ?? '?')}: ${t.fullName.slice(1)}${f ? '.' + f.name : ''}`;
}

/** Top-level messages and enums of a file (nested ones are reached through them). */
function collect(root: protobuf.Root): Map<string, ReflectionObject[]> {
  const byFile = new Map<string, ReflectionObject[]>();
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const o of ns.nestedArray) {
      if (isTypeObj(o) || isEnumObj(o)) {
        const file = fileOf(o);
        if (!byFile.has(file)) byFile.set(file, []);
        byFile.get(file)!.push(o);
      } else if (o instanceof protobuf.Namespace) {
        walk(o);
      } else if (o instanceof protobuf.Service) {
        // services are for RPC frameworks; the TA ABI does not use them — ignored on the AS side
      } else {
        throw new GenError(`${o.fullName}: unsupported declaration (${o.constructor.name})`);
      }
    }
  };
  walk(root);
  return byFile;
}

function fieldModel(t: Type, f: Field): FieldModel {
  f.resolve();
  if (f.map) throw new GenError(`${where(t, f)}: map fields are not supported (use repeated Entry messages; protobufjs writes maps in insertion order, which is not canonical)`);
  if (REFUSED_TYPES.has(f.type)) throw new GenError(`${where(t, f)}: ${f.type} is not supported in the TrustTap protocol (use fixed-point integers)`);
  if (f.required) throw new GenError(`${where(t, f)}: required fields are proto2; use proto3`);
  if (f.extend || f.declaringField || f.extensionField) throw new GenError(`${where(t, f)}: extensions are not supported`);
  if (f.delimited || (f.resolvedType && isGroup(f.resolvedType))) throw new GenError(`${where(t, f)}: groups are not supported`);
  if (RESERVED.has(f.name)) throw new GenError(`${where(t, f)}: field name '${f.name}' is reserved in the generated AssemblyScript; rename it`);
  const m: FieldModel = {
    f, name: f.name, id: f.id, kind: 'scalar', asType: '', repeated: f.repeated, packed: false,
    optional: false, oneof: null,
  };
  if (f.resolvedType && isEnumObj(f.resolvedType)) {
    m.kind = 'enum';
    m.scalar = SCALARS.int32;
  } else if (f.resolvedType && isTypeObj(f.resolvedType)) {
    m.kind = 'message';
  } else {
    const s = SCALARS[f.type];
    if (!s) throw new GenError(`${where(t, f)}: unsupported type '${f.type}'`);
    m.scalar = s;
    m.asType = s.as;
  }
  m.packed = m.repeated && m.kind !== 'message' && m.scalar!.wire !== 2 && f.packed;
  const o = f.partOf;
  if (o) {
    if ((o as unknown as { isProto3Optional: boolean }).isProto3Optional) m.optional = true;
    else m.oneof = o;
  }
  return m;
}

class AsFile {
  private lines: string[] = [];
  /** kind and flag constants of proto/as/message.ts the tables use */
  private used = new Set<string>();
  /** type (by full name) → identifier usable in this file */
  private names = new Map<string, string>();
  /** other file → [local name, alias] */
  private imports = new Map<string, Map<string, string>>();

  constructor(private file: string, private objs: ReflectionObject[], private outFile: string, private runtime: string) {
    const seen = new Map<string, string>();
    const addLocal = (o: ReflectionObject) => {
      const n = localName(o);
      if (seen.has(n)) throw new GenError(`${path.basename(file)}: ${o.fullName.slice(1)} and ${seen.get(n)} both map to the AssemblyScript name ${n}`);
      seen.set(n, o.fullName.slice(1));
      this.names.set(o.fullName, n);
      if (isTypeObj(o)) for (const c of o.nestedArray) if (isTypeObj(c) || isEnumObj(c)) addLocal(c);
    };
    for (const o of objs) addLocal(o);
  }

  private ref(o: ReflectionObject): string {
    const known = this.names.get(o.fullName);
    if (known) return known;
    const other = fileOf(o);
    const local = localName(o);
    const taken = new Set(this.names.values());
    let alias = local;
    if (taken.has(alias)) alias = `${path.basename(other, '.proto').replace(/\W/g, '_')}_${local}`;
    if (taken.has(alias)) throw new GenError(`${path.basename(this.file)}: cannot find a free name for ${o.fullName.slice(1)}`);
    if (!this.imports.has(other)) this.imports.set(other, new Map());
    this.imports.get(other)!.set(local, alias);
    this.names.set(o.fullName, alias);
    return alias;
  }

  private out(s = '') { this.lines.push(s); }

  render(relSource: string): string {
    for (const o of this.objs) this.emit(o);
    const head: string[] = [
      `// Code generated by proto/gen-as.ts from ${relSource}. DO NOT EDIT.`,
      '// Regenerate with `npx trusttap gen`. Codec rules: proto/README.md.',
      '',
    ];
    const used = this.lines.join('\n');
    if (/\bPbReader\b/.test(used)) head.push(`import { PbReader } from "${this.runtime}";`);
    const codec = ['PbMessage', 'pbDecode', 'pbDecodeFrom', ...[...this.used].sort()].filter((n) => new RegExp(`\\b${n}\\b`).test(used));
    if (codec.length) head.push(`import { ${codec.join(', ')} } from "${this.runtime.replace(/pb$/, 'message')}";`);
    const outDir = path.dirname(this.outFile);
    for (const other of [...this.imports.keys()].sort()) {
      const spec = [...this.imports.get(other)!.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([l, a]) => (l === a ? l : `${l} as ${a}`)).join(', ');
      let rel = path.relative(outDir, path.join(outDir, path.basename(other, '.proto'))).replace(/\\/g, '/');
      if (!rel.startsWith('.')) rel = './' + rel;
      head.push(`import { ${spec} } from "${rel}";`);
    }
    return head.join('\n') + '\n' + this.lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
  }

  private emit(o: ReflectionObject) {
    if (isEnumObj(o)) this.emitEnum(o);
    else if (isTypeObj(o)) {
      this.emitMessage(o);
      for (const c of o.nestedArray) if (isTypeObj(c) || isEnumObj(c)) this.emit(c);
    }
  }

  private emitEnum(e: Enum) {
    this.out();
    this.out(`/** enum ${e.fullName.slice(1)} */`);
    this.out(`export enum ${this.names.get(e.fullName)} {`);
    for (const [k, v] of Object.entries(e.values)) this.out(`  ${k} = ${v},`);
    this.out('}');
  }

  private emitMessage(t: Type) {
    if (isGroup(t)) throw new GenError(`${where(t)}: groups are not supported`);
    if ((t as unknown as { _edition?: string })._edition && (t as unknown as { _edition?: string })._edition !== 'proto3' && !isTypeObj(t.parent)) {
      throw new GenError(`${where(t)}: only proto3 files are supported`);
    }
    if (t.extensions && t.extensions.length) throw new GenError(`${where(t)}: extension ranges are not supported`);
    const cls = this.names.get(t.fullName)!;
    const fields = t.fieldsArray.map((f) => fieldModel(t, f)).sort((a, b) => a.id - b.id);
    for (const m of fields) {
      if (m.kind === 'enum') m.asType = this.ref(m.f.resolvedType!);
      if (m.kind === 'message') m.asType = this.ref(m.f.resolvedType!);
    }
    const oneofs = t.oneofsArray.filter((o) => !(o as unknown as { isProto3Optional: boolean }).isProto3Optional);
    // Generated member names must not collide with fields.
    const members = new Map<string, string>();
    const claim = (n: string, what: string) => {
      if (members.has(n)) throw new GenError(`${where(t)}: generated name '${n}' (${what}) collides with ${members.get(n)}`);
      members.set(n, what);
    };
    for (const m of fields) claim(m.name, `field ${m.f.name}`);
    for (const o of oneofs) claim(`${o.name}Case`, `oneof ${o.name}`);
    for (const m of fields) {
      if (m.optional) claim(`has${upperFirst(m.name)}`, `presence of ${m.name}`);
      if (m.optional || m.oneof) claim(`set${upperFirst(m.name)}`, `setter of ${m.name}`);
    }
    const constName = (o: OneOf, m?: FieldModel) => `${upperSnake(o.name)}_${m ? upperSnake(m.name) : 'NOT_SET'}`;

    this.out();
    this.out(`/** message ${t.fullName.slice(1)} */`);
    this.out(`export class ${cls} extends PbMessage {`);
    for (const o of oneofs) {
      const ms = fields.filter((m) => m.oneof === o);
      this.out(`  /** oneof ${o.name}: ${cls}.${constName(o)} or the field number of the member that is set. */`);
      this.out(`  ${o.name}Case: i32 = 0;`);
      this.out(`  static readonly ${constName(o)}: i32 = 0;`);
      for (const m of ms) this.out(`  static readonly ${constName(o, m)}: i32 = ${m.id};`);
    }
    for (const m of fields) {
      const decl = this.declType(m);
      const note = m.oneof ? ` // oneof ${m.oneof.name}` : '';
      this.out(`  ${m.name}: ${decl} = ${this.initial(m)};${note}`);
      if (m.optional) this.out(`  has${upperFirst(m.name)}: bool = false;`);
    }
    this.out();
    for (const l of this.table(cls, fields)) this.out(l);
    // Setters keep the has-flag / case in step with the value.
    for (const m of fields) {
      if (!m.optional && !m.oneof) continue;
      const arg = m.kind === 'message' ? m.asType : this.declType(m);
      this.out();
      this.out(`  set${upperFirst(m.name)}(v: ${arg}): ${cls} {`);
      this.out(`    this.${m.name} = v;`);
      if (m.optional) this.out(`    this.has${upperFirst(m.name)} = true;`);
      else this.out(`    this.${m.oneof!.name}Case = ${m.id};`);
      this.out('    return this;');
      this.out('  }');
    }

    this.out();
    this.out('  /** Decodes a whole buffer; null on malformed input (see lastDecodeError()). */');
    this.out(`  static decode(bytes: Uint8Array): ${cls} | null { return changetype<${cls} | null>(pbDecode(new ${cls}(), bytes)); }`);
    this.out('  /** Decodes the next len bytes of r; null on error (r.err, r.errPos say why). */');
    this.out(`  static decodeFrom(r: PbReader, len: i32): ${cls} | null { return changetype<${cls} | null>(pbDecodeFrom(new ${cls}(), r, len)); }`);
    this.out('}');
    this.out();
    this.out(`/** A new ${cls} (the codec makes nested messages with it). */`);
    this.out(`export function ${cls}__new(): PbMessage { return new ${cls}(); }`);
    for (const f of flagsUsed(fields)) this.used.add(f);
  }

  /** The constructor handing the message's field table (proto/as/message.ts) to the codec. */
  private table(cls: string, fields: FieldModel[]): string[] {
    const rows = fields.map((m) => {
      let off = `offsetof<${cls}>("${m.name}")`;
      if (m.oneof) off += ` | offsetof<${cls}>("${m.oneof.name}Case") << 16`;
      if (m.optional) off += ` | offsetof<${cls}>("has${upperFirst(m.name)}") << 16`;
      const make = m.kind === 'message' ? `changetype<u32>(${this.factory(m)})` : '0';
      return `      ${m.id}, ${flagsUsed([m]).join(' | ')}, ${off}, ${make},`;
    });
    return [
      '  constructor() {',
      '    // field count; then per field: number, kind | flags, offset | case or has-flag offset, factory',
      `    super(memory.data<u32>([${fields.length}${rows.length ? ',' : ']));'}`,
      ...(rows.length ? [...rows, '    ]));'] : []),
      '  }',
    ];
  }

  /** The factory function of a message field's type, imported when it is in another file. */
  private factory(m: FieldModel): string {
    const T = m.f.resolvedType!;
    const other = fileOf(T);
    if (other === path.resolve(this.file)) return `${m.asType}__new`;
    const local = `${localName(T)}__new`;
    if (!this.imports.has(other)) this.imports.set(other, new Map());
    this.imports.get(other)!.set(local, local);
    return local;
  }

  private declType(m: FieldModel): string {
    if (m.repeated) return `Array<${m.asType}>`;
    if (m.kind === 'message') return `${m.asType} | null`;
    return m.asType;
  }

  private initial(m: FieldModel): string {
    if (m.repeated) return `new Array<${m.asType}>()`;
    if (m.kind === 'message') return 'null';
    if (m.kind === 'enum') {
      const e = m.f.resolvedType as Enum;
      const dflt = Number(m.f.typeDefault ?? 0);
      const name = Object.keys(e.values).find((k) => e.values[k] === dflt);
      return name ? `${m.asType}.${name}` : `<${m.asType}>${dflt}`;
    }
    return m.scalar!.zero;
  }
}

/** The kind and flag constants a message's field table names. */
function flagsUsed(fields: FieldModel[]): string[] {
  const out: string[] = [];
  for (const m of fields) {
    out.push(m.kind === 'message' ? 'K_MESSAGE' : `K_${m.kind === 'enum' ? 'INT32' : m.scalar!.method.toUpperCase()}`);
    if (m.repeated) out.push('F_REPEATED');
    if (m.packed) out.push('F_PACKED');
    if (m.oneof) out.push('F_ONEOF');
    if (m.optional) out.push('F_OPTIONAL');
  }
  return out;
}

/** Every message type of the given files, in generation order, with its AS module and name. */
export function messageTypes(protoFiles: string[]): Array<{ fullName: string; file: string; asName: string }> {
  const files = [...protoFiles].map((f) => path.resolve(f)).sort();
  const byFile = collect(loadRoot(files));
  const out: Array<{ fullName: string; file: string; asName: string }> = [];
  const walk = (file: string, o: ReflectionObject) => {
    if (!isTypeObj(o)) return;
    out.push({ fullName: o.fullName.slice(1), file, asName: localName(o) });
    for (const c of o.nestedArray) walk(file, c);
  };
  for (const f of files) for (const o of byFile.get(f) ?? []) walk(f, o);
  return out;
}

export interface GenOptions {
  /** Project root: paths in headers are written relative to it. */
  rootDir: string;
  /** Folder for the AS files. */
  asOutDir: string;
  /** Path of proto/as/pb.ts (imported by every AS file). */
  runtime: string;
  /** Path of the single TS module (.js; the .d.ts goes next to it). */
  tsOut: string;
  /** protobufjs root name (keeps two generated modules from overwriting each other). */
  tsRootName: string;
}

/** AS codec files for the given .proto files, as path → content. */
export function generateAs(protoFiles: string[], opts: GenOptions): Map<string, string> {
  const files = [...protoFiles].map((f) => path.resolve(f)).sort();
  const base = new Map<string, string>();
  for (const f of files) {
    const b = path.basename(f, '.proto');
    if (base.has(b)) throw new GenError(`two .proto files named ${b}.proto (${base.get(b)}, ${f})`);
    base.set(b, f);
  }
  const root = loadRoot(files);
  const byFile = collect(root);
  for (const f of byFile.keys()) {
    if (!files.includes(f)) throw new GenError(`${path.relative(opts.rootDir, f)} is imported but not among the generated files`);
  }
  const out = new Map<string, string>();
  for (const f of files) {
    const target = path.join(opts.asOutDir, path.basename(f, '.proto') + '.ts');
    let rt = path.relative(path.dirname(target), opts.runtime).replace(/\\/g, '/').replace(/\.ts$/, '');
    if (!rt.startsWith('.')) rt = './' + rt;
    const gen = new AsFile(f, byFile.get(f) ?? [], target, rt);
    out.set(target, gen.render(path.relative(opts.rootDir, f).replace(/\\/g, '/')));
  }
  return out;
}

/**
 * Static TS code through pbjs: one ESM module for all files.
 * Flags: `-w esm` (ESM import of protobufjs/minimal.js, works under NodeNext), `-d` (.d.ts),
 * `--force-long` (int64 fields are typed Long, which is what decode returns), field names
 * camelCase (no --keep-case, so TS and AS use the same names), `-r` a root of our own.
 */
export async function generateTs(protoFiles: string[], opts: GenOptions): Promise<Map<string, string>> {
  const files = [...protoFiles].map((f) => path.relative(opts.rootDir, path.resolve(f)).replace(/\\/g, '/')).sort();
  const tmp = mkdtempSync(path.join(tmpdir(), 'trusttap-pbjs-'));
  try {
    const js = path.join(tmp, 'out.js');
    const flags = ['-t', 'static-module', '-w', 'esm', '-d', '--force-long', '-r', opts.tsRootName];
    const dirs = [...new Set(files.map((f) => path.dirname(f)))];
    // Absolute paths for pbjs (no chdir: it would affect the whole process); the header shows
    // the relative ones so the output does not depend on where the repository lives.
    const abs = (f: string) => path.join(opts.rootDir, f);
    const args = [...flags, ...dirs.flatMap((d) => ['-p', abs(d)]), '-o', js, ...files.map(abs)];
    const pbjs = (cli as { pbjs: { main(a: string[], cb: (e: unknown) => void): void } }).pbjs;
    const failure = await new Promise<unknown>((resolve) => pbjs.main(args, resolve));
    if (failure) throw new GenError(`pbjs failed: ${String(failure)}`);
    const shown = [...flags, ...dirs.flatMap((d) => ['-p', d]), ...files].join(' ');
    const header = `// Code generated by proto/gen-as.ts (pbjs ${shown}). DO NOT EDIT.\n`;
    const dts = js.replace(/\.js$/, '.d.ts');
    const outJs = path.resolve(opts.tsOut);
    return new Map([
      [outJs, header + readFileSync(js, 'utf8')],
      [outJs.replace(/\.js$/, '.d.ts'), header + readFileSync(dts, 'utf8')],
    ]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function generateAll(protoFiles: string[], opts: GenOptions): Promise<Map<string, string>> {
  if (!protoFiles.length) return new Map();
  return new Map([...generateAs(protoFiles, opts), ...(await generateTs(protoFiles, opts))]);
}
