// What the runtime and `trusttap audit` refuse: tampered wasm, tampered or unsigned manifests,
// imports outside the host ABI, wrong import signatures, debug imports in release, missing
// exports, memory without a maximum. Each refusal is a LoadError whose code and message name it.
import { describe, test, expect, beforeAll, vi } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { buildTas, manifestEntry, writeSignedManifest, DEV_KEY_PATH, DEV_PUBLIC_KEY_PATH, PROJECT_ROOT } from '../../build/build.ts';
import { auditBuild } from '../../build/audit.ts';
import { run as audit } from '../../cli/commands/audit.ts';
import { loadVerifiedManifest, loadVerifiedTa, verifyTaBinary, checkTaModule, LoadError, type LoadErrorCode } from '../../tee/loader/manifest.ts';
import { taWasm, type FixtureImport } from './wasm-fixture.ts';
import { parseModule } from '../../tee/loader/imports.ts';

const ECHO = 'test/build/fixtures/echo/ta.json';
const devPub = readFileSync(DEV_PUBLIC_KEY_PATH, 'utf8');
let good: string;

const copy = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `tt-load-${name}-`));
  cpSync(good, dir, { recursive: true });
  return dir;
};

function code(f: () => unknown): { code: LoadErrorCode; message: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return { code: (e as LoadError).code, message: (e as LoadError).message };
  }
  throw new Error('expected a LoadError');
}

/** Runs `trusttap audit build --dir DIR --json` in-process; returns the exit code and report. */
async function runAudit(dir: string, key = DEV_PUBLIC_KEY_PATH): Promise<{ rc: number; report: any }> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((s: string) => { out.push(s); });
  try {
    const rc = await audit(['build', '--dir', dir, '--key', key, '--json']);
    return { rc, report: JSON.parse(out.join('\n')) };
  } finally {
    spy.mockRestore();
  }
}

