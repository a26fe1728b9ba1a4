// The npm package as its users get it: `npm pack` (prepack builds the TAs and dist/), the tarball
// installed into an empty project (test/package/install.ts), then only plain `node` there — the
// exports resolve, a consumer type-checks against the shipped .d.ts, the CLI runs, and every
// examples/*/ runs and says it succeeded.
import { test, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { installTarball, REPO, type Installed } from './install.ts';

const MINUTES = 60_000;
let tmp: string;
let tarball: string;
let inst: Installed;

function run(cmd: string, args: string[], cwd: string, timeout = 5 * MINUTES) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '', all: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Export subpaths whose compiled file must exist: all, except one reserved for a part whose source is not written yet. */
function exportsToCheck(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { exports: Record<string, string | { import: string }> };
  return Object.entries(pkg.exports)
    .filter(([, t]) => typeof t !== 'string')
    .filter(([, t]) => existsSync(join(REPO, (t as { import: string }).import.replace('./dist/', '').replace(/\.js$/, '.ts'))))
    .map(([s]) => (s === '.' ? 'trusttap' : `trusttap/${s.slice(2)}`));
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'trusttap-pack-'));
  const p = run('npm', ['pack', '--pack-destination', tmp], REPO, 10 * MINUTES);
  if (p.code !== 0) throw new Error(`npm pack failed (exit ${p.code}):\n${p.all}`);
  const tgz = readdirSync(tmp).find((f) => /^trusttap-.*\.tgz$/.test(f));
  if (!tgz) throw new Error(`npm pack wrote no tarball into ${tmp}:\n${p.all}`);
  tarball = join(tmp, tgz);
  inst = installTarball(tarball, join(tmp, 'app'));
}, 15 * MINUTES);

afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

