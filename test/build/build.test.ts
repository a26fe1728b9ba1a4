// The TA build: determinism (two clean builds bit-identical, also from another directory), the
// cache never changing an output, the SBOM with them, debug variants, refusal of a TA importing outside the host ABI,
// key configuration, and docs/host-abi.md being current.
import { describe, test, expect, beforeAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { buildTas, discoverDescriptors, PROJECT_ROOT, DEV_PUBLIC_KEY_PATH, type BuildResult } from '../../build/build.ts';
import { hostAbiMarkdown } from '../../build/abi-docs.ts';
import { loadVerifiedManifest, loadVerifiedTa } from '../../tee/loader/manifest.ts';
import { readWasmInfo } from '../../tee/loader/wasm-info.ts';

const ECHO = 'test/build/fixtures/echo/ta.json';
const tmp = (p: string) => mkdtempSync(join(tmpdir(), `tt-build-${p}-`));
const devPub = readFileSync(DEV_PUBLIC_KEY_PATH, 'utf8');
const files = (dir: string) => Object.fromEntries(readdirSync(dir).filter((f) => /\.(wasm|json|sig)$/.test(f)).sort().map((f) => [f, readFileSync(join(dir, f)).toString('hex')]));

/** A copy of the sources a TA build reads, in a fresh directory (no node_modules, no build outputs). */
function copyProject(): string {
  const dst = tmp('root');
  cpSync(PROJECT_ROOT, dst, {
    recursive: true,
    filter: (src) => {
      const rel = src.slice(PROJECT_ROOT.length);
      return !/^(node_modules|\.git|build|\.data|coverage)(\/|$)/.test(rel) || rel.startsWith('build/keys');
    },
  });
  return dst;
}

function expectOk(r: BuildResult): void {
  expect(r.errors).toEqual([]);
  expect(r.ok).toBe(true);
}

describe('reproducible build', () => {
  let first: string;
  beforeAll(async () => {
    first = tmp('a');
    expectOk(await buildTas({ descriptors: [ECHO], outDir: first, debug: true, cache: false }));
  });

  test('two clean builds of the fixture TA are bit-identical (wasm, manifest, signature)', async () => {
    const second = tmp('b');
    expectOk(await buildTas({ descriptors: [ECHO], outDir: second, debug: true, cache: false }));
    expect(Object.keys(files(first))).toEqual(['echo.debug.wasm', 'echo.wasm', 'manifest.json', 'manifest.sig', 'sbom.cdx.json']);
    expect(files(second)).toEqual(files(first));
  });

  test('every TA of the project builds bit-identically from a copy in another directory', async () => {
    const here = tmp('here');
    const there = tmp('there');
    const copy = copyProject();
    const descriptors = [...discoverDescriptors(), ECHO];
    const process = globalThis.process;
    const cwd = process.cwd();
    expectOk(await buildTas({ descriptors, outDir: here, cache: false }));
    let moved = false;
    try { process.chdir(tmpdir()); moved = true; } catch { /* worker threads cannot chdir; root differs anyway */ }
    try {
      expectOk(await buildTas({ root: copy, descriptors, outDir: there, cache: false }));
    } finally {
      if (moved) process.chdir(cwd);
    }
    expect(files(there)).toEqual(files(here));
    const m = JSON.parse(readFileSync(join(here, 'manifest.json'), 'utf8'));
    expect(m.tas.map((t: any) => t.name)).toEqual(expect.arrayContaining(['echo']));
    expect(readFileSync(join(here, 'manifest.json'), 'utf8')).not.toContain(PROJECT_ROOT);
  }, 600_000); // every TA twice without the cache: minutes on a loaded machine

  test('the cache gives the same bytes as a clean build, and misses when a source changes', async () => {
    const root = copyProject();
    const clean = tmp('clean'), warm1 = tmp('warm1'), warm2 = tmp('warm2');
    expectOk(await buildTas({ root, descriptors: [ECHO], outDir: clean, cache: false }));
    const r1 = await buildTas({ root, descriptors: [ECHO], outDir: warm1 });
    const r2 = await buildTas({ root, descriptors: [ECHO], outDir: warm2 });
    expect(r1.outputs[0].cached).toBe(false);
    expect(r2.outputs[0].cached).toBe(true);
    expect(files(warm1)).toEqual(files(clean));
    expect(files(warm2)).toEqual(files(clean));
    // change a file the TA imports (not the entry): the cache must notice
    const log = join(root, 'ta/lib/log.ts');
    writeFileSync(log, readFileSync(log, 'utf8') + '\nexport const CHANGED: i32 = 1;\n');
    const r3 = await buildTas({ root, descriptors: [ECHO], outDir: tmp('warm3') });
    expect(r3.outputs[0].cached).toBe(false);
  });

  test('the manifest describes each TA: hash, size, imports with signatures, exports, memory, debug flag', () => {
    const vm = loadVerifiedManifest(first, devPub);
    expect(vm.manifest).toMatchObject({ version: 1, signer: 'development', host_abi_version: 1, ta_abi_version: 1, compiler: 'assemblyscript 0.28.20' });
    const rel = vm.find('echo');
    const dbg = vm.find('6f0c3a52-8d1e-4b7a-9c2f-3e5d7a9b1c04', { debug: true });
    expect(rel).toMatchObject({ name: 'echo', version: '0.0.1', file: 'echo.wasm', debug: false, maximum_memory_pages: 8, ta_abi_version: 1 });
    expect(rel.asc_args).toEqual(['test/build/fixtures/echo/index.ts', '--config', 'asconfig.json', '--target', 'release', '--maximumMemory', '8']);
    expect(dbg).toMatchObject({ file: 'echo.debug.wasm', debug: true });
    expect(rel.imports).toEqual([{ module: 'env', name: 'abort', signature: '(i32, i32, i32, i32) -> void' }]);
    expect(dbg.imports).toContainEqual({ module: 'tee', name: 'log', signature: '(i32, i32) -> void' });
    expect(rel.exports.map((e) => e.name)).toEqual(expect.arrayContaining(['memory', 'io_in', 'ta_invoke', 'ta_destroy']));
    expect(loadVerifiedTa(vm, 'echo', { release: true }).bytes.length).toBe(rel.size);
    expect(() => loadVerifiedTa(vm, 'echo', { release: true, debug: true })).toThrow(expect.objectContaining({ code: 'DEBUG_TA_IN_RELEASE' }));
    expect(() => vm.find('nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_TA' }));
  });

  test('the release build has no debug log, the debug build logs through tee.log', async () => {
    const rel = readFileSync(join(first, 'echo.wasm'));
    const dbg = readFileSync(join(first, 'echo.debug.wasm'));
    expect(readWasmInfo(rel).imports.map((i) => `${i.module}.${i.name}`)).toEqual(['env.abort']);
    const lines: string[] = [];
    const { instance } = await WebAssembly.instantiate(dbg, {
      env: { abort: () => { throw new Error('abort'); } },
      tee: { log: (p: number, l: number) => lines.push(Buffer.from((instance.exports.memory as WebAssembly.Memory).buffer, p, l).toString()) },
    });
    const ex = instance.exports as any;
    expect(ex.ta_create()).toBe(0);
    const mem = new Uint8Array(ex.memory.buffer);
    mem.set([1, 2, 3], ex.io_in());
    expect(ex.ta_invoke(1, 0, 3)).toBe(0);
    expect([...new Uint8Array(ex.memory.buffer, ex.io_out(), ex.ta_out_len())]).toEqual([1, 2, 3]);
    expect(lines).toEqual(['echo: create']);
  });
});

