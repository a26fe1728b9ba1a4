// build/text-transform.mjs: the TAs' string literals stored once as UTF-8 in ta/lib/text.ts's
// block and decoded on demand. The same values come out (ASCII, non-ASCII, repeated, top-level,
// concatenated), compile-time strings stay literals (offsetof, import paths), short tokens stay
// UTF-16 literals, and no long literal is left as UTF-16 in the module.
import { describe, test, expect, beforeAll } from 'vitest';
import { compile, PROJECT_ROOT, TEXT_TRANSFORM } from '../../build/build.ts';

const ENTRY = 'test/build/fixtures/text/index.ts';
const utf16 = (s: string) => Buffer.from(s, 'utf16le');
const count = (hay: Uint8Array, needle: Uint8Array) => {
  let n = 0;
  for (let i = Buffer.from(hay).indexOf(needle); i >= 0; i = Buffer.from(hay).indexOf(needle, i + 1)) n++;
  return n;
};

describe('the text transform', () => {
  let bytes: Uint8Array;
  let sources: string[];
  let ex: { memory: WebAssembly.Memory; text(i: number): number; textLength(): number; secondOffset(): number; equalToBuilt(): number };
  beforeAll(async () => {
    ({ bytes, sources } = await compile(PROJECT_ROOT, [ENTRY, '-O3', '--shrinkLevel', '1', '--noAssert', '--runtime', 'minimal'], null));
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(new Uint8Array(bytes)), { env: { abort: () => { throw new Error('abort'); } } });
    ex = instance.exports as any;
  }, 120_000);
  const read = (i: number) => new TextDecoder().decode(new Uint8Array(ex.memory.buffer, ex.text(i), ex.textLength()));

  test.each([
    [0, 'plain ASCII reason for a failure'],
    [1, 'PIN ≤ 12 digits — naïve 密钥'],
    [2, 'plain ASCII reason for a failure'],
    [3, 'a top-level constant, decoded once'],
    [4, 'Zq!'],
    [7, 'key 7 is not held by this keystore'],
  ])('literal %i reads back as %s', (i, want) => {
    expect(read(i)).toBe(want);
  });

  test('a decoded literal equals the same text built at run time', () => {
    expect(ex.equalToBuilt()).toBe(1);
  });

  test('offsetof keeps its field name: the second i32 field is at 4', () => {
    expect(ex.secondOffset()).toBe(4);
  });

  test('each long literal is stored once, as UTF-8; no UTF-16 copy; short tokens stay literals', () => {
    // (literal 0 is there once too; equalToBuilt's two halves happen to lie next to each other)
    expect(count(bytes, Buffer.from('a top-level constant, decoded once'))).toBe(1);
    expect(count(bytes, Buffer.from('PIN ≤ 12 digits — naïve 密钥'))).toBe(1);
    expect(count(bytes, utf16('plain ASCII reason for a failure'))).toBe(0);
    expect(count(bytes, utf16('a top-level constant'))).toBe(0);
    expect(count(bytes, utf16('Zq!'))).toBe(1);
  });

  test('the block file is among the sources; the SBOM entry of each TA names the transform and its hash', async () => {
    expect(sources).toContain('ta/lib/text.ts');
    const { readFileSync } = await import('node:fs');
    const { createHash } = await import('node:crypto');
    const want = `${TEXT_TRANSFORM} sha256:${createHash('sha256').update(readFileSync(`${PROJECT_ROOT}/${TEXT_TRANSFORM}`)).digest('hex')}`;
    const sbom = JSON.parse(readFileSync(`${PROJECT_ROOT}/build/sbom.cdx.json`, 'utf8'));
    const tas = sbom.components.filter((c: any) => c.properties?.some((p: any) => p.name === 'trusttap:ta:uuid'));
    expect(tas.length).toBeGreaterThanOrEqual(4);
    for (const c of tas) expect(c.properties).toContainEqual({ name: 'trusttap:build:asc_transform', value: want });
  });

  test('the built TAs carry their reasons as UTF-8 only', async () => {
    const { readFileSync } = await import('node:fs');
    const ks = readFileSync(`${PROJECT_ROOT}/build/keystore.wasm`);
    const reason = 'TR-31 header: version ID must be A, B, C, D or E';
    expect(count(ks, Buffer.from(reason))).toBe(1);
    expect(count(ks, utf16(reason))).toBe(0);
  });
});
