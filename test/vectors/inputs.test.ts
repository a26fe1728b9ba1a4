// The runner decides from `operation` and `inputs` only (published/README.md): handlers are given
// the inputs and nothing else; an input a vector leaves out takes the standard's default (for a
// CVN, the scheme's table in backend/issuer/cvn.ts); an input that is present and contradicts the
// table is an error. Key check values and message prefixes are compared as the format defines
// them. Vectors here are the published ones with inputs removed or changed; expected values are
// never changed.
import { describe, test, expect } from 'vitest';
import { loadOps, readVectorFile, runVectors, type OpHandler, type Vector } from './runner.ts';
import { publishedFile } from './published.ts';

const ops = await loadOps();
const vectorOf = (file: string, id: string): Vector => {
  const v = readVectorFile(publishedFile(file)).vectors.find((x) => x.id === id);
  if (!v) throw new Error(`${file} has no vector ${id}`);
  return structuredClone(v);
};
const run = (v: Vector) => runVectors({ family: 't', vectors: [v] }, ops);
const without = (v: Vector, ...keys: string[]): Vector => ({ ...v, inputs: Object.fromEntries(Object.entries(v.inputs).filter(([k]) => !keys.includes(k))) });

describe('CVN chains take what the vector leaves out from the CVN table', () => {
  const stated = ['master_key_derivation', 'ac_session_key', 'ac_padding', 'ac_data_order', 'arpc_method', 'arpc_key', 'psn'];
  for (const id of ['cvn10', 'cvn18', 'mc-cvn16', 'mc-cvn21', 'cvn133']) {
    test(`${id} with only the CVN named (no derivation, session-key, padding, data-order or ARPC inputs) passes`, async () => {
      const r = await run(without(vectorOf('emv-arqc.json', id), ...stated, ...Object.keys(vectorOf('emv-arqc.json', id).inputs).filter((k) => k.endsWith('_text'))));
      expect(r.failures).toEqual([]);
      expect(r.passed).toBe(1);
    });
  }
  test('an input that is present and contradicts the table is an error that names it', async () => {
    const v = vectorOf('emv-arqc.json', 'cvn18');
    v.inputs.ac_padding = 'iso9797_1_method_1';
    const r = await run(v);
    expect(r.failed).toBe(1);
    expect(String(r.failures[0]!.got)).toMatch(/CVN table disagrees with vector on ac_padding \(table iso9797_1_method_2, vector iso9797_1_method_1\)/);
  });
  test('the issuer-script chain with no PSN takes 00', async () => {
    const r = await run(without(vectorOf('emv-sm.json', 'sm-cvn10'), 'psn'));
    expect(r.failures).toEqual([]);
  });
});

describe('inputs, not field names, choose the computation', () => {
  test('the PIN-change command with the current PIN comes from the current_pin input', async () => {
    const r = await run(without(vectorOf('emv-sm.json', 'sm-cvn10'), 'current_pin'));
    expect(r.failures.map((f) => f.field)).toEqual(['pin_change_command_with_current_pin_8888']);
  });
  test('ISO 20038 B.3 is a version D derivation because its key_block_version says D', async () => {
    const b3 = vectorOf('tr31.json', 'kbpk-derive-8');
    expect((await run(b3)).passed).toBe(1);
    // The same input through the ISO 20038 operation, version D named: the same keys.
    expect((await run({ ...b3, operation: 'iso20038_kbpk_derive (version E, AES-CMAC KDF)' })).passed).toBe(1);
    // Without the version, that operation derives version E: a different KBEK.
    const e = await run(without({ ...b3, operation: 'iso20038_kbpk_derive (version E, AES-CMAC KDF)' }, 'key_block_version'));
    expect(e.failures.map((f) => f.field)).toEqual(['kbek']);
  });
  test('a key_block_version the operation does not cover is an error', async () => {
    const v = vectorOf('tr31.json', 'kbpk-derive-8');
    v.inputs.key_block_version = 'B';
    expect(String((await run(v)).failures[0]!.got)).toMatch(/key_block_version B is not a version of this operation \(D\)/);
  });
  test('a handler is given the inputs and nothing else', async () => {
    const seen: unknown[][] = [];
    const spy: OpHandler = (...args: unknown[]) => { seen.push(args); return { out: 1 }; };
    await runVectors({ family: 't', vectors: [{ id: 'a', operation: 'spy', inputs: { x: 1 }, expected: { out: 1 } }] }, new Map([['spy', spy]]));
    expect(seen).toEqual([[{ x: 1 }]]);
  });
});

describe('fields the format defines by name', () => {
  const kcvOp = new Map<string, OpHandler>([['k', () => ({ key_kcv: '08D7B4FB629D0885', key_kcv3: '08D7B4FB629D0885', message_prefix: 'Tag malformed, expecting more data at 0' })]]);
  const check = async (expected: Record<string, unknown>) => (await runVectors({ family: 't', vectors: [{ id: 'a', operation: 'k', inputs: {}, expected }] }, kcvOp)).failures.map((f) => f.field);
  test('a key check value matches the leading bytes it states, 2 bytes or more', async () => {
    expect(await check({ key_kcv: '08D7' })).toEqual([]);
    expect(await check({ key_kcv: '08d7b4' })).toEqual([]);
    expect(await check({ key_kcv: '08D8' })).toEqual(['key_kcv']);
    expect(await check({ key_kcv: '08' })).toEqual(['key_kcv']);
  });
  test('a _kcv<n> field holds exactly n bytes', async () => {
    expect(await check({ key_kcv3: '08D7B4' })).toEqual([]);
    expect(await check({ key_kcv3: '08D7' })).toEqual(['key_kcv3']);
  });
  test('a message prefix matches the start of the message only', async () => {
    expect(await check({ message_prefix: 'Tag malformed' })).toEqual([]);
    expect(await check({ message_prefix: 'expecting more data' })).toEqual(['message_prefix']);
  });
});
