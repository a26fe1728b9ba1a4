// The build's SBOM (build/sbom.ts, issue 19 §5): what it holds for the npm package and for each
// TA (sources as asc read them, compiler and flags, the .wasm SHA-256 of the manifest), that
// two builds give the same bytes (SOURCE_DATE_EPOCH only adds its timestamp), and that
// `trusttap audit build` fails when the SBOM's TA hashes differ from the manifest.
import { describe, test, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { buildTas, PROJECT_ROOT, DEV_PUBLIC_KEY_PATH } from '../../build/build.ts';
import { SBOM_FILE, makeSbom, checkSbom, sbomTaByHash } from '../../build/sbom.ts';
import { auditBuild } from '../../build/audit.ts';
import { parseManifest } from '../../common/manifest.ts';
import { run as sbomCommand } from '../../cli/commands/sbom.ts';

const ECHO = 'test/build/fixtures/echo/ta.json';
const tmp = (p: string) => mkdtempSync(join(tmpdir(), `tt-sbom-${p}-`));
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const devPub = readFileSync(DEV_PUBLIC_KEY_PATH, 'utf8');
const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));

let dir: string;
let text: string;
let bom: any;
beforeAll(async () => {
  dir = tmp('a');
  const r = await buildTas({ descriptors: [ECHO], outDir: dir, debug: true, cache: false });
  expect(r.errors).toEqual([]);
  text = readFileSync(join(dir, SBOM_FILE), 'utf8');
  bom = JSON.parse(text);
});

