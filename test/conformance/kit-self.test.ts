// The kit checking itself, once, not per runtime: its probe TA covers every pointer-taking host
// function, its assets are what kit.json says and a damaged one is named, a clean rebuild of
// the assets gives the same bytes, and its plain-node runner reports and counts what it runs.
import { describe, test, expect } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hostAbi } from '../../tee/abi/table.ts';
import { OOB_CASES, KIT_ASSETS_DIR, KitAssetError, createNodeHarness, probeImages, nodeExpect, buildConformanceSuite, type RuntimeFactory } from '../../conformance/index.ts';
import { InProcessTeeDriver, startRuntimeFromBuild, DEFAULT_BUILD_DIR } from '../../tee/index.ts';
import { KIT_TAS, readKitIndex, kitWycheproofText } from '../../conformance/assets.ts';
import { buildConformanceKit, WYCHEPROOF_SOURCE_DIR } from '../../build/conformance.ts';
import { WYCHEPROOF_DIR } from '../vectors/published.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `tt-kitself-${p}-`));

describe('the probe TA', () => {
  const src = readFileSync(new URL('../../conformance/as/probe-ta.ts', import.meta.url), 'utf8');
  test('every host function that takes a pointer is covered by an out-of-bounds case', () => {
    const pointerTaking = hostAbi.filter((f) => f.module === 'tee' && f.params.length > 0 && !['op_free', 'session_close', 'log'].includes(f.name));
    for (const f of pointerTaking) expect(src, f.name).toContain(`host.${f.name}(`);
  });
  test('the kit runs exactly the cases of the probe\'s oob() switch', () => {
    const body = src.slice(src.indexOf('function oob('), src.indexOf('\n}\n', src.indexOf('function oob(')));
    const cases = [...body.matchAll(/case (\d+):/g)].map((m) => Number(m[1]));
    expect(cases).toEqual(Array.from({ length: OOB_CASES }, (_, i) => i));
  });
});

