// Loads backend/hsm/as/hsm.ts — ta/lib's TR-31, AES DUKPT, KCV and RKI key agreement (kek.ts)
// compiled for the host — and gives it the few host primitives it imports (random, block
// ciphers, digest, HMAC): AES on common/aes's constant-time WebAssembly module (as the reference
// TEE's host does: each DUKPT step keys a new cipher), the rest on node:crypto. In a checkout
// the module is compiled with the project's asc on first use and cached under build/out/hsm/ by
// the SHA-256 of its sources; the npm package has no AS sources and no compiler, so
// build/package.ts puts the compiled module beside this file's compiled JavaScript (hsm.wasm)
// and that is what loads there.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomFillSync, type Cipher, type Decipher } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aesCrypt, AesCipher, type AesMode } from '../../common/aes/aes.ts';

const root = new URL('../../', import.meta.url).pathname;
const ENTRY = 'backend/hsm/as/hsm.ts';
const SOURCE_DIRS = ['backend/hsm/as', 'ta/lib', 'proto/as', 'proto/gen/as'];

export class HsmModuleError extends Error {
  constructor(readonly status: number, message: string) { super(message); this.name = 'HsmModuleError'; }
}

function sourceHash(): string {
  const h = createHash('sha256');
  for (const d of SOURCE_DIRS) {
    const dir = join(root, d);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.ts')) h.update(`${d}/${f}\0`).update(readFileSync(join(dir, f)));
  }
  return h.digest('hex').slice(0, 20);
}

async function compile(): Promise<Uint8Array> {
  const { default: asc } = await import('assemblyscript/asc');
  let out: Uint8Array | null = null;
  const stderr: string[] = [];
  const cfgDir = join(root, 'build', 'out', 'hsm');
  mkdirSync(cfgDir, { recursive: true });
  const cfg = join(cfgDir, 'asconfig.hsm.json');
  if (!existsSync(cfg)) writeFileSync(cfg, JSON.stringify({ targets: { hsm: {} }, options: {} }));
  const { error } = await asc.main([ENTRY, '--baseDir', root, '--config', cfg, '--target', 'hsm', '-O3', '--runtime', 'incremental', '--noAssert', '--maximumMemory', '64', '--outFile', 'build/out/hsm/hsm.wasm'], {
    stdout: { write: () => true } as any,
    stderr: { write: (s: string) => { stderr.push(String(s)); return true; } } as any,
    writeFile: (name: string, contents: Uint8Array) => { if (name.endsWith('.wasm')) out = contents; },
  } as any);
  if (error || !out) throw new Error(`asc failed for ${ENTRY}: ${error?.message ?? ''}\n${stderr.join('')}`);
  return out;
}

const PREBUILT = new URL('./hsm.wasm', import.meta.url);

/** The compiled module's bytes: prebuilt in the package, else from the cache when the sources are unchanged. */
export async function hsmWasm(): Promise<Uint8Array> {
  if (!existsSync(join(root, ENTRY))) {
    if (existsSync(PREBUILT)) return readFileSync(PREBUILT);
    throw new Error(`HSM module: no AS sources (${ENTRY}) and no prebuilt ${PREBUILT.pathname}; in a checkout run from the sources, or rebuild the package (npm run build:package)`);
  }
  const dir = join(root, 'build', 'out', 'hsm');
  const file = join(dir, `hsm-${sourceHash()}.wasm`);
  if (existsSync(file)) return readFileSync(file);
  const w = await compile();
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, w);
  renameSync(tmp, file);
  return w;
}

/** `aes`: the mode on common/aes; `name`: the node:crypto cipher by key length. */
const ALG: Record<number, { block: number; aes?: AesMode; name?: (keyLen: number) => string }> = {
  0x10000010: { block: 16, aes: 'ecb' },
  0x10000110: { block: 16, aes: 'cbc' },
  0x10000013: { name: (l) => (l === 16 ? 'des-ede-ecb' : 'des-ede3-ecb'), block: 8 },
  0x10000113: { name: (l) => (l === 16 ? 'des-ede-cbc' : 'des-ede3-cbc'), block: 8 },
  // SM4 for the issuer side's national-algorithm (SM) card cryptograms (backend/hsm/as/emv.ts).
  0x10000014: { name: () => 'sm4-ecb', block: 16 },
  0x10000114: { name: () => 'sm4-cbc', block: 16 },
};
const ALG_SHA256 = 0x50000004;
const ALG_HMAC_SHA256 = 0x30000004;
const BAD_PARAMETERS = 0xffff0006 | 0;
const NOT_SUPPORTED = 0xffff000a | 0;

/** The module compiled once per process: the software HSM and the issuer side (backend/issuer/
 * ta-lib.ts) each instantiate it, so neither shares the other's memory or I/O buffer. */
let compiled: Promise<WebAssembly.Module> | undefined;

/** One instance of the HSM module with its host primitives. Not re-entrant (one call at a time). */
export class HsmModule {
  private constructor(private readonly ex: any, private readonly mem: () => Uint8Array) {}