describe('the SBOM a build writes', () => {
  test('CycloneDX 1.5, the npm package as its subject, no timestamp or serial number without SOURCE_DATE_EPOCH', () => {
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1 });
    expect(bom.serialNumber).toBeUndefined();
    expect(bom.metadata.timestamp).toBeUndefined();
    expect(bom.metadata.component).toMatchObject({ type: 'library', name: pkg.name, version: pkg.version, purl: `pkg:npm/${pkg.name}@${pkg.version}`, licenses: [{ license: { id: pkg.license } }] });
    const manifestBytes = readFileSync(join(dir, 'manifest.json'));
    expect(bom.metadata.properties).toContainEqual({ name: 'trusttap:manifest:sha256', value: sha(manifestBytes) });
    expect(text).not.toContain(PROJECT_ROOT);
  });

  test('every package of package-lock.json with its version, integrity as a hash, licence and scope', () => {
    const npm = bom.components.filter((c: any) => c.purl?.startsWith('pkg:npm/'));
    const inLock = new Set(Object.entries(lock.packages).filter(([p]) => p).map(([p, v]: [string, any]) => `${p.slice(p.lastIndexOf('node_modules/') + 13)}@${v.version}`));
    expect(npm.length).toBe(inLock.size);
    const curves = npm.find((c: any) => c.group === '@noble' && c.name === 'curves');
    const entry = lock.packages['node_modules/@noble/curves'];
    expect(curves).toMatchObject({
      version: entry.version, scope: 'required', purl: `pkg:npm/%40noble/curves@${entry.version}`,
      hashes: [{ alg: 'SHA-512', content: Buffer.from(entry.integrity.slice('sha512-'.length), 'base64').toString('hex') }],
      licenses: [{ license: { id: entry.license } }],
    });
    expect(npm.find((c: any) => c.name === 'vitest').scope).toBe('excluded'); // a devDependency
    // devDependencies bundled into the operators' console ship all the same: required, and where
    for (const name of ['preact', 'htm', 'uplot']) {
      expect(npm.find((c: any) => c.name === name)).toMatchObject({ scope: 'required', properties: [{ name: 'trusttap:shipped-in', value: 'build/console/app.js' }] });
    }
    // a dual licence is an SPDX expression, not an id
    const dual = Object.entries(lock.packages).find(([p, v]: [string, any]) => p && / OR /.test(v.license ?? ''));
    if (dual) expect(npm.find((c: any) => c['bom-ref'].endsWith(`@${(dual[1] as any).version}`) && `node_modules/${c.group ? `${c.group}/` : ''}${c.name}` === dual[0].slice(dual[0].lastIndexOf('node_modules/'))).licenses[0].expression).toMatch(/ OR /);
  });

  test('one component per manifest TA: the .wasm SHA-256 as in the manifest, each source file asc read with its SHA-256, the compiler and its flags', () => {
    const manifest = parseManifest(readFileSync(join(dir, 'manifest.json')));
    const tas = bom.components.filter((c: any) => c['bom-ref'].startsWith('ta:'));
    expect(tas.map((c: any) => c['bom-ref'])).toEqual(manifest.tas.map((t) => `ta:${t.file}`));
    for (const t of manifest.tas) {
      const c = tas.find((x: any) => x['bom-ref'] === `ta:${t.file}`);
      expect(c.hashes).toEqual([{ alg: 'SHA-256', content: t.sha256 }]);
      expect(sha(readFileSync(join(dir, t.file)))).toBe(t.sha256);
      const props = Object.fromEntries(c.properties.map((p: any) => [p.name, p.value]));
      expect(props).toMatchObject({ 'trusttap:ta:uuid': t.uuid, 'trusttap:build:compiler': manifest.compiler, 'trusttap:build:asc_args': t.asc_args.join(' ') });
      expect(JSON.parse(props['trusttap:build:asconfig'])).toMatchObject(t.debug ? { target: 'debug', optimizeLevel: 0, debug: true } : { target: 'release', optimizeLevel: 3, noAssert: true });
      const names = c.components.map((f: any) => f.name);
      expect(names).toEqual(expect.arrayContaining(['asconfig.json', 'test/build/fixtures/echo/index.ts', 'ta/lib/host.ts']));
      expect(names).toEqual([...names].sort());
      for (const f of c.components) expect(f.hashes[0]).toEqual({ alg: 'SHA-256', content: sha(readFileSync(join(PROJECT_ROOT, f.name))) });
      const how = bom.formulation.find((x: any) => x['bom-ref'] === `build:${t.file}`).workflows[0];
      expect(how.steps[0].commands[0].executed).toBe(`asc ${t.asc_args.join(' ')} --outFile ${t.file}`);
      expect(how.inputs[0].resource.ref).toBe(`pkg:npm/assemblyscript@${manifest.compiler.split(' ')[1]}`);
      expect(how.outputs).toEqual([{ resource: { ref: `ta:${t.file}` } }]);
    }
    expect(sbomTaByHash(text, manifest.tas[0].sha256)).toMatchObject({ name: 'echo', file: manifest.tas[0].file });
    expect(sbomTaByHash(text, '00'.repeat(32))).toBeNull();
  });

  test('reproducible: a second clean build writes the same bytes; SOURCE_DATE_EPOCH adds exactly its timestamp', async () => {
    const again = tmp('b');
    expect((await buildTas({ descriptors: [ECHO], outDir: again, debug: true, cache: false })).ok).toBe(true);
    expect(readFileSync(join(again, SBOM_FILE), 'utf8')).toBe(text);
    const manifestBytes = readFileSync(join(dir, 'manifest.json'));
    const sources = new Map(bom.components.filter((c: any) => c['bom-ref'].startsWith('ta:')).map((c: any) => [c['bom-ref'].slice(3), c.components.map((f: any) => f.name)])) as Map<string, string[]>;
    const dated = makeSbom({ root: PROJECT_ROOT, manifestBytes, sources, sourceDateEpoch: '1700000000' });
    expect(dated).toBe(makeSbom({ root: PROJECT_ROOT, manifestBytes, sources, sourceDateEpoch: '1700000000' }));
    const { timestamp, ...rest } = JSON.parse(dated).metadata;
    expect(timestamp).toBe('2023-11-14T22:13:20Z');
    expect(rest).toEqual(bom.metadata);
    expect(() => makeSbom({ root: PROJECT_ROOT, manifestBytes, sources, sourceDateEpoch: 'yesterday' })).toThrow(/SOURCE_DATE_EPOCH/);
  });
});

