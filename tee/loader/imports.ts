// Load-time checks of a TA's WebAssembly module against the contracts: every import must be a
// function of host ABI v1 (tee/abi/table.ts) with exactly the declared signature, the TA ABI
// exports must be present (tee/abi/ta-exports.ts), and its memory must declare a maximum (Node
// cannot cap Wasm memory any other way). A release TA must not import debug-only functions.
// Errors are LoadError with a stable code and a message that names what was wrong.
import { createHash } from 'node:crypto';
import { readWasmInfo, WasmFormatError, type WasmInfo, type WasmImport } from './wasm-info.ts';
import { hostAbiByKey, debugOnlyImports, tuiImports } from '../abi/table.ts';
import { requiredTaExports, tuiTaExports } from '../abi/ta-exports.ts';
import { LoadError } from '../../common/load-error.ts';

export { LoadError, type LoadErrorCode } from '../../common/load-error.ts';

export interface CheckOptions {
  /** Release mode: debug-only imports (tee.log, env.trace) are refused. */
  release: boolean;
}

/** The signature notation used in the manifest, the docs and error messages: `(i32, i32) -> i32`,
 * `() -> f64`, `(i32) -> void`. */
export function formatSignature(params: readonly string[], results: readonly string[]): string {
  const r = results.length === 0 ? 'void' : results.length === 1 ? results[0] : `(${results.join(', ')})`;
  return `(${params.join(', ')}) -> ${r}`;
}

export function importKey(imp: { module: string; name: string }): string {
  return `${imp.module}.${imp.name}`;
}

/** The signature of a Wasm import as formatSignature writes it ('' for a non-function import). */
export function importSignature(imp: WasmImport): string {
  return imp.type ? formatSignature(imp.type.params, imp.type.results) : '';
}

// What was read from each module, by the SHA-256 of its bytes (computed here, never taken from a
// caller): the loader and the runtime both check a TA before it starts, and a second parse in a
// fresh process costs more than hashing the bytes again. Bounded: a TEE holds a handful of TAs.
const parsed = new Map<string, WasmInfo>();
const PARSED_MAX = 32;

const freezeInfo = (info: WasmInfo): WasmInfo => {
  for (const i of info.imports) { if (i.type) { Object.freeze(i.type.params); Object.freeze(i.type.results); Object.freeze(i.type); } Object.freeze(i); }
  info.exports.forEach(Object.freeze);
  if (info.memory) Object.freeze(info.memory);
  Object.freeze(info.imports); Object.freeze(info.exports);
  return Object.freeze(info);
};

/** What the module imports, exports and declares as memory (frozen: it may be shared). */
export function parseModule(bytes: Uint8Array): WasmInfo {
  const key = createHash('sha256').update(bytes).digest('hex');
  const known = parsed.get(key);
  if (known) return known;
  let info: WasmInfo;
  try {
    info = freezeInfo(readWasmInfo(bytes));
  } catch (e) {
    if (e instanceof WasmFormatError) throw new LoadError('NOT_WASM', `not a valid WebAssembly module: ${e.message}`);
    throw e;
  }
  if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
  parsed.set(key, info);
  return info;
}

/** Every problem of the module, in a stable order (imports, exports, memory). Empty = loadable. */
export function moduleProblems(info: WasmInfo, opts: CheckOptions): LoadError[] {
  const problems: LoadError[] = [];
  for (const imp of info.imports) {
    const key = importKey(imp);
    const fn = hostAbiByKey.get(key);
    if (!fn || imp.kind !== 'function') {
      problems.push(new LoadError('UNKNOWN_IMPORT', `import ${key} (${imp.kind}${imp.type ? ' ' + importSignature(imp) : ''}) is not in the host ABI`));
      continue;
    }
    const want = formatSignature(fn.params, fn.results);
    const got = importSignature(imp);
    if (got !== want) {
      problems.push(new LoadError('BAD_IMPORT_SIGNATURE', `import ${key} has signature ${got}; the host ABI declares ${want}`));
      continue;
    }
    if (opts.release && debugOnlyImports.has(key)) {
      problems.push(new LoadError('DEBUG_IMPORT_IN_RELEASE', `release TA imports debug-only ${key}`));
    }
  }
  const exports = new Map(info.exports.map((e) => [e.name, e.kind]));
  const usesTui = info.imports.some((imp) => tuiImports.has(importKey(imp)));
  for (const name of usesTui ? [...requiredTaExports, ...tuiTaExports] : requiredTaExports) {
    const want = name === 'memory' ? 'memory' : 'function';
    const kind = exports.get(name);
    if (kind !== want) {
      problems.push(new LoadError('MISSING_EXPORT', kind ? `export ${name} is a ${kind}, expected a ${want}` : `missing export ${name} (${want})`));
    }
  }
  if (!info.memory) problems.push(new LoadError('NO_MEMORY', 'the module has no memory'));
  else if (info.memory.maximumPages === null) {
    problems.push(new LoadError('NO_MAXIMUM_MEMORY', `memory declares no maximum (initial ${info.memory.initialPages} pages); build with --maximumMemory`));
  }
  return problems;
}

/** Checks a TA module before it is compiled or instantiated; throws the first LoadError found
 * (its message says how many more there are). Returns what was read from the binary. */
export function checkTaModule(bytes: Uint8Array, opts: CheckOptions): WasmInfo {
  const info = parseModule(bytes);
  if (passed.has(info) && (!opts.release || passed.get(info))) return info;
  const problems = moduleProblems(info, opts);
  if (problems.length) {
    const first = problems[0];
    if (problems.length > 1) first.message += ` (and ${problems.length - 1} more: ${problems.slice(1).map((p) => p.code).join(', ')})`;
    throw first;
  }
  passed.set(info, passed.get(info) || opts.release);
  return info;
}

/** The modules (as parseModule's shared info) that passed: true when in release mode. A module
 * that passed in release mode passes in debug mode too (release only adds refusals). */
const passed = new WeakMap<WasmInfo, boolean>();