  static async load(): Promise<HsmModule> {
    compiled ??= hsmWasm().then((w) => WebAssembly.compile(new Uint8Array(w))).catch((e) => { compiled = undefined; throw e; });
    const module = await compiled;
    let memory: WebAssembly.Memory | null = null;
    const mem = () => new Uint8Array(memory!.buffer);
    const ops = new Map<number, { c: Cipher | Decipher | AesCipher; block: number }>();
    let nextOp = 1;
    const view = (p: number, n: number) => {
      const m = mem();
      if ((p >>> 0) + (n >>> 0) > m.length) throw new Error('HSM module: pointer out of bounds');
      return m.subarray(p >>> 0, (p >>> 0) + (n >>> 0));
    };
    const host: Record<string, Function> = {
      random: (p: number, n: number) => { randomFillSync(view(p, n)); },
      cipher_init: (alg: number, mode: number, kp: number, kl: number, ivp: number, ivl: number) => {
        const a = ALG[alg >>> 0];
        if (!a) return NOT_SUPPORTED;
        const key = view(kp, kl).slice();
        try {
          const iv = ivl ? view(ivp, ivl).slice() : null;
          let c: Cipher | Decipher | AesCipher;
          if (a.aes) c = new AesCipher(a.aes, mode !== 0, key, iv);
          else {
            const name = a.name!(kl);
            c = mode === 0 ? createCipheriv(name, key, iv) : createDecipheriv(name, key, iv);
            c.setAutoPadding(false);
          }
          const h = nextOp++;
          ops.set(h, { c, block: a.block });
          return h;
        } catch {
          return BAD_PARAMETERS;
        } finally {
          key.fill(0);
        }
      },
      cipher_update: (h: number, ip: number, len: number, op: number) => {
        const o = ops.get(h);
        if (!o || len % o.block) return BAD_PARAMETERS;
        const out = o.c.update(view(ip, len));
        view(op, len).set(out);
        out.fill(0);
        return 0;
      },
      op_free: (h: number) => {
        const o = ops.get(h);
        if (o?.c instanceof AesCipher) o.c.destroy();
        ops.delete(h);
      },
      // host ABI 1.3: the whole operation in one call (ta/lib/cipher.ts makes every block-cipher call through it)
      cipher_once: (alg: number, mode: number, kp: number, kl: number, ivp: number, ivl: number, ip: number, len: number, op: number) => {
        const a = ALG[alg >>> 0];
        const out = view(op, len), input = view(ip, len), key = view(kp, kl), iv = ivl ? view(ivp, ivl) : null;
        if (!a) return NOT_SUPPORTED;
        if (len % a.block || (mode !== 0 && mode !== 1)) return BAD_PARAMETERS;
        let r: Uint8Array;
        try {
          if (a.aes) aesCrypt(a.aes, mode !== 0, key, iv, input, (r = new Uint8Array(len))); // a fresh output: in and out may overlap
          else {
            const name = a.name!(kl);
            r = mode === 0 ? createCipheriv(name, key, iv).update(input) : createDecipheriv(name, key, iv).setAutoPadding(false).update(input);
          }
        } catch {
          return BAD_PARAMETERS;
        }
        out.set(r);
        r.fill(0);
        return 0;
      },
      digest: (alg: number, ip: number, len: number, op: number) => {
        if (alg >>> 0 !== ALG_SHA256) return NOT_SUPPORTED;
        view(op, 32).set(createHash('sha256').update(view(ip, len)).digest());
        return 32;
      },
      hmac: (alg: number, kp: number, kl: number, ip: number, len: number, op: number) => {
        if (alg >>> 0 !== ALG_HMAC_SHA256) return NOT_SUPPORTED;
        view(op, 32).set(createHmac('sha256', view(kp, kl)).update(view(ip, len)).digest());
        return 32;
      },
    };
    const env: Record<string, Function> = {
      abort: () => { throw new Error('HSM module aborted'); },
      seed: () => Math.random(),
      trace: () => {},
    };
    const imports: Record<string, Record<string, Function>> = { tee: {}, env: {} };
    for (const i of WebAssembly.Module.imports(module)) {
      const f = (i.module === 'tee' ? host : i.module === 'env' ? env : {})[i.name];
      if (!f) throw new Error(`HSM module imports ${i.module}.${i.name}, which the HSM host does not provide`);
      imports[i.module][i.name] = f;
    }
    const inst = new WebAssembly.Instance(module, imports as WebAssembly.Imports);
    memory = inst.exports.memory as WebAssembly.Memory;
    return new HsmModule(inst.exports, mem);
  }

  /** Calls an export with byte-string inputs laid end to end in the I/O buffer. */
  call(fn: string, inputs: Uint8Array[], extra: number[] = []): Uint8Array {
    const io = this.ex.io_buf() as number;
    const cap = this.ex.io_cap() as number;
    const total = inputs.reduce((n, b) => n + b.length, 0);
    if (total > cap) throw new HsmModuleError(BAD_PARAMETERS, `${fn}: input larger than the HSM buffer`);
    const m = this.mem();
    let o = io;
    for (const b of inputs) { m.set(b, o); o += b.length; }
    let n: number;
    try {
      n = this.ex[fn](...inputs.map((b) => b.length), ...extra) as number;
    } catch (e) {
      this.mem().fill(0, io, io + cap);
      throw e;
    }
    if (n < 0) {
      const rl = this.ex.last_reason() as number;
      const why = Buffer.from(this.mem().subarray(io, io + rl)).toString('utf8');
      this.mem().fill(0, io, io + cap);
      throw new HsmModuleError(n >>> 0, why);
    }
    const out = this.mem().slice(io, io + n);
    this.mem().fill(0, io, io + Math.max(n, total));
    return out;
  }
}