describe('audit build checks the SBOM against the manifest', () => {
  const copy = () => { const d = tmp('audit'); cpSync(dir, d, { recursive: true }); return d; };

  test('the build as written: sbom ok, audit passes', () => {
    const r = auditBuild(dir, devPub);
    expect(r.sbom).toBe('ok');
    expect(r.problems).toEqual([]);
  });

  test('a TA hash changed in the SBOM → SBOM_MISMATCH naming the TA, and the CLI exits 1', () => {
    const d = copy();
    const m = parseManifest(readFileSync(join(d, 'manifest.json')));
    const release = m.tas.find((t) => !t.debug)!;
    const forged = release.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    writeFileSync(join(d, SBOM_FILE), text.replace(release.sha256, forged));
    const r = auditBuild(d, devPub);
    expect(r.sbom).toBe('mismatch');
    expect(r.problems).toEqual([{ ta: 'echo', code: 'SBOM_MISMATCH', message: `sbom.cdx.json gives echo.wasm sha256 ${forged}, the manifest ${release.sha256}` }]);
    const cli = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/trusttap.mjs'), 'audit', 'build', '--dir', d], { encoding: 'utf8' });
    expect(cli.stdout).toContain('sbom       sbom.cdx.json: MISMATCH');
    expect(cli.stdout).toContain('✗ echo: SBOM_MISMATCH');
    expect(cli.status).toBe(1);
  });

  test('a TA missing from the SBOM, one the manifest lacks, and a document that is not CycloneDX 1.5 fail; a missing SBOM is reported, not failed', () => {
    const manifest = parseManifest(readFileSync(join(dir, 'manifest.json')));
    const b = JSON.parse(text);
    b.components = b.components.filter((c: any) => c['bom-ref'] !== 'ta:echo.debug.wasm');
    b.components.push({ type: 'application', 'bom-ref': 'ta:ghost.wasm', name: 'ghost', hashes: [{ alg: 'SHA-256', content: '00'.repeat(32) }] });
    expect(checkSbom(JSON.stringify(b), manifest).problems.map((p) => `${p.ta}: ${p.message}`)).toEqual([
      'echo (debug): sbom.cdx.json has no component for echo.debug.wasm',
      'null: sbom.cdx.json names ghost.wasm, which the manifest does not',
    ]);
    expect(checkSbom(JSON.stringify({ ...JSON.parse(text), specVersion: '1.4' }), manifest)).toMatchObject({ status: 'invalid', problems: [{ code: 'SBOM_INVALID' }] });
    expect(checkSbom('{', manifest).status).toBe('invalid');
    const d = copy();
    rmSync(join(d, SBOM_FILE));
    const r = auditBuild(d, devPub);
    expect(r.sbom).toBe('missing');
    expect(r.ok).toBe(true);
  });
});

describe('trusttap sbom', () => {
  async function capture(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [], err: string[] = [];
    const w = process.stdout.write.bind(process.stdout), e = console.error;
    process.stdout.write = ((c: string) => { out.push(String(c)); return true; }) as typeof process.stdout.write;
    console.error = (...x: unknown[]) => { err.push(x.join(' ')); };
    try { return { code: await sbomCommand(args), out: out.join(''), err: err.join('\n') }; } finally { process.stdout.write = w; console.error = e; }
  }

  test('for an existing build: recompiles each TA to the manifest\'s bytes and writes the same SBOM the build wrote', async () => {
    const r = await capture(['--dir', dir, '--out', '-']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(text);
  });

  test('refuses (exit 1) when the sources do not give the manifest\'s bytes, and when there is no manifest', async () => {
    const d = tmp('stale');
    cpSync(dir, d, { recursive: true });
    const m = readFileSync(join(d, 'manifest.json'), 'utf8');
    const t = JSON.parse(m).tas[0];
    writeFileSync(join(d, 'manifest.json'), m.replace(t.sha256, 'a'.repeat(64)));
    const r = await capture(['--dir', d, '--out', join(d, 'x.json')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`compile ${t.file} to sha256 ${t.sha256}, the manifest has ${'a'.repeat(64)}`);
    expect((await capture(['--dir', tmp('empty')])).code).toBe(1);
  });
});
