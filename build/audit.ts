// The security team's view of a build directory (`trusttap audit build`): signature status of
// the manifest, and per TA what the binary on disk really holds — hash, size, imports,
// exports, maximum memory — checked against the manifest, the host ABI and the TA ABI.
// Unlike the runtime loader it does not stop at the first problem: it reports all of them.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LoadError, checkEntryMatchesModule, moduleProblems, publicKeyId } from '../tee/loader/manifest.ts';
import { MANIFEST_FILE, SIGNATURE_FILE, parseManifest, sha256Hex, verifyManifestSignature, type Manifest } from '../common/manifest.ts';
import { parseModule, importKey, importSignature, formatSignature } from '../tee/loader/imports.ts';
import type { WasmImport } from '../tee/loader/wasm-info.ts';
import { HOST_ABI_VERSION, debugOnlyImports, hostAbiByKey } from '../tee/abi/table.ts';
import { SBOM_FILE, checkSbom } from './sbom.ts';

export interface AuditProblem { ta: string | null; code: string; message: string }

export interface AuditTa {
  name: string;
  uuid: string;
  version: string;
  file: string;
  debug: boolean;
  /** Measured from the file on disk (null if missing). */
  size: number | null;
  sha256: string | null;
  hash: 'ok' | 'mismatch' | 'missing';
  imports: { module: string; name: string; signature: string; kind: string; status: 'ok' | 'debug-only' | 'unknown' | 'bad-signature' }[];
  exports: { name: string; kind: string }[];
  initial_memory_pages: number | null;
  maximum_memory_pages: number | null;
}

export interface AuditReport {
  dir: string;
  ok: boolean;
  signature: 'valid' | 'invalid' | 'missing';
  trusted_key: string | null;
  manifest_sha256: string | null;
  signer: string | null;
  signing_key: string | null;
  /** The build's SBOM (sbom.cdx.json) against the manifest: each TA's SHA-256 the same. A
   * missing SBOM is reported, not failed (a build directory from before the SBOM existed). */
  sbom: 'ok' | 'mismatch' | 'missing' | 'invalid' | null;
  tas: AuditTa[];
  /** The REE client bundle the manifest names (issue 16 §2), its file hashed here; null when the
   * build has none. */
  client: { name: string; version: string; file: string; sha256: string | null; hash: 'ok' | 'mismatch' | 'missing' } | null;
  problems: AuditProblem[];
}

export function auditBuild(dir: string, trustedPublicKeyPem: string): AuditReport {
  const problems: AuditProblem[] = [];
  const add = (ta: string | null, e: LoadError | { code: string; message: string }) =>
    problems.push({ ta, code: e.code, message: e.message.replace(/^[A-Z_]+: /, '') });
  const report: AuditReport = {
    dir, ok: false, signature: 'missing', trusted_key: null, manifest_sha256: null, signer: null, signing_key: null, sbom: null, tas: [], client: null, problems,
  };
  try { report.trusted_key = publicKeyId(trustedPublicKeyPem); } catch { /* reported by the verification below */ }
  const mpath = join(dir, MANIFEST_FILE);
  if (!existsSync(mpath)) {
    add(null, { code: 'NO_MANIFEST', message: `no ${MANIFEST_FILE} in ${dir} (run trusttap build)` });
    return report;
  }
  const bytes = readFileSync(mpath);
  report.manifest_sha256 = sha256Hex(bytes);
  const spath = join(dir, SIGNATURE_FILE);
  try {
    verifyManifestSignature(bytes, existsSync(spath) ? readFileSync(spath, 'utf8') : null, trustedPublicKeyPem);
    report.signature = 'valid';
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    report.signature = e.code === 'UNSIGNED' ? 'missing' : 'invalid';
    add(null, e);
  }
  // Parsed even when the signature failed, so the auditor still sees what the build claims.
  let manifest: Manifest;
  try {
    manifest = parseManifest(bytes, HOST_ABI_VERSION);
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    add(null, e);
    return report;
  }
  report.signer = manifest.signer;
  report.signing_key = manifest.signing_key;
  const sbomPath = join(dir, SBOM_FILE);
  const sbom = checkSbom(existsSync(sbomPath) ? readFileSync(sbomPath, 'utf8') : null, manifest);
  report.sbom = sbom.status;
  for (const p of sbom.problems) add(p.ta, p);
  for (const entry of manifest.tas) {
    const ta: AuditTa = {
      name: entry.name, uuid: entry.uuid, version: entry.version, file: entry.file, debug: entry.debug,
      size: null, sha256: null, hash: 'missing', imports: [], exports: [], initial_memory_pages: null, maximum_memory_pages: null,
    };
    report.tas.push(ta);
    const label = entry.name + (entry.debug ? ' (debug)' : '');
    const fpath = join(dir, entry.file);
    if (!existsSync(fpath)) {
      add(label, { code: 'HASH_MISMATCH', message: `${entry.file} is missing` });
      continue;
    }
    const wasm = readFileSync(fpath);
    ta.size = wasm.length;
    ta.sha256 = sha256Hex(wasm);
    ta.hash = ta.size === entry.size && ta.sha256 === entry.sha256 ? 'ok' : 'mismatch';
    if (ta.hash === 'mismatch') {
      add(label, { code: 'HASH_MISMATCH', message: `${entry.file}: sha256 ${ta.sha256} (${ta.size} B), manifest says ${entry.sha256} (${entry.size} B)` });
    }
    let info;
    try {
      info = parseModule(wasm);
    } catch (e) {
      add(label, e as LoadError);
      continue;
    }
    const found = moduleProblems(info, { release: !entry.debug });
    const statusOf = (i: WasmImport): AuditTa['imports'][number]['status'] => {
      const fn = hostAbiByKey.get(importKey(i));
      if (!fn || i.kind !== 'function') return 'unknown';
      if (importSignature(i) !== formatSignature(fn.params, fn.results)) return 'bad-signature';
      return debugOnlyImports.has(importKey(i)) ? 'debug-only' : 'ok';
    };
    ta.imports = info.imports.map((i) => ({ module: i.module, name: i.name, signature: importSignature(i), kind: i.kind, status: statusOf(i) }));
    ta.exports = info.exports.map((e) => ({ name: e.name, kind: e.kind }));
    ta.initial_memory_pages = info.memory?.initialPages ?? null;
    ta.maximum_memory_pages = info.memory?.maximumPages ?? null;
    for (const p of found) add(label, p);
    if (!found.length && ta.hash === 'ok') {
      try { checkEntryMatchesModule(entry, info); } catch (e) { add(label, e as LoadError); }
    }
  }
  if (manifest.client) {
    const c = manifest.client;
    const fpath = join(dir, c.file);
    const bundle = existsSync(fpath) ? readFileSync(fpath) : null;
    const sha = bundle ? sha256Hex(bundle) : null;
    report.client = { name: c.name, version: c.version, file: c.file, sha256: sha, hash: !bundle ? 'missing' : sha === c.sha256 && bundle.length === c.size ? 'ok' : 'mismatch' };
    if (report.client.hash !== 'ok') add('client', { code: 'HASH_MISMATCH', message: bundle ? `${c.file}: sha256 ${sha} (${bundle.length} B), manifest says ${c.sha256} (${c.size} B)` : `${c.file} is missing` });
  }
  report.ok = problems.length === 0;
  return report;
}