test('the package holds compiled JavaScript, declarations and the signed build — no sources, tests or private key', () => {
  const all = files(inst.pkgDir).map((f) => relative(inst.pkgDir, f));
  expect(all.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(all.filter((f) => /^(test|ta|tee-c|proto\/as)\//.test(f))).toEqual([]);
  expect(all.filter((f) => f.endsWith('dev-signing-key.pem'))).toEqual([]);
  for (const f of ['dist/build/manifest.json', 'dist/build/manifest.sig', 'dist/build/sbom.cdx.json', 'dist/build/keys/dev-signing-key.pub.pem', 'dist/backend/hsm/hsm.wasm', 'dist/tee/host/ta-worker-boot.mjs', 'dist/backend/store/checkpointer.mjs', 'dist/ree/index.d.ts', 'bin/trusttap.mjs', 'README.md', 'docs/app-api.md',
    'dist/build/console/index.html', 'dist/build/console/app.js', 'dist/build/console/app.css', 'dist/build/console/licenses.txt', 'docs/operations.md']) {
    expect(all, f).toContain(f);
  }
  const manifest = JSON.parse(readFileSync(join(inst.pkgDir, 'dist/build/manifest.json'), 'utf8')) as { tas: { file: string }[] };
  for (const t of manifest.tas) expect(all).toContain(`dist/build/${t.file}`);
  // No TypeScript loader and no compiler at run time.
  for (const dev of ['tsx', 'typescript', 'assemblyscript', 'vitest']) expect(existsSync(join(inst.project, 'node_modules', dev)), dev).toBe(false);
  expect(statSync(tarball).size).toBeLessThan(2 * 1024 * 1024);
});

test('every export resolves and loads with plain node', () => {
  const subpaths = exportsToCheck();
  expect(subpaths).toEqual(expect.arrayContaining(['trusttap', 'trusttap/node', 'trusttap/tee-client', 'trusttap/emv', 'trusttap/qr', 'trusttap/runtime', 'trusttap/backend', 'trusttap/sim']));
  const script = `for (const s of ${JSON.stringify(subpaths)}) { const m = await import(s); if (!Object.keys(m).length) throw new Error(s + ' exports nothing'); console.log(s, Object.keys(m).length); }`;
  const r = run(process.execPath, ['--input-type=module', '-e', script], inst.project);
  expect(r.all).not.toMatch(/Error/);
  expect(r.code).toBe(0);
  for (const s of subpaths) expect(r.out).toMatch(new RegExp(`^${s} \\d+$`, 'm'));
  const m = run(process.execPath, ['--input-type=module', '-e', `const { default: m } = await import('trusttap/manifest.json', { with: { type: 'json' } }); console.log(m.tas.length);`], inst.project);
  expect(m.out.trim()).toBe('4');
});

test("a consumer type-checks against the package's .d.ts with the repository's tsc, and a type error is caught", () => {
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  writeFileSync(join(inst.project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false,
      types: ['node'], typeRoots: [join(REPO, 'node_modules/@types')],
    },
    files: ['consumer.ts'],
  }, null, 2));
  writeFileSync(join(inst.project, 'consumer.ts'), `
import { Terminal, MemoryStateStore, InProcessTransport, loadSignedConfig, type PaymentResult, type TerminalOptions, type Capability } from 'trusttap';
import { FileStateStore } from 'trusttap/node';
import { TeeContext, AttestClient, encodeSignedEvidence, type TeeTransport } from 'trusttap/tee-client';
import { runEntryPoint, type Outcome } from 'trusttap/emv';
import { parseMerchantQr, type MerchantQr } from 'trusttap/qr';
import { startRuntimeFromBuild, InProcessTeeDriver, ScriptedUiProvider, enterPin } from 'trusttap/runtime';
import { startBackend, verifyEvidenceOffline, type Backend } from 'trusttap/backend';
import { UnionPayCardSim, simulatedDevice, signedTestTerminalConfig, testConfigSigningKey } from 'trusttap/sim';

export function label(r: PaymentResult): string {
  switch (r.outcome) {
    case 'approved': return r.receipt.maskedPan;
    case 'declined': return r.reason;
    case 'failed': return r.code + ': ' + r.remedy;
    default: return r.outcome;
  }
}
export async function capability(o: TerminalOptions): Promise<Capability> {
  return (await Terminal.open(o)).checkCapability();
}
export async function device(dir: string, backend: Backend): Promise<TerminalOptions> {
  const person = new ScriptedUiProvider().enqueue(enterPin('1234'));
  const runtime = await startRuntimeFromBuild({ dataDir: dir, bootState: simulatedDevice(dir).bootState, ui: { standard: person } });
  const tee: TeeTransport = new InProcessTeeDriver(runtime);
  const ctx = await TeeContext.initialize(tee);
  const e = await (await AttestClient.open(ctx)).getEvidence(new Uint8Array(32), null);
  verifyEvidenceOffline({ signedEvidence: encodeSignedEvidence(e), manifest: new Uint8Array(), manifestSignature: null, trustedKeyPem: '' });
  return {
    tee, backendUrl: backend.url, health: () => ({ rooted: false }), nfc: new InProcessTransport(new UnionPayCardSim()),
    kernelConfig: loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey), state: new FileStateStore(dir + '/t.json'),
  };
}
export const unused = [MemoryStateStore, runEntryPoint, startBackend] as const;
export const kind = (o: Outcome): string => o.kind;
export const merchant = (s: string): MerchantQr => parseMerchantQr(s);
`);
  const ok = run(process.execPath, [tsc, '-p', '.'], inst.project);
  expect(ok.all).toBe('');
  expect(ok.code).toBe(0);
  // The declarations carry real types: a wrong use fails.
  writeFileSync(join(inst.project, 'consumer.ts'), `import type { PaymentResult } from 'trusttap';\nexport const n: number = (null as unknown as PaymentResult).outcome;\n`);
  const bad = run(process.execPath, [tsc, '-p', '.'], inst.project);
  expect(bad.out).toMatch(/consumer\.ts.*error TS2322/);
  expect(bad.code).not.toBe(0);
});

test('the trusttap CLI runs from the installed package: help, version, audit of the shipped build, demo, read-card; checkout-only commands refused', () => {
  const bin = join(inst.project, 'node_modules/.bin/trusttap');
  const help = run(bin, ['--help'], inst.project);
  expect(help.code).toBe(0);
  expect(help.out).toMatch(/usage: trusttap <command>/);
  expect(help.out).toMatch(/verify-evidence/);
  const version = run(bin, ['--version'], inst.project);
  expect(version.out.trim()).toBe((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
  expect(version.code).toBe(0);
  const demoHelp = run(bin, ['demo', '--help'], inst.project);
  expect(demoHelp.out).toMatch(/--card/);
  expect(demoHelp.code).toBe(0);
  const audit = run(bin, ['audit', 'build'], inst.project);
  expect(audit.out).toMatch(/RESULT: PASS — 4 TA file\(s\), signature valid/);
  expect(audit.out).toContain('sbom       sbom.cdx.json: every TA hash matches the manifest'); // the SBOM ships beside the manifest
  expect(audit.code).toBe(0);
  // The whole demo (back end, reference TEE in worker isolation, simulated card) and the kernel alone.
  const demo = run(bin, ['demo', '--json', '--isolation', 'worker'], inst.project);
  expect(JSON.parse(demo.out.trim().split('\n').at(-1)!)).toMatchObject({ outcome: 'approved', card: 'unionpay' });
  const read = run(bin, ['read-card', '--sim', 'visa'], inst.project);
  expect(read.out).toMatch(/"outcome": "ONLINE_REQUEST"/);
  expect(read.out).toMatch(/"oda": "PASSED"/);
  const build = run(bin, ['build'], inst.project);
  expect(build.err).toMatch(/trusttap build: needs a checkout of the repository/);
  expect(build.code).toBe(2);
  expect(run(bin, ['sbom'], inst.project).err).toMatch(/trusttap sbom: needs a checkout of the repository/);
});

test("the installed package's trusttap serve serves the operators' console from the package (no CDN, no build step)", async () => {
  const child = spawn(join(inst.project, 'node_modules/.bin/trusttap'), ['serve', '--port', '0', '--quiet', '--admin-token', 'pack-test-admin-token'], { cwd: inst.project, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => { out += d; const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out); if (m) resolve(m[1]); });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    const page = await fetch(`${url}/console`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/console/app.js">');
    for (const f of ['app.js', 'app.css']) {
      const r = await fetch(`${url}/console/${f}`);
      expect(r.status, f).toBe(200);
      expect((await r.arrayBuffer()).byteLength, f).toBe(statSync(join(inst.pkgDir, 'dist/build/console', f)).size);
    }
    const signIn = await fetch(`${url}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ adminToken: 'pack-test-admin-token' }) });
    expect(signIn.status).toBe(200);
  } finally {
    child.kill('SIGTERM');
  }
}, 2 * MINUTES);

/** What each example prints when it did what it shows (an example not listed must exit 0). */
const EXPECT: Record<string, RegExp[]> = {
  'app-payment': [/^capability: contactless true/m, /^enrolled as dev-/m, /^ {2}event pin-entered$/m, /^result: APPROVED — UnionPay 622848\*+0017/m],
  'audit-evidence': [/^ok +signature /m, /^ok +TA attest +sha256 [0-9a-f]{16}… matches$/m, /^ok +boot state +BOOT_STATE_VERIFIED$/m, /^evidence verified$/m],
  'oem-runtime': [/^\d+ passed, 0 failed(, \d+ skipped)?$/m],
};

const examples = readdirSync(join(REPO, 'examples'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

test('the examples exist for each user', () => {
  expect(examples).toEqual(expect.arrayContaining(['app-payment', 'audit-evidence']));
});

for (const name of examples) {
  test(`examples/${name} ships in the package and runs there with plain node`, () => {
    const dir = join(inst.project, 'examples', name);
    // As a user does: copy the example the package ships into the project.
    cpSync(join(inst.pkgDir, 'examples', name), dir, { recursive: true });
    expect(existsSync(join(dir, 'index.mjs')), `examples/${name}/index.mjs`).toBe(true);
    // Only the package's public entry points: no path back into the repository.
    for (const f of files(dir).filter((x) => /\.(mjs|js)$/.test(x))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1] ?? m[2];
        expect(spec, `${name}: ${spec}`).toMatch(/^(node:|trusttap(\/|$)|\.\/)/);
      }
    }
    const r = run(process.execPath, ['index.mjs', ...(name === 'audit-evidence' ? [join(dir, 'evidence.bin')] : [])], dir, 10 * MINUTES);
    for (const re of EXPECT[name] ?? []) expect(r.out, `${name} output`).toMatch(re);
    expect(r.code, r.all).toBe(0);
    if (name === 'audit-evidence') {
      // The file it wrote is what `trusttap verify-evidence` reads, from the installed package too.
      const v = run(join(inst.project, 'node_modules/.bin/trusttap'), ['verify-evidence', join(dir, 'evidence.bin'), '--manifest', join(inst.pkgDir, 'dist/build/manifest.json')], inst.project);
      expect(v.out).toMatch(/^evidence verified$/m);
      expect(v.code).toBe(0);
    }
  }, 10 * MINUTES);
}

/** The first ```js block of each doc runs as it stands from the installed package ("docs that run"). */
const DOCS: Record<string, RegExp[]> = {
  'docs/app-api.md': [/^card-requested$/m, /^pin-entered$/m, /maskedPan: '622848\*+0017'/],
  'docs/attestation.md': [/^ok +signature /m, /^ok +manifest hash /m, /^evidence verified$/m],
};

for (const [doc, expected] of Object.entries(DOCS)) {
  test(`the code in ${doc} runs as written from the installed package`, () => {
    const block = /```js\n([\s\S]*?)```/.exec(readFileSync(join(REPO, doc), 'utf8'));
    expect(block, `${doc} has a js code block`).not.toBeNull();
    const dir = join(inst.project, 'docs-run', doc.replace(/\W/g, '-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'snippet.mjs'), block![1]);
    const r = run(process.execPath, ['snippet.mjs'], dir, 10 * MINUTES);
    expect(r.code, r.all).toBe(0);
    for (const re of expected) expect(r.out, `${doc} output`).toMatch(re);
  }, 10 * MINUTES);
}
