// common/aes — AES (FIPS 197) with ECB/CBC (SP 800-38A) on the constant-time Wasm module:
// the standards' own vectors, both directions; differential against node:crypto (OpenSSL) on
// random keys, data and lengths, including inputs larger than the module's buffer; the handle
// model's chaining across updates; bad arguments; and the module's memory after every call.
import * as nc from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesCrypt, AesCipher, AesError, aesModuleMemory, type AesMode } from '../../common/aes/aes.ts';
import { AES_WASM_BASE64 } from '../../common/aes/aes-wasm.gen.ts';
import { fromBase64 } from '../../common/base64.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
function run(mode: AesMode, decrypt: boolean, key: Uint8Array, iv: Uint8Array | null, input: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length);
  aesCrypt(mode, decrypt, key, iv, input, out);
  return out;
}
function openssl(mode: AesMode, decrypt: boolean, key: Uint8Array, iv: Uint8Array | null, input: Uint8Array): Uint8Array {
  const name = `aes-${key.length * 8}-${mode}`;
  const c = decrypt ? nc.createDecipheriv(name, key, iv).setAutoPadding(false) : nc.createCipheriv(name, key, iv).setAutoPadding(false);
  return Buffer.concat([c.update(input), c.final()]);
}

describe('published vectors', () => {
  // FIPS 197 Appendix C: plaintext 00112233…ff under the keys 000102…
  const c = [
    ['000102030405060708090a0b0c0d0e0f', '69c4e0d86a7b0430d8cdb78070b4c55a'],
    ['000102030405060708090a0b0c0d0e0f1011121314151617', 'dda97ca4864cdfe06eaf70a0ec0d7191'],
    ['000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', '8ea2b7ca516745bfeafc49904b496089'],
  ];
  it.each(c)('FIPS 197 Appendix C, key %s', (k, ct) => {
    expect(toHex(run('ecb', false, hex(k), null, hex('00112233445566778899aabbccddeeff')))).toBe(ct);
    expect(toHex(run('ecb', true, hex(k), null, hex(ct)))).toBe('00112233445566778899aabbccddeeff');
  });
  // SP 800-38A Appendix F: the four-block plaintext, F.1.1/F.1.2 (ECB-AES128), F.2.1/F.2.2 (CBC-AES128), F.2.5/F.2.6 (CBC-AES256).
  const plain = '6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710';
  const iv = '000102030405060708090a0b0c0d0e0f';
  const f: Array<[string, AesMode, string, string | null, string]> = [
    ['F.1.1 ECB-AES128', 'ecb', '2b7e151628aed2a6abf7158809cf4f3c', null, '3ad77bb40d7a3660a89ecaf32466ef97 f5d3d58503b9699de785895a96fdbaaf 43b1cd7f598ece23881b00e3ed030688 7b0c785e27e8ad3f8223207104725dd4'],
    ['F.2.1 CBC-AES128', 'cbc', '2b7e151628aed2a6abf7158809cf4f3c', iv, '7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2 73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7'],
    ['F.2.5 CBC-AES256', 'cbc', '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4', iv, 'f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d 39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b'],
  ];
  it.each(f)('SP 800-38A %s, both directions', (_name, mode, k, v, ct) => {
    const ivb = v === null ? null : hex(v);
    expect(toHex(run(mode, false, hex(k), ivb, hex(plain)))).toBe(ct.replace(/\s/g, ''));
    expect(toHex(run(mode, true, hex(k), ivb, hex(ct)))).toBe(plain.replace(/\s/g, ''));
  });
});

describe('against OpenSSL on random inputs', () => {
  it('2,000 random keys, modes, directions and lengths (0–8 blocks) give OpenSSL\'s bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const key = nc.randomBytes([16, 24, 32][i % 3]!);
      const mode: AesMode = i % 2 ? 'cbc' : 'ecb';
      const decrypt = i % 4 >= 2;
      const iv = mode === 'cbc' ? nc.randomBytes(16) : null;
      const data = nc.randomBytes(16 * (i % 9));
      expect(toHex(run(mode, decrypt, key, iv, data)), `${mode} ${decrypt} ${key.length}`).toBe(toHex(openssl(mode, decrypt, key, iv, data)));
    }
  });

  it('an input larger than the module\'s buffer is done in chunks, CBC chaining across them', () => {
    const data = nc.randomBytes(300_000 - 300_000 % 16);
    for (const mode of ['ecb', 'cbc'] as const) for (const decrypt of [false, true]) {
      const key = nc.randomBytes(32), iv = mode === 'cbc' ? nc.randomBytes(16) : null;
      expect(Buffer.from(run(mode, decrypt, key, iv, data)).equals(Buffer.from(openssl(mode, decrypt, key, iv, data))), `${mode} ${decrypt}`).toBe(true);
    }
  });

  it('output may be the input array itself', () => {
    const key = nc.randomBytes(16), iv = nc.randomBytes(16), data = nc.randomBytes(64);
    const want = openssl('cbc', false, key, iv, data);
    aesCrypt('cbc', false, key, iv, data, data);
    expect(toHex(data)).toBe(toHex(want));
  });
});