/** A build directory holding one hand-assembled TA module, with a correctly signed manifest. */
function signedBuildOf(wasm: Uint8Array, opts: { debug?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tt-load-fixture-'));
  const file = opts.debug ? 'probe.debug.wasm' : 'probe.wasm';
  writeFileSync(join(dir, file), wasm);
  const d = { name: 'probe', uuid: '11111111-2222-4333-8444-555555555555', version: '0.0.1', entry: 'x.ts', maximumMemoryPages: 2 };
  writeSignedManifest(dir, [manifestEntry(d, file, wasm, !!opts.debug, [])], DEV_KEY_PATH);
  return dir;
}

const I = 'i32' as const;
const ABORT: FixtureImport = { module: 'env', name: 'abort', params: [I, I, I, I], results: [] };

beforeAll(async () => {
  good = mkdtempSync(join(tmpdir(), 'tt-load-good-'));
  const r = await buildTas({ descriptors: [ECHO], outDir: good });
  expect(r.errors).toEqual([]);
});

describe('manifest and binary verification', () => {
  test('the good build verifies and loads; audit exits 0', async () => {
    const vm = loadVerifiedManifest(good, devPub);
    expect(vm.sha256).toMatch(/^[0-9a-f]{64}$/);
    const ta = loadVerifiedTa(vm, 'echo', { release: true });
    expect(ta.info.memory?.maximumPages).toBe(8);
    const { rc, report } = await runAudit(good);
    expect(report.problems).toEqual([]);
    expect(rc).toBe(0);
    expect(report).toMatchObject({ ok: true, signature: 'valid', signer: 'development' });
    expect(report.tas[0]).toMatchObject({ name: 'echo', hash: 'ok', maximum_memory_pages: 8 });
  });

  test('one flipped byte in a wasm → HASH_MISMATCH, naming the file; audit exits 1', async () => {
    const dir = copy('flip');
    const wasm = readFileSync(join(dir, 'echo.wasm'));
    wasm[wasm.length >> 1] ^= 0x01;
    writeFileSync(join(dir, 'echo.wasm'), wasm);
    const vm = loadVerifiedManifest(dir, devPub);
    const e = code(() => verifyTaBinary(vm.find('echo'), wasm));
    expect(e.code).toBe('HASH_MISMATCH');
    expect(e.message).toContain('echo.wasm');
    expect(code(() => loadVerifiedTa(vm, 'echo', { release: true })).code).toBe('HASH_MISMATCH');
    expect(code(() => verifyTaBinary(vm.find('echo'), wasm.subarray(1))).code).toBe('HASH_MISMATCH');
    const { rc, report } = await runAudit(dir);
    expect(rc).toBe(1);
    expect(report.problems).toEqual([expect.objectContaining({ ta: 'echo', code: 'HASH_MISMATCH' })]);
  });

  test('a tampered manifest (hash rewritten to match a modified wasm) → BAD_SIGNATURE; audit exits 1', async () => {
    const dir = copy('tamper');
    const m = readFileSync(join(dir, 'manifest.json'), 'utf8');
    const entry = JSON.parse(m).tas[0];
    writeFileSync(join(dir, 'manifest.json'), m.replace(entry.sha256, 'f'.repeat(64)));
    const e = code(() => loadVerifiedManifest(dir, devPub));
    expect(e.code).toBe('BAD_SIGNATURE');
    expect(e.message).toContain('manifest.sig does not verify');
    const { rc, report } = await runAudit(dir);
    expect(rc).toBe(1);
    expect(report.signature).toBe('invalid');
    // the build's SBOM still has the real hash, so it disagrees with the rewritten manifest too
    expect(report.problems.map((p: any) => p.code)).toEqual(['BAD_SIGNATURE', 'SBOM_MISMATCH', 'HASH_MISMATCH']);
  });

  test('a garbled signature file and the wrong trusted key → BAD_SIGNATURE', () => {
    const dir = copy('garbled');
    writeFileSync(join(dir, 'manifest.sig'), 'not a signature\n');
    expect(code(() => loadVerifiedManifest(dir, devPub)).code).toBe('BAD_SIGNATURE');
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(code(() => loadVerifiedManifest(good, other)).code).toBe('BAD_SIGNATURE');
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(code(() => loadVerifiedManifest(good, p256)).message).toContain('must be Ed25519');
  });

  test('no manifest.sig → UNSIGNED; audit exits 1', async () => {
    const dir = copy('unsigned');
    rmSync(join(dir, 'manifest.sig'));
    const e = code(() => loadVerifiedManifest(dir, devPub));
    expect(e.code).toBe('UNSIGNED');
    const { rc, report } = await runAudit(dir);
    expect(rc).toBe(1);
    expect(report.signature).toBe('missing');
    expect(report.problems).toEqual([expect.objectContaining({ code: 'UNSIGNED' })]);
    writeFileSync(join(dir, 'manifest.sig'), '');
    expect(code(() => loadVerifiedManifest(dir, devPub)).code).toBe('UNSIGNED');
    rmSync(join(dir, 'manifest.json'));
    expect(code(() => loadVerifiedManifest(dir, devPub)).code).toBe('NO_MANIFEST');
  });
});

describe('module checks against the host ABI and TA ABI', () => {
  test('the hand-assembled fixture itself passes', () => {
    expect(checkTaModule(taWasm(), { release: true }).exports).toHaveLength(10);
  });

  test('an import outside the host ABI → UNKNOWN_IMPORT naming it; audit exits 1', async () => {
    const wasm = taWasm({ imports: [ABORT, { module: 'wasi_snapshot_preview1', name: 'fd_write', params: [I, I, I, I], results: [I] }] });
    const e = code(() => checkTaModule(wasm, { release: true }));
    expect(e.code).toBe('UNKNOWN_IMPORT');
    expect(e.message).toContain('wasi_snapshot_preview1.fd_write');
    const dir = signedBuildOf(wasm);
    expect(code(() => loadVerifiedTa(loadVerifiedManifest(dir, devPub), 'probe', { release: true })).code).toBe('UNKNOWN_IMPORT');
    const { rc, report } = await runAudit(dir);
    expect(rc).toBe(1);
    expect(report.signature).toBe('valid');
    expect(report.problems).toEqual([expect.objectContaining({ ta: 'probe', code: 'UNKNOWN_IMPORT', message: expect.stringContaining('fd_write') })]);
    expect(report.tas[0].imports[1]).toMatchObject({ name: 'fd_write', status: 'unknown' });
  });

  test('a host ABI import with the wrong signature → BAD_IMPORT_SIGNATURE; audit exits 1', async () => {
    const wasm = taWasm({ imports: [ABORT, { module: 'tee', name: 'random', params: [I, I], results: [I] }] });
    const e = code(() => checkTaModule(wasm, { release: true }));
    expect(e.code).toBe('BAD_IMPORT_SIGNATURE');
    expect(e.message).toBe('BAD_IMPORT_SIGNATURE: import tee.random has signature (i32, i32) -> i32; the host ABI declares (i32, i32) -> void');
    const { rc, report } = await runAudit(signedBuildOf(wasm));
    expect(rc).toBe(1);
    expect(report.problems.map((p: any) => p.code)).toEqual(['BAD_IMPORT_SIGNATURE']);
  });

  test('what a module holds is read once per exact bytes and cannot be altered by a caller', () => {
    const wasm = taWasm({ imports: [ABORT, { module: 'tee', name: 'random', params: [I, I], results: [] }] });
    const info = parseModule(wasm);
    expect(parseModule(Uint8Array.from(wasm))).toBe(info); // the same bytes in another array
    expect(Object.isFrozen(info) && Object.isFrozen(info.imports) && Object.isFrozen(info.imports[1]!.type!.params)).toBe(true);
    expect(() => (info.imports as unknown as unknown[]).push({})).toThrow(TypeError);
    const other = Uint8Array.from(wasm);
    other[Buffer.from(other).indexOf('random')] = 0x52; // 'random' → 'Random': other bytes, read again
    expect(parseModule(other).imports[1]!.name).toBe('Random');
    expect(() => checkTaModule(other, { release: true })).toThrow(LoadError);
    expect(checkTaModule(wasm, { release: true })).toBe(info);
  });

  test('a debug-only import in a release TA → DEBUG_IMPORT_IN_RELEASE (allowed in a debug TA); audit exits 1 / 0', async () => {
    const wasm = taWasm({ imports: [ABORT, { module: 'tee', name: 'log', params: [I, I], results: [] }] });
    expect(code(() => checkTaModule(wasm, { release: true })).code).toBe('DEBUG_IMPORT_IN_RELEASE');
    expect(checkTaModule(wasm, { release: false }).imports).toHaveLength(2);
    // Passing in debug mode is remembered per module, never as a pass in release mode.
    expect(code(() => checkTaModule(wasm, { release: true })).code).toBe('DEBUG_IMPORT_IN_RELEASE');
    expect((await runAudit(signedBuildOf(wasm))).rc).toBe(1);
    const dbg = await runAudit(signedBuildOf(wasm, { debug: true }));
    expect(dbg.report.problems).toEqual([]);
    expect(dbg.rc).toBe(0);
    expect(dbg.report.tas[0].imports[1]).toMatchObject({ name: 'log', status: 'debug-only' });
  });

  test('a missing TA ABI export → MISSING_EXPORT; memory without a maximum → NO_MAXIMUM_MEMORY', async () => {
    const e = code(() => checkTaModule(taWasm({ omit: ['ta_invoke'] }), { release: true }));
    expect(e).toEqual({ code: 'MISSING_EXPORT', message: 'MISSING_EXPORT: missing export ta_invoke (function)' });
    expect(code(() => checkTaModule(taWasm({ maxPages: null }), { release: true })).code).toBe('NO_MAXIMUM_MEMORY');
    expect(code(() => checkTaModule(new Uint8Array([1, 2, 3]), { release: true })).code).toBe('NOT_WASM');
    const { rc, report } = await runAudit(signedBuildOf(taWasm({ maxPages: null, omit: ['io_cap'] })));
    expect(rc).toBe(1);
    expect(report.problems.map((p: any) => p.code)).toEqual(['MISSING_EXPORT', 'NO_MAXIMUM_MEMORY']);
  });

  test('auditBuild with no build at all reports NO_MANIFEST', () => {
    const r = auditBuild(mkdtempSync(join(tmpdir(), 'tt-empty-')), devPub);
    expect(r.ok).toBe(false);
    expect(r.problems[0].code).toBe('NO_MANIFEST');
  });
});

test('the trusttap binary: `audit build` prints the table and exits non-zero on a tampered build', () => {
  const dir = copy('cli');
  const wasm = readFileSync(join(dir, 'echo.wasm'));
  wasm[wasm.length - 2] ^= 0x01; // in the data section: the module still parses
  writeFileSync(join(dir, 'echo.wasm'), wasm);
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/trusttap.mjs'), 'audit', 'build', '--dir', dir], { encoding: 'utf8' });
  expect(r.stdout).toContain('signature  VALID');
  expect(r.stdout).toMatch(/echo\s+echo\.wasm\s+\d+ B\s+8 p \(512 KiB\)\s+MISMATCH\s+[0-9a-f]{64}/);
  expect(r.stdout).toContain('RESULT: FAIL');
  expect(r.status).toBe(1);
});
