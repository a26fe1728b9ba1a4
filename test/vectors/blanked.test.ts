// What a vector computes is decided by its `operation` and `inputs` alone (published/README.md):
// `id`, `source`, `note` and every `*_text` field are for people. Every published file is run
// here with all of those blanked (replaced by "") wherever they sit outside `expected`, and must
// still pass every vector with none skipped; so no operation can choose its behaviour from them.
// (Handlers are not given the vector at all — OpHandler takes the inputs only — so this also
// guards the runner itself.) Expected values are never touched.
import { test, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { PUBLISHED_DIR } from './published.ts';
import { loadOps, readVectorFile, runVectors, type Vector, type VectorFile } from './runner.ts';

const PEOPLE_FIELDS = new Set(['id', 'source', 'note']);

/** A copy of `value` with every `*_text` field (and, at the vector's top level, id, source and
 * note) set to "". `expected` is copied unchanged. */
function blank(value: unknown, top: boolean): unknown {
  if (Array.isArray(value)) return value.map((x) => blank(x, false));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => {
    if (top && k === 'expected') return [k, structuredClone(v)];
    if (k.endsWith('_text') || (top && PEOPLE_FIELDS.has(k))) return [k, ''];
    return [k, blank(v, false)];
  }));
}

const files = readdirSync(PUBLISHED_DIR).filter((f) => f.endsWith('.json')).sort();

test('the blanking reaches nested *_text fields and leaves expected values alone', () => {
  const v = { id: 'x', source: 's', note: 'n', operation: 'op', inputs: { a_text: 't', tags: { b_text: 'u', c: '01' } }, expected: { r_text: 'kept' } };
  expect(blank(v, true)).toEqual({ id: '', source: '', note: '', operation: 'op', inputs: { a_text: '', tags: { b_text: '', c: '01' } }, expected: { r_text: 'kept' } });
});

test.each(files)('%s with id, source, note and every *_text blanked: every vector passes, none skipped', async (f) => {
  const original = readVectorFile(PUBLISHED_DIR + f);
  const blanked: VectorFile = { ...original, vectors: original.vectors.map((v) => blank(v, true) as Vector) };
  // Expected values are the file's own.
  expect(JSON.stringify(blanked.vectors.map((v) => v.expected))).toBe(JSON.stringify(original.vectors.map((v) => v.expected)));
  const r = await runVectors(blanked, await loadOps());
  expect(r.failures).toEqual([]);
  expect({ failed: r.failed, skipped: r.skipped, passed: r.passed }).toEqual({ failed: 0, skipped: 0, passed: original.vectors.length });
});