describe('AesCipher (TEE_CipherInit / TEE_CipherUpdate)', () => {
  it('updates of any whole-block split give the one-shot bytes, CBC chaining across updates, both directions', () => {
    for (let i = 0; i < 200; i++) {
      const key = nc.randomBytes([16, 24, 32][i % 3]!), iv = nc.randomBytes(16), data = nc.randomBytes(16 * (1 + (i % 7)));
      for (const mode of ['ecb', 'cbc'] as const) for (const decrypt of [false, true]) {
        const c = new AesCipher(mode, decrypt, key, mode === 'cbc' ? iv : null);
        const cut = 16 * (i % (data.length / 16 + 1));
        const got = Buffer.concat([c.update(data.subarray(0, cut)), c.update(data.subarray(cut, cut)), c.update(data.subarray(cut))]);
        expect(toHex(got)).toBe(toHex(openssl(mode, decrypt, key, mode === 'cbc' ? iv : null, data)));
      }
    }
  });

  it('keeps its own copy of key and IV: the caller changing them afterwards changes nothing', () => {
    const key = nc.randomBytes(16), iv = nc.randomBytes(16), data = nc.randomBytes(32);
    const want = openssl('cbc', false, key, iv, data);
    const c = new AesCipher('cbc', false, key, iv);
    key.fill(0); iv.fill(0);
    expect(toHex(c.update(data))).toBe(toHex(want));
  });
});

describe('refusals', () => {
  const k = new Uint8Array(16);
  it.each([
    ['a 15-byte key', () => run('ecb', false, new Uint8Array(15), null, new Uint8Array(16)), /key length 15/],
    ['a 33-byte key', () => run('ecb', false, new Uint8Array(33), null, new Uint8Array(16)), /key length 33/],
    ['data not whole blocks', () => run('ecb', false, k, null, new Uint8Array(17)), /length 17 is not a multiple of 16/],
    ['CBC without an IV', () => run('cbc', false, k, null, new Uint8Array(16)), /needs a 16-byte IV/],
    ['CBC with an 8-byte IV', () => run('cbc', false, k, new Uint8Array(8), new Uint8Array(16)), /needs a 16-byte IV/],
    ['ECB with an IV', () => run('ecb', false, k, new Uint8Array(16), new Uint8Array(16)), /takes no IV/],
    ['an output of another length', () => aesCrypt('ecb', false, k, null, new Uint8Array(16), new Uint8Array(32)), /output of 32 bytes for 16/],
    ['AesCipher with a 20-byte key', () => new AesCipher('ecb', false, new Uint8Array(20), null), /key length 20/],
  ])('%s: AesError', (_what, f, msg) => {
    expect(f).toThrow(AesError);
    expect(f).toThrow(msg);
  });
});

describe('nothing stays in the module', () => {
  // A fresh instance's memory after its start function: the S-box tables and zeros.
  const fresh = () => {
    const ex = new WebAssembly.Instance(new WebAssembly.Module(fromBase64(AES_WASM_BASE64) as Uint8Array<ArrayBuffer>), {}).exports;
    return new Uint8Array((ex.memory as WebAssembly.Memory).buffer).slice();
  };
  it('after every kind of call (and a refused one) the memory is byte for byte a fresh instance\'s', () => {
    const clean = fresh();
    const key = new Uint8Array(32).fill(0xa5), iv = new Uint8Array(16).fill(0x5a), data = new Uint8Array(4096).fill(0x3c);
    for (const mode of ['ecb', 'cbc'] as const) for (const decrypt of [false, true]) {
      run(mode, decrypt, key, mode === 'cbc' ? iv : null, data);
      expect(Buffer.from(aesModuleMemory()).equals(Buffer.from(clean)), `${mode} ${decrypt}`).toBe(true);
    }
    new AesCipher('cbc', false, key, iv).update(data);
    expect(Buffer.from(aesModuleMemory()).equals(Buffer.from(clean))).toBe(true);
    expect(() => run('ecb', false, key, null, new Uint8Array(15))).toThrow(AesError);
    expect(Buffer.from(aesModuleMemory()).equals(Buffer.from(clean))).toBe(true);
  });

  it('the module imports nothing and its memory cannot grow', () => {
    const m = new WebAssembly.Module(fromBase64(AES_WASM_BASE64) as Uint8Array<ArrayBuffer>);
    expect(WebAssembly.Module.imports(m)).toEqual([]);
    const mem = new WebAssembly.Instance(m, {}).exports.memory as WebAssembly.Memory;
    expect(() => mem.grow(1)).toThrow(RangeError);
  });
});

describe('an engine without atob (older Hermes)', () => {
  it('decodes the module with common/base64.ts instead and computes the same', async () => {
    const saved = globalThis.atob;
    // A fresh copy of the module, so that it loads its engine again without atob.
    const { vi } = await import('vitest');
    vi.resetModules();
    (globalThis as { atob?: unknown }).atob = undefined;
    try {
      const fresh = await import('../../common/aes/aes.ts');
      const out = new Uint8Array(16);
      fresh.aesCrypt('ecb', false, hex('000102030405060708090a0b0c0d0e0f'), null, hex('00112233445566778899aabbccddeeff'), out);
      expect(toHex(out)).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
    } finally {
      globalThis.atob = saved;
    }
  });
});
