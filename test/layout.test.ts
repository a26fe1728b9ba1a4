// The walls between the parts (README.md "## Layout", ARCHITECTURE "Parts, and who may import
// whom"): every import of every .ts / .mjs file is held to the table's "may import" column;
// ree/ (outside ree/node/) and common/ use no Node built-in and no Node global; and the
// client's browser entry points bundle for the browser platform without reaching one.
import { describe, expect, test } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { build } from 'esbuild';
import { checkImports, describeViolation, importSpecifiers, parseLayoutTable, type Row } from './layout-rules.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const topLevel = new Set(readdirSync(ROOT).filter((n) => statSync(join(ROOT, n)).isDirectory()));
const rows = parseLayoutTable(readFileSync(join(ROOT, 'README.md'), 'utf8'), topLevel);

/** Folders .gitignore names outright (`build/out/`, `.tmp/`, a compiled output …): generated,
 * not the repository's sources. */
const ignoredDirs = new Set(readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n').map((l) => l.trim())
  .filter((l) => l.endsWith('/') && !/[*?[!#]/.test(l)).map((l) => l.replace(/^\//, '').replace(/\/$/, '')));

/** Every .ts / .mts / .mjs / .js file of the repository: not node_modules, not dot-folders (.git,
 * .data, caches), not ignored output folders. */
function sourceFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    const rel = relative(ROOT, p).split(sep).join('/');
    if (e.isDirectory()) { if (!ignoredDirs.has(rel) && !ignoredDirs.has(e.name)) out.push(...sourceFiles(p)); }
    else if (/\.(ts|mts|mjs|js)$/.test(e.name)) out.push(p);
  }
  return out;
}

const files = sourceFiles().map((p) => ({ path: relative(ROOT, p).split(sep).join('/'), source: readFileSync(p, 'utf8') }));

describe('the layout table', () => {
  test('names every folder the architecture has, with its rule', () => {
    const byFolder = new Map(rows.map((r) => [r.folder, r]));
    for (const f of ['proto', 'common', 'ta', 'tee', 'tee-c', 'ree', 'ree/node', 'backend', 'sim', 'build', 'cli', 'bin', 'examples', 'test']) {
      expect(byFolder.has(f), `README.md "## Layout" has no row for ${f}/`).toBe(true);
    }
    expect(byFolder.get('backend')!.allowed).not.toContain('ree');
    expect(byFolder.get('ree')!.noNode).toBe(true);
    expect(byFolder.get('common')!.noNode).toBe(true);
    expect(byFolder.get('test')!.allowed).toBe('all');
  });

  test('every import in the repository is one the table allows', () => {
    expect(files.length).toBeGreaterThan(100);
    const violations = checkImports(rows, files).map(describeViolation);
    expect(violations).toEqual([]);
  });

  test('the checker is real: fake violating files are flagged, naming file, import and rule', () => {
    const fake = [
      { path: 'backend/qr/fake.ts', source: "import { parseMerchantQr } from '../../ree/qr/merchant-presented.ts';\n" },
      { path: 'backend/hsm/as/fake.ts', source: 'import { deriveKeys } from "../../../ta/attest/kek";\n' },
      { path: 'sim/cards/fake.ts', source: "export { x } from '../../ree/emv/kernel.ts';\nconst m = await import('../../tee/runtime.ts');\n" },
      { path: 'ree/emv/fake.ts', source: "import { readFileSync } from 'node:fs';\nimport type { FileStateStore } from '../node/state.ts';\nconst b = Buffer.from('00', 'hex');\n" },
      { path: 'common/fake.ts', source: "import { createHash } from 'crypto';\n// Buffer in a comment is fine\nconst s = 'Buffer in a string is fine';\nconst card = { process(apdu: Uint8Array) { return apdu; } };\nconst e = process.env.X;\n" },
      { path: 'examples/fake/index.mjs', source: "import { Terminal } from 'trusttap';\nimport { Terminal as T } from '../../ree/terminal/index.ts';\n" },
      { path: 'tee/fake.ts', source: "import x from '../../shared/vectors/a.json';\n" },
      { path: 'nowhere/fake.ts', source: "import x from '../ree/terminal/index.ts';\n" },
    ];
    const got = checkImports(rows, fake).map((v) => `${v.file} ${v.specifier}`);
    expect(got).toEqual([
      'backend/qr/fake.ts ../../ree/qr/merchant-presented.ts',
      'backend/hsm/as/fake.ts ../../../ta/attest/kek',
      'sim/cards/fake.ts ../../ree/emv/kernel.ts',
      'sim/cards/fake.ts ../../tee/runtime.ts',
      'ree/emv/fake.ts node:fs',
      'ree/emv/fake.ts ../node/state.ts',
      'ree/emv/fake.ts Buffer',
      'common/fake.ts crypto',
      'common/fake.ts process',
      'examples/fake/index.mjs ../../ree/terminal/index.ts',
      'tee/fake.ts ../../shared/vectors/a.json',
      'nowhere/fake.ts -',
    ]);
    const first = checkImports(rows, fake.slice(0, 1))[0]!;
    expect(describeViolation(first)).toMatch(/^backend\/qr\/fake\.ts: '\.\.\/\.\.\/ree\/qr\/merchant-presented\.ts' imports ree\/qr\/merchant-presented\.ts \(row ree\/\) — rule: backend\/ may import: /);
    // The allowed counterparts pass: ree/node may use Node and ree/, tee-c the TUI interface.
    expect(checkImports(rows, [
      { path: 'ree/node/fake.ts', source: "import { readFileSync } from 'node:fs';\nimport { Terminal } from '../terminal/index.ts';\nBuffer.alloc(1);\n" },
      { path: 'tee-c/fake.ts', source: "import type { UiProviders } from '../tee/tui/provider.ts';\nimport type { TeeTransport } from '../common/tee-transport.ts';\n" },
      { path: 'backend/hsm/as/fake.ts', source: 'import { kcv } from "../../../ta/lib/kcv";\n' },
    ])).toEqual([]);
  });

  test('specifiers are read from static, re-export and dynamic imports, not from comments', () => {
    expect(importSpecifiers([
      "import a from './a.ts';", "import type { B } from './b.ts';", "export * from './c.ts';",
      "export { d, type E } from './d.ts';", "import './e.ts';", "const f = await import('./f.ts');",
      "// import g from './g.ts';", '/* import h from "./h.ts"; */', 'import {\n  i,\n  j,\n} from "./ij.ts";',
    ].join('\n'))).toEqual(['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts', './ij.ts']);
  });
});

describe('the client runs where apps run', () => {
  // The app API, the TEE client and the contactless kernel, bundled as a browser app would:
  // esbuild refuses a Node built-in on the browser platform, and nothing Node-only, TEE-side or
  // TA-side may be among the inputs. ree/index.ts, ree/emv/index.ts and common/qr/index.ts are the
  // package's `trusttap`, `trusttap/emv` and `trusttap/qr`.
  test.each(['ree/terminal/index.ts', 'ree/tee-client/index.ts', 'ree/emv/entry-point.ts', 'ree/index.ts', 'ree/emv/index.ts', 'common/qr/index.ts'])('%s bundles for the browser with no Node built-in', async (entry) => {
    const r = await build({
      entryPoints: [join(ROOT, entry)], absWorkingDir: ROOT, bundle: true, platform: 'browser', format: 'esm',
      write: false, metafile: true, logLevel: 'silent',
    });
    expect(r.errors).toEqual([]);
    const inputs = Object.keys(r.metafile!.inputs);
    expect(inputs.filter((i) => /^(ree\/node|tee|tee-c|ta|backend|sim)\//.test(i) || i.startsWith('node:'))).toEqual([]);
    expect(inputs).toContain(entry);
  });
});

export type { Row };