describe('kit assets (build/conformance)', () => {
  test('kit.json lists every test TA and Wycheproof file, and they load', async () => {
    const index = readKitIndex();
    expect(Object.keys(index.tas).sort()).toEqual(Object.keys(KIT_TAS).sort());
    expect((await probeImages()).map((i) => i.name)).toEqual(['probe', 'probe2']);
    expect(JSON.parse(kitWycheproofText('hmac_sm3_test.json')).algorithm).toBe('HMACSM3');
  });

  test('the Wycheproof files are built from the repository\'s copy of the published vectors', () => {
    expect(resolve(WYCHEPROOF_SOURCE_DIR)).toBe(resolve(WYCHEPROOF_DIR));
    for (const w of readKitIndex().wycheproof) {
      expect(readFileSync(join(KIT_ASSETS_DIR, w.file)).equals(readFileSync(join(WYCHEPROOF_SOURCE_DIR, w.file.replace(/^wycheproof\//, '')))), w.file).toBe(true);
    }
  });

  test('a missing folder and a damaged file are KitAssetErrors that say what to do', async () => {
    await expect(probeImages(join(tmp('none'), 'nothing'))).rejects.toThrow(/kit\.json is missing.*npm run build/);
    const copy = tmp('damaged');
    cpSync(KIT_ASSETS_DIR, copy, { recursive: true });
    const f = join(copy, 'probe.wasm');
    const b = readFileSync(f);
    b[b.length >> 1] ^= 1;
    writeFileSync(f, b);
    const err = await probeImages(copy).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(KitAssetError);
    expect(err.message).toMatch(/probe\.wasm does not match kit\.json/);
    rmSync(copy, { recursive: true, force: true });
  });

  test('a clean build of the assets (no cache) is byte-identical to build/conformance', async () => {
    const out = tmp('clean');
    const clean = await buildConformanceKit({ outDir: out, cache: false });
    expect(clean).toEqual(readKitIndex());
    for (const t of Object.values(clean.tas)) expect(readFileSync(join(out, t.file)).equals(readFileSync(join(KIT_ASSETS_DIR, t.file))), t.file).toBe(true);
    rmSync(out, { recursive: true, force: true });
  });
});

describe('the plain-node runner', () => {
  test('one line per case, beforeAll/afterAll order, a failed beforeAll fails its block, and the closing line', async () => {
    const { harness: h, run } = createNodeHarness();
    const order: string[] = [];
    h.describe('outer', () => {
      h.beforeAll(() => { order.push('before outer'); });
      h.afterAll(() => { order.push('after outer'); });
      h.test('passes', async () => { order.push('passes'); h.expect([1, 2]).toEqual([1, 2]); });
      h.test('fails', () => { h.expect(1, 'the answer').toBe(2); });
      h.skip('not here', 'no watchdog');
      h.describe('broken', () => {
        h.beforeAll(() => { throw new Error('no runtime'); });
        h.test('never runs', () => { order.push('never'); });
      });
    });
    const lines: string[] = [];
    const r = await run({ out: (l) => lines.push(l) });
    expect(order).toEqual(['before outer', 'passes', 'after outer']);
    expect(lines).toEqual([
      'PASS  outer › passes',
      'FAIL  outer › fails: the answer: expected 1 to be 2',
      'SKIP  outer › not here: no watchdog',
      'FAIL  outer › broken › never runs: beforeAll failed: no runtime',
      '1 passed, 2 failed, 1 skipped',
    ]);
    expect([r.passed, r.failed, r.skipped]).toEqual([1, 2, 1]);
  });

  test('a runtime that loads whatever build it is given fails the kit\'s build cases, with the refusal it should have made', async () => {
    // Broken on purpose: ignores the build it is handed and loads the pristine one.
    const careless: RuntimeFactory = {
      name: 'careless', watchdog: false,
      async start() { throw new Error('not used'); },
      async startFromBuild(_dir, dataDir) {
        const rt = await startRuntimeFromBuild({ buildDir: DEFAULT_BUILD_DIR, dataDir, trustedKeyPem: readFileSync(join(DEFAULT_BUILD_DIR, 'keys', 'dev-signing-key.pub.pem')) });
        return { transport: new InProcessTeeDriver(rt), async restart() {}, async close() { rt.shutdown(); } };
      },
      sealedObjectFiles: () => [],
    };
    const { harness, run } = createNodeHarness();
    buildConformanceSuite(harness, careless, DEFAULT_BUILD_DIR);
    const lines: string[] = [];
    const r = await run({ out: (l) => lines.push(l) });
    expect(lines[0]).toBe('PASS  signed build loading: careless › the signed build loads and its TAs answer PING');
    expect(lines.filter((l) => l.startsWith('FAIL')).map((l) => /expected a rejection matching \/(\w+)\//.exec(l)?.[1])).toEqual(['HASH_MISMATCH', 'BAD_SIGNATURE', 'UNSIGNED']);
    expect(lines.at(-1)).toBe('1 passed, 3 failed, 0 skipped');
    expect(r.failed).toBe(3);
  });

  test('a case that never settles fails with a timeout instead of hanging the kit', async () => {
    const { harness: h, run } = createNodeHarness();
    h.test('hangs', () => new Promise(() => {}));
    const lines: string[] = [];
    const r = await run({ out: (l) => lines.push(l), timeoutMs: 50 });
    expect(lines[0]).toBe('FAIL  hangs: timed out after 50 ms');
    expect(r.failed).toBe(1);
  });

  test('the expect subset passes what holds and throws on what does not', async () => {
    const e = nodeExpect;
    const holds = [
      () => e(3).toBe(3), () => e({ a: [1] }).toEqual({ a: [1] }), () => e(null).toBeNull(), () => e(new TypeError('x')).toBeInstanceOf(Error),
      () => e('abc').toContain('b'), () => e([1, 2]).toContain(2), () => e('UNKNOWN_IMPORT tee.x').toMatch(/UNKNOWN_IMPORT/),
      () => e(() => { throw new Error('boom'); }).toThrow(/boom/), () => e(5).toBeGreaterThanOrEqual(5), () => e(1).not.toBe(2),
      () => e(new Set([1])).toEqual(new Set([1])), () => e(Buffer.from([1])).toEqual(Buffer.from([1])), () => e(0).not.toBeNull(),
    ];
    const fails = [
      () => e(3).toBe(4), () => e({ a: [1] }).toEqual({ a: [2] }), () => e(0).toBeNull(), () => e({}).toBeInstanceOf(Error),
      () => e('abc').toContain('z'), () => e([1]).toContain(2), () => e('x').toMatch(/y/), () => e(() => 1).toThrow(),
      () => e(() => { throw new Error('boom'); }).toThrow(/bang/), () => e(4).toBeGreaterThanOrEqual(5), () => e(1).not.toBe(1),
    ];
    for (const f of holds) expect(f).not.toThrow();
    for (const f of fails) expect(f).toThrow();
    await e(Promise.reject(new Error('HASH_MISMATCH here'))).rejects.toThrow(/HASH_MISMATCH/);
    await expect(e(Promise.resolve(1)).rejects.toThrow()).rejects.toThrow(/expected a rejection/);
    await expect(e(Promise.reject(new Error('other'))).rejects.toThrow(/HASH/)).rejects.toThrow(/to match/);
  });
});
