// HostContext keeps one view of TA memory between host calls (tee/abi/context.ts): these pin that
// a grown memory, a newly bound memory and an out-of-bounds range are all seen as they are.
import { describe, expect, test } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostContext, TaPanic } from '../../tee/abi/context.ts';
import { createServices } from '../../tee/services.ts';
import { Huk } from '../../tee/huk.ts';

const PAGE = 65536;
const newContext = () => new HostContext(createServices({ name: 'ctx', uuid: new Uint8Array(16) }, { storageDir: mkdtempSync(join(tmpdir(), 'tt-ctx-')), huk: Huk.fromBytes(new Uint8Array(32)) }));

describe('HostContext memory view', () => {
  test('no memory bound: a TaPanic, not a view', () => {
    expect(() => newContext().view(0, 0)).toThrow(TaPanic);
  });

  test('a range past the end panics; the last byte does not', () => {
    const ctx = newContext();
    ctx.memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    expect(ctx.view(PAGE - 1, 1).length).toBe(1);
    expect(() => ctx.view(PAGE - 1, 2)).toThrow(TaPanic);
    expect(() => ctx.view(0xfffffff0, 16)).toThrow(TaPanic);
  });

  test('after the TA grows its memory, old and new pages are reached and writes land in the memory', () => {
    const ctx = newContext();
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    ctx.memory = mem;
    ctx.write(10, Uint8Array.of(1, 2, 3));
    expect(() => ctx.view(PAGE + 5, 4)).toThrow(TaPanic);
    mem.grow(1); // detaches the buffer the context saw
    ctx.write(PAGE + 5, Uint8Array.of(9, 8, 7, 6));
    expect([...new Uint8Array(mem.buffer, PAGE + 5, 4)]).toEqual([9, 8, 7, 6]);
    expect([...ctx.view(10, 3)]).toEqual([1, 2, 3]);
    new Uint8Array(mem.buffer)[11] = 42; // the TA writes; the host sees it
    expect(ctx.read(10, 3)).toEqual(Uint8Array.of(1, 42, 3));
  });

  test('binding another memory (a new instance) drops the old view', () => {
    const ctx = newContext();
    const a = new WebAssembly.Memory({ initial: 2, maximum: 2 });
    const b = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    new Uint8Array(a.buffer)[100] = 1;
    new Uint8Array(b.buffer)[100] = 2;
    ctx.memory = a;
    expect(ctx.view(100, 1)[0]).toBe(1);
    expect(ctx.view(PAGE + 1, 1).length).toBe(1);
    ctx.memory = b;
    expect(ctx.view(100, 1)[0]).toBe(2);
    expect(() => ctx.view(PAGE + 1, 1)).toThrow(TaPanic); // b is one page: a's view is not used
    ctx.memory = null;
    expect(() => ctx.view(0, 1)).toThrow(TaPanic);
  });
});

// Each import has its Wasm signature's JavaScript arity (V8 calls another arity through a
// slower adapter), and passes every argument through to its handler, recorded or not.
describe('buildImports', () => {
  test('every import has its signature\'s arity and hands all its arguments to the handler', async () => {
    const { buildImports, hostAbi } = await import('../../tee/abi/table.ts');
    const { setBoundaryRecorder } = await import('../../tee/abi/recorder.ts');
    const ctx = newContext();
    ctx.memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const imports = buildImports(ctx) as Record<string, Record<string, Function>>;
    for (const f of hostAbi) expect([f.name, imports[f.module]![f.name]!.length]).toEqual([f.name, f.params.length]);
    // random(ptr, len) fills exactly [ptr, ptr + len): both arguments arrived.
    const mem = new Uint8Array(ctx.memory.buffer);
    const seen: number[][] = [];
    for (const record of [false, true]) {
      mem.fill(0);
      setBoundaryRecorder(record ? (r) => { if (r.channel === 'host-call') seen.push(r.numbers!); } : null);
      try { imports.tee!.random!(100, 64); } finally { setBoundaryRecorder(null); }
      expect([mem[99], mem.subarray(100, 164).some((b) => b !== 0), mem[164]]).toEqual([0, true, 0]);
    }
    expect(seen[0]!.slice(0, 2)).toEqual([100, 64]);
  });
});
