import { test, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileAs } from './helpers/asc.ts';
import { HostContext } from '../tee/abi/context.ts';
import { buildImports } from '../tee/abi/table.ts';
import { createServices } from '../tee/services.ts';
import { Huk } from '../tee/huk.ts';

test('AES-CMAC RFC 4493 example 2 through the host ABI', async () => {
  const wasm = await compileAs('test/as/smoke.ts');
  const dir = mkdtempSync(join(tmpdir(), 'tt-'));
  const ctx = new HostContext(createServices({ name: 't', uuid: new Uint8Array(16) }, { storageDir: dir, huk: Huk.fromBytes(new Uint8Array(32)) }));
  const { instance } = await WebAssembly.instantiate(new Uint8Array(wasm), buildImports(ctx));
  const ex = instance.exports as any;
  ctx.memory = ex.memory;
  const mem = new Uint8Array(ex.memory.buffer);
  mem.set(Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex'), ex.io());
  mem.set(Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex'), ex.io() + 64);
  expect(ex.aesCmac(16, 16)).toBe(16);
  expect(Buffer.from(new Uint8Array(ex.memory.buffer, ex.io(), 16)).toString('hex')).toBe('070a16b46b4d4144f79bdd9dd04a287c');
});