describe('build refusals and configuration', () => {
  test('a TA importing outside the host ABI fails the build, naming the import; nothing is signed', async () => {
    const out = tmp('rogue');
    const r = await buildTas({ descriptors: [ECHO, 'test/build/fixtures/rogue/ta.json'], outDir: out, cache: false });
    expect(r.ok).toBe(false);
    expect(r.errors.join('\n')).toMatch(/rogue.wasm breaks the ABI:[\s\S]*UNKNOWN_IMPORT: import tee\.net_send/);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    expect(existsSync(join(out, 'manifest.sig'))).toBe(false);
  });

  test('a descriptor whose entry file is missing fails loudly', async () => {
    const root = copyProject();
    const d = JSON.parse(readFileSync(join(root, ECHO), 'utf8'));
    writeFileSync(join(root, 'test/build/fixtures/ghost.json'), JSON.stringify({ ...d, name: 'ghost', uuid: '00000000-0000-4000-8000-000000000000', entry: 'ta/ghost/index.ts' }));
    const r = await buildTas({ root, descriptors: [ECHO, 'test/build/fixtures/ghost.json'], outDir: tmp('ghost'), cache: false });
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual(['test/build/fixtures/ghost.json: entry file ta/ghost/index.ts does not exist']);
  });

  test('the signing key is replaceable: --key / TRUSTTAP_SIGNING_KEY; the signer is then not "development"', async () => {
    const dir = tmp('key');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'release.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const pub = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const out = join(dir, 'out');
    process.env.TRUSTTAP_SIGNING_KEY = join(dir, 'release.pem');
    try {
      expectOk(await buildTas({ descriptors: [ECHO], outDir: out, signer: 'acme-release' }));
    } finally {
      delete process.env.TRUSTTAP_SIGNING_KEY;
    }
    expect(loadVerifiedManifest(out, pub).manifest.signer).toBe('acme-release');
    expect(() => loadVerifiedManifest(out, devPub)).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
    const r = await buildTas({ descriptors: [ECHO], outDir: out, keyPath: join(dir, 'missing.pem') });
    expect(r.ok).toBe(false);
    expect(r.errors[0]).toMatch(/missing\.pem/);
  });
});

test('docs/host-abi.md is generated from the host ABI table and current', () => {
  expect(readFileSync(join(PROJECT_ROOT, 'docs/host-abi.md'), 'utf8')).toBe(hostAbiMarkdown());
});