/** The human-readable table. */
export function formatAudit(r: AuditReport, opts: { keyNote?: string } = {}): string {
  const L: string[] = [];
  const sig = { valid: 'VALID', invalid: 'INVALID', missing: 'MISSING (unsigned)' }[r.signature];
  L.push(`TrustTap build audit — ${r.dir}`);
  L.push(`  manifest   ${MANIFEST_FILE} sha256 ${r.manifest_sha256 ?? '-'}`);
  L.push(`  signature  ${sig}, checked with ${r.trusted_key ?? 'an unreadable key'}${opts.keyNote ? ` ${opts.keyNote}` : ''}`);
  L.push(`  signer     ${r.signer ?? '-'}${r.signer === 'development' ? '  ← DEVELOPMENT ONLY key, not for production devices' : ''}  (${r.signing_key ?? '-'})`);
  const sbom = { ok: `${SBOM_FILE}: every TA hash matches the manifest`, mismatch: `${SBOM_FILE}: MISMATCH (below)`, invalid: `${SBOM_FILE}: INVALID (below)`, missing: `none (no ${SBOM_FILE}; trusttap sbom writes it)` };
  L.push(`  sbom       ${r.sbom ? sbom[r.sbom] : '-'}`);
  if (r.client) L.push(`  client     ${r.client.name} ${r.client.version}  ${r.client.file}  ${r.client.hash.toUpperCase()}  sha256 ${r.client.sha256 ?? '-'}`);
  L.push('');
  const head = ['TA', 'file', 'size', 'max mem', 'hash', 'sha256'];
  const rows = r.tas.map((t) => [
    t.name + (t.debug ? ' [debug]' : ''), t.file, t.size === null ? '-' : `${t.size} B`,
    t.maximum_memory_pages === null ? 'NONE' : `${t.maximum_memory_pages} p (${(t.maximum_memory_pages * 64).toLocaleString('en')} KiB)`,
    t.hash.toUpperCase(), t.sha256 ?? '-',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(w[i]))).join('  ');
  L.push(line(head));
  L.push(line(w.map((n) => '-'.repeat(n))));
  for (const row of rows) L.push(line(row));
  for (const t of r.tas) {
    L.push('');
    L.push(`  ${t.name}${t.debug ? ' [debug]' : ''} ${t.version} ${t.uuid}`);
    L.push(`    imports (${t.imports.length}):`);
    for (const i of t.imports) {
      const mark = { ok: ' ', 'debug-only': t.debug ? 'd' : '✗', unknown: '✗', 'bad-signature': '✗' }[i.status];
      L.push(`      ${mark} ${`${i.module}.${i.name}`.padEnd(22)} ${i.signature || i.kind}${i.status !== 'ok' ? `   ← ${i.status}` : ''}`);
    }
    L.push(`    exports (${t.exports.length}): ${t.exports.map((e) => (e.kind === 'function' ? e.name : `${e.name} (${e.kind})`)).join(', ')}`);
  }
  L.push('');
  if (r.ok) L.push(`RESULT: PASS — ${r.tas.length} TA file(s), signature valid, all imports in host ABI v1`);
  else {
    L.push(`RESULT: FAIL — ${r.problems.length} problem(s):`);
    for (const p of r.problems) L.push(`  ✗ ${p.ta ? `${p.ta}: ` : ''}${p.code}: ${p.message}`);
  }
  return L.join('\n');
}
