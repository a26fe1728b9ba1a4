// AES-ECB and AES-CBC without padding (FIPS 197, NIST SP 800-38A) on the constant-time
// WebAssembly module of ./as/aes.ts (bytes in ./aes-wasm.gen.ts): the host AES of the reference
// TEE runtime (tee/crypto/ops.ts) and of the back end's HSM module (backend/hsm/wasm.ts). A
// payment-key step (a DUKPT derivation, a PIN block) keys a new cipher for one or two blocks;
// here that costs a key expansion (~0.2 µs), where node:crypto's createCipheriv costs ~1.7 µs
// before any block. The module is compiled on first use, once per JavaScript realm (each TA
// worker thread has its own), and wiped after every call: no key, round key or data stays in it.
import { fromBase64 } from '../base64.ts';
import { AES_WASM_BASE64 } from './aes-wasm.gen.ts';

export class AesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AesError';
  }
}

export type AesMode = 'ecb' | 'cbc';

interface Exports {
  memory: WebAssembly.Memory;
  expand(keyLen: number): number;
  ecb(n: number, decrypt: number): void;
  cbc(n: number, decrypt: number): void;
  wipe(n: number): void;
  key_ptr(): number;
  iv_ptr(): number;
  buf_ptr(): number;
  buf_cap(): number;
}

interface Engine { ex: Exports; mem: Uint8Array; key: number; iv: number; buf: number; cap: number }
let engine: Engine | undefined;

function load(): Engine {
  // The platform's atob decodes our own constant natively where there is one (Node, browsers):
  // common/base64.ts's strict decoder runs in the interpreter on first use, ~1 ms for these 9 KB
  // at boot; it stays the fallback for an engine without atob (older Hermes).
  let bytes: Uint8Array<ArrayBuffer>;
  if (typeof globalThis.atob === 'function') {
    const text = globalThis.atob(AES_WASM_BASE64);
    bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  } else {
    bytes = fromBase64(AES_WASM_BASE64) as Uint8Array<ArrayBuffer>;
  }
  // The module imports nothing and its memory is fixed (two pages), so one view serves for ever.
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as Exports;
  return { ex, mem: new Uint8Array(ex.memory.buffer), key: ex.key_ptr(), iv: ex.iv_ptr(), buf: ex.buf_ptr(), cap: ex.buf_cap() & ~15 };
}

function checkKeyAndIv(mode: AesMode, key: Uint8Array, iv: Uint8Array | null): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new AesError(`AES key length ${key.length} (16, 24 or 32 bytes)`);
  if (mode === 'cbc' ? iv?.length !== 16 : iv !== null) throw new AesError(mode === 'cbc' ? 'AES-CBC needs a 16-byte IV' : 'AES-ECB takes no IV');
}

/** AES over `input` (a whole number of 16-byte blocks) into `out` (the same length; it may be
 * `input` itself). `iv` is CBC's initial chaining value (16 bytes) and must be null for ECB. */
export function aesCrypt(mode: AesMode, decrypt: boolean, key: Uint8Array, iv: Uint8Array | null, input: Uint8Array, out: Uint8Array): void {
  checkKeyAndIv(mode, key, iv);
  if (input.length % 16 !== 0) throw new AesError(`AES data length ${input.length} is not a multiple of 16`);
  if (out.length !== input.length) throw new AesError(`AES output of ${out.length} bytes for ${input.length} bytes of input`);
  const e = (engine ??= load());
  const { ex, mem } = e;
  const d = decrypt ? 1 : 0;
  const used = Math.min(e.cap, input.length); // the buffer bytes the chunks below write
  try {
    mem.set(key, e.key);
    ex.expand(key.length);
    if (iv) mem.set(iv, e.iv);
    // The module continues the CBC chain from one chunk to the next (iv_ptr holds the last block).
    for (let at = 0; at < input.length; at += e.cap) {
      const n = Math.min(e.cap, input.length - at);
      mem.set(input.subarray(at, at + n), e.buf);
      if (mode === 'ecb') ex.ecb(n, d);
      else ex.cbc(n, d);
      out.set(mem.subarray(e.buf, e.buf + n), at);
    }
  } finally {
    ex.wipe(used);
  }
}

/** A keyed AES operation for GlobalPlatform's TEE_CipherInit / TEE_CipherUpdate model: each
 * update continues the CBC chain of the one before. The key is held in a private copy that
 * destroy() zeroes. */
export class AesCipher {
  private readonly key: Uint8Array;
  private readonly chain: Uint8Array | null;

  constructor(private readonly mode: AesMode, private readonly decrypt: boolean, key: Uint8Array, iv: Uint8Array | null) {
    checkKeyAndIv(mode, key, iv);
    this.key = Uint8Array.from(key); // not .slice(): on a Buffer that is a view
    this.chain = iv ? Uint8Array.from(iv) : null;
  }

  update(input: Uint8Array): Uint8Array {
    const out = new Uint8Array(input.length);
    aesCrypt(this.mode, this.decrypt, this.key, this.chain, input, out);
    // CBC's next chaining value is the last ciphertext block: the output's when encrypting, the input's when decrypting.
    if (this.chain && input.length) this.chain.set((this.decrypt ? input : out).subarray(input.length - 16));
    return out;
  }

  destroy(): void {
    this.key.fill(0);
    this.chain?.fill(0);
  }
}

/** The module's whole memory (a copy), for the test that every call leaves it as a fresh
 * instance's: nothing of a key, a round key or the data stays behind. */
export function aesModuleMemory(): Uint8Array {
  return (engine ??= load()).mem.slice();
}
