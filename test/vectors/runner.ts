// The vector runner: runs every vector of a file in the published vectors' format through the
// project's own code. Its output is a contract (test/vectors/published/README.md): one line per failing
// vector (id, field, expected, got) and a closing `N passed, M failed, K skipped` line.
//
// Operations live in test/vectors/ops/<family>.ts, each exporting `ops`: a map from the
// file's operation name to a handler that returns every field the operation computes. What a
// vector computes is decided by its `operation` and `inputs` alone (published/README.md): a
// handler is given the inputs and nothing else — never the vector's id, source, note or
// expected fields — and an input the vector leaves out takes the standard's default for the
// operation. The runner then compares the fields the vector expects; two kinds of field are
// compared as the format defines them (see `matches`): key check values and message prefixes.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Hex = string;
export interface Vector {
  id: string;
  operation: string;
  inputs: Record<string, unknown>;
  expected: Record<string, unknown>;
  note?: string;
}
export interface VectorFile {
  family: string;
  description?: string;
  conventions?: string[];
  vectors: Vector[];
}
/** Computes an operation from the vector's inputs: every field the operation produces (the
 * runner compares those the vector expects). Only the inputs are given, by design. */
export type OpHandler = (inputs: Record<string, any>) => Promise<Record<string, unknown>> | Record<string, unknown>;

const opsDir = fileURLToPath(new URL('./ops/', import.meta.url));

export async function loadOps(): Promise<Map<string, OpHandler>> {
  const table = new Map<string, OpHandler>();
  for (const f of readdirSync(opsDir).filter((f) => f.endsWith('.ts')).sort()) {
    const mod = (await import(`./ops/${f}`)) as { ops: Record<string, OpHandler> };
    for (const [name, fn] of Object.entries(mod.ops)) {
      if (table.has(name)) throw new Error(`vector operation '${name}' defined twice (ops/${f})`);
      table.set(name, fn);
    }
  }
  return table;
}

export interface Failure { id: string; field: string; expected: unknown; got: unknown }
export interface RunResult { passed: number; failed: number; skipped: number; failures: Failure[]; skippedOps: string[] }

function norm(v: unknown): unknown {
  return typeof v === 'string' ? v.toUpperCase() : v;
}

function same(expected: unknown, got: unknown): boolean {
  return JSON.stringify(canon(expected)) === JSON.stringify(canon(got));
}

/** A key check value field: `kcv`, `<key>_kcv` or `<key>_kcv<n>` (n bytes). */
const KCV_FIELD = /(^|_)kcv(\d*)$/;

/** Whether a computed field matches the vector's expected value. The format defines two kinds of
 * field by name: a key check value holds the leading bytes (2 or more; exactly n for `_kcv<n>`)
 * of the check block the conventions name, so a handler returns the whole block and its start
 * must equal the expected value; a `*_prefix` field holds the start of a message, so the computed
 * message must start with it. Every other field must be equal (hex case-insensitive). */
function matches(field: string, expected: unknown, got: unknown): boolean {
  const kcv = KCV_FIELD.exec(field);
  if (kcv && typeof expected === 'string' && typeof got === 'string') {
    const n = kcv[2] ? Number(kcv[2]) * 2 : 0;
    const okLength = n ? expected.length === n : expected.length >= 4 && expected.length % 2 === 0;
    return okLength && got.length >= expected.length && got.toUpperCase().startsWith(expected.toUpperCase());
  }
  if (field.endsWith('_prefix') && typeof expected === 'string' && typeof got === 'string') return got.startsWith(expected);
  return same(expected, got);
}
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as any)[k])]));
  }
  return norm(v);
}

export async function runVectors(file: VectorFile, ops?: Map<string, OpHandler>): Promise<RunResult> {
  const table = ops ?? (await loadOps());
  const r: RunResult = { passed: 0, failed: 0, skipped: 0, failures: [], skippedOps: [] };
  for (const v of file.vectors) {
    const fn = table.get(v.operation);
    if (!fn) {
      r.skipped++;
      if (!r.skippedOps.includes(v.operation)) r.skippedOps.push(v.operation);
      continue;
    }
    let got: Record<string, unknown>;
    try {
      got = await fn(v.inputs);
    } catch (e) {
      got = { error: (e as Error).message };
    }
    const bad: Failure[] = [];
    for (const [field, exp] of Object.entries(v.expected)) {
      if (!matches(field, exp, got[field])) bad.push({ id: v.id, field, expected: exp, got: got[field] ?? (got.error ? `error: ${got.error}` : undefined) });
    }
    if (bad.length) { r.failed++; r.failures.push(...bad); } else r.passed++;
  }
  return r;
}

export function readVectorFile(path: string): VectorFile {
  return JSON.parse(readFileSync(path, 'utf8')) as VectorFile;
}

// --- Wycheproof's schema (C2SP/wycheproof: testGroups[].tests[] with result valid / invalid /
// acceptable), run through a TEE runtime's host crypto by the conformance crypto TA
// (conformance/wycheproof-host.ts). A case passes when a valid one gives the right answer,
// an invalid one is rejected, or an acceptable one goes either way; groups and files that match
// no host primitive are skipped. Failures use the same line format (id = <file>#tc<id>).
export type { WpFile } from '../../conformance/wycheproof-host.ts';
import { isWycheproof, runWycheproofFile, type WpFile, type HostCrypto } from '../../conformance/wycheproof-host.ts';
export { isWycheproof };

export async function runWycheproof(name: string, file: WpFile, hc: HostCrypto): Promise<RunResult> {
  const r: RunResult = { passed: 0, failed: 0, skipped: 0, failures: [], skippedOps: [] };
  const results = await runWycheproofFile(file, hc);
  if (!results) {
    r.skipped = file.numberOfTests;
    r.skippedOps.push(`${file.algorithm} (${file.schema})`);
    return r;
  }
  for (const c of results) {
    if (c.verdict === 'skip') { r.skipped++; continue; }
    if (c.verdict === 'pass') { r.passed++; continue; }
    r.failed++;
    r.failures.push({ id: `${name}#tc${c.tcId}`, field: 'result', expected: c.result, got: c.detail });
  }
  return r;
}
