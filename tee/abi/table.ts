// Host ABI v1: the one declaration of every function a TA may import. The loader checks each
// TA's imports against it (tee/loader/imports.ts), `trusttap audit` reads it, and
// docs/host-abi.md is generated from it. Conventions: an i32 result >= 0 is a value, < 0 is a
// GlobalPlatform status viewed as i32; a pointer outside TA memory panics the TA (TaPanic).
import { HostContext, TaPanic } from './context.ts';
import { CryptoError } from '../crypto/ops.ts';
import { StorageError } from '../storage/sealed.ts';
import { Status } from '../../proto/status.ts';
import { recordBoundary, recording } from './recorder.ts';

export const HOST_ABI_VERSION = 1;
/** Additions to v1 so far (docs/host-abi.md "Versions"): a function with `since` 1.1 is new in
 * 1.1; 1.2 adds to the trusted-UI screen the TA's own pixels and key rectangles, spoken
 * guidance for the TEE's audio path, and the event TUI_EVENT_TOUCH_AT (coordinates); 1.3 adds cipher_once, a whole one-shot block-cipher operation in one
 * call. An addition never changes an existing function, so the manifest and the measurements
 * carry the major version only; a TA that imports an addition is refused by a runtime that
 * lacks it (UNKNOWN_IMPORT, at load time, naming the import). */
export const HOST_ABI_REVISION = '1.3';

export type ValType = 'i32' | 'i64' | 'f64';
export interface HostFunction {
  module: 'tee' | 'env';
  name: string;
  params: ValType[];
  results: ValType[];
  doc: string;
  /** The v1 revision that added it; absent for the functions of 1.0. */
  since?: string;
  handler: (ctx: HostContext, ...args: number[]) => number | void;
}

const err = (status: number) => status | 0;

/** Runs a handler body, mapping typed host errors to their status; anything else propagates. */
function guarded(body: () => number): number {
  try {
    return body();
  } catch (e) {
    if (e instanceof CryptoError || e instanceof StorageError) return err(e.status);
    throw e;
  }
}

const I = 'i32' as const;

export const hostAbi: readonly HostFunction[] = [
  {
    module: 'env', name: 'abort', params: [I, I, I, I], results: [],
    doc: 'AssemblyScript abort(message, file, line, column): the TA panics; the runtime ends the instance (TARGET_DEAD).',
    handler(ctx, msg, file, line, col) {
      const text = `${ctx.readAsString(msg)} at ${ctx.readAsString(file)}:${line}:${col}`;
      ctx.services.abort(text);
      throw new TaPanic(`TA aborted: ${text}`);
    },
  },
  {
    module: 'env', name: 'seed', params: [], results: ['f64'],
    doc: "AssemblyScript's PRNG seed (Math.random): drawn from the TEE random source.",
    handler(ctx) {
      const b = new Uint8Array(8);
      ctx.services.random(b);
      return new DataView(b.buffer).getFloat64(0) || 1;
    },
  },
  {
    module: 'env', name: 'trace', params: [I, I, 'f64', 'f64', 'f64', 'f64', 'f64'], results: [],
    doc: 'AssemblyScript trace(): goes to the debug log (debug builds only).',
    handler(ctx, msg, n, ...a) {
      ctx.services.log(`trace: ${ctx.readAsString(msg)} ${a.slice(0, n).join(', ')}`);
    },
  },
  {
    module: 'tee', name: 'random', params: [I, I], results: [],
    doc: 'random(ptr, len): fills TA memory with bytes from the TEE random source.',
    handler(ctx, ptr, len) {
      ctx.services.random(ctx.view(ptr, len));
    },
  },
  {
    module: 'tee', name: 'clock_ms', params: [], results: ['f64'],
    doc: 'clock_ms(): monotonic milliseconds since the TEE started (TEE_GetSystemTime).',
    handler: (ctx) => ctx.services.clockMs(),
  },
  {
    module: 'tee', name: 'ree_time_ms', params: [], results: ['f64'],
    doc: 'ree_time_ms(): wall-clock milliseconds since 1970 as the REE reports it (TEE_GetREETime).',
    handler: (ctx) => ctx.services.reeTimeMs(),
  },
  {
    module: 'tee', name: 'huk_derive', params: [I, I, I, I], results: [I],
    doc: 'huk_derive(labelPtr, labelLen, outPtr, outLen): key material derived from the hardware unique key, this TA\'s UUID and the label (1..64 bytes out).',
    handler(ctx, lp, ll, op, ol) {
      const label = ctx.read(lp, ll);
      ctx.view(op, ol);
      if (ol < 1 || ol > 64) return err(Status.ERROR_BAD_PARAMETERS);
      ctx.write(op, ctx.services.hukDerive(label, ol));
      return 0;
    },
  },
  {
    module: 'tee', name: 'storage_size', params: [I, I], results: [I],
    doc: 'storage_size(idPtr, idLen): length of the sealed object, or ITEM_NOT_FOUND / CORRUPT_OBJECT / SECURITY.',
    handler: (ctx, ip, il) => guarded(() => {
      const data = ctx.services.storage.read(ctx.read(ip, il));
      return data ? data.length : err(Status.ERROR_ITEM_NOT_FOUND);
    }),
  },
  {
    module: 'tee', name: 'storage_read', params: [I, I, I, I], results: [I],
    doc: 'storage_read(idPtr, idLen, outPtr, outCap): reads the sealed object; SHORT_BUFFER when it is longer than outCap.',
    handler: (ctx, ip, il, op, cap) => guarded(() => {
      const id = ctx.read(ip, il);
      ctx.view(op, cap);
      const data = ctx.services.storage.read(id);
      if (!data) return err(Status.ERROR_ITEM_NOT_FOUND);
      if (data.length > cap) { data.fill(0); return err(Status.ERROR_SHORT_BUFFER); }
      ctx.write(op, data);
      const n = data.length;
      data.fill(0);
      return n;
    }),
  },
  {
    module: 'tee', name: 'storage_write', params: [I, I, I, I], results: [I],
    doc: 'storage_write(idPtr, idLen, dataPtr, dataLen): replaces the sealed object atomically and advances its rollback counter.',
    handler: (ctx, ip, il, dp, dl) => guarded(() => {
      const data = ctx.read(dp, dl);
      ctx.services.storage.write(ctx.read(ip, il), data);
      data.fill(0);
      return 0;
    }),
  },
  {
    module: 'tee', name: 'storage_delete', params: [I, I], results: [I],
    doc: 'storage_delete(idPtr, idLen): destroys the sealed object; ITEM_NOT_FOUND if there is none.',
    handler: (ctx, ip, il) => guarded(() => (ctx.services.storage.delete(ctx.read(ip, il)) ? 0 : err(Status.ERROR_ITEM_NOT_FOUND))),
  },
  {
    module: 'tee', name: 'storage_list', params: [I, I], results: [I],
    doc: 'storage_list(outPtr, outCap): this TA\'s object ids, each as [len u8][id]; SHORT_BUFFER if they do not fit.',
    handler: (ctx, op, cap) => guarded(() => {
      ctx.view(op, cap);
      const ids = ctx.services.storage.list();
      const total = ids.reduce((n, id) => n + 1 + id.length, 0);
      if (total > cap) return err(Status.ERROR_SHORT_BUFFER);
      const out = new Uint8Array(total);
      let o = 0;
      for (const id of ids) { out[o++] = id.length; out.set(id, o); o += id.length; }
      ctx.write(op, out);
      return total;
    }),
  },
  {
    module: 'tee', name: 'cipher_init', params: [I, I, I, I, I, I], results: [I],
    doc: 'cipher_init(alg, mode, keyPtr, keyLen, ivPtr, ivLen): allocates a block-cipher operation (AES/TDES/SM4, ECB/CBC, no padding) and returns its handle.',
    handler: (ctx, alg, mode, kp, kl, ivp, ivl) => guarded(() => {
      const key = ctx.read(kp, kl);
      try {
        return ctx.services.crypto.cipherInit(alg, mode, key, ctx.read(ivp, ivl));
      } finally {
        key.fill(0);
      }
    }),
  },
  {
    module: 'tee', name: 'cipher_update', params: [I, I, I, I], results: [I],
    doc: 'cipher_update(handle, inPtr, len, outPtr): processes whole blocks; CBC chains across calls.',
    handler: (ctx, h, ip, len, op) => guarded(() => {
      ctx.view(op, len);
      ctx.write(op, ctx.services.crypto.cipherUpdate(h, ctx.view(ip, len)));
      return 0;
    }),
  },
  {
    module: 'tee', name: 'cipher_once', params: [I, I, I, I, I, I, I, I, I], results: [I], since: '1.3',
    doc: 'cipher_once(alg, mode, keyPtr, keyLen, ivPtr, ivLen, inPtr, len, outPtr): cipher_init + cipher_update + op_free in one call, for the one- or two-block steps of key derivation (DUKPT, TR-31, PIN blocks) where each step has a new key; the same algorithms, checks and statuses as cipher_init, then len a multiple of the block (BAD_PARAMETERS). Returns 0; the host keeps nothing of the key; in and out may overlap.',
    handler: (ctx, alg, mode, kp, kl, ivp, ivl, ip, len, op) => guarded(() => {
      const out = ctx.view(op, len);
      // Views, not copies: the cipher (common/aes's module for AES, node:crypto for the rest)
      // copies the key in synchronously and common/aes wipes its copy before returning, so no
      // host-side copy of the key outlives the call; the output is a fresh buffer (overlap-safe).
      ctx.put(out, ctx.services.crypto.cipherOnce(alg, mode, ctx.view(kp, kl), ctx.view(ivp, ivl), ctx.view(ip, len)));
      return 0;
    }),
  },
  {
    module: 'tee', name: 'op_free', params: [I], results: [],
    doc: 'op_free(handle): frees a crypto operation and its key.',
    handler(ctx, h) { ctx.services.crypto.free(h); },
  },
  {
    module: 'tee', name: 'digest', params: [I, I, I, I], results: [I],
    doc: 'digest(alg, inPtr, len, outPtr): SHA-256 or SM3 of the input; returns 32.',
    handler: (ctx, alg, ip, len, op) => guarded(() => {
      const d = ctx.services.crypto.digest(alg, ctx.view(ip, len));
      ctx.write(op, d);
      return d.length;
    }),
  },
  {
    module: 'tee', name: 'hmac', params: [I, I, I, I, I, I], results: [I],
    doc: 'hmac(alg, keyPtr, keyLen, inPtr, len, outPtr): HMAC-SHA256 or HMAC-SM3; returns 32.',
    handler: (ctx, alg, kp, kl, ip, len, op) => guarded(() => {
      const key = ctx.read(kp, kl);
      const m = ctx.services.crypto.hmac(alg, key, ctx.view(ip, len));
      key.fill(0);
      ctx.write(op, m);
      return m.length;
    }),
  },
  {
    module: 'tee', name: 'ecc_generate', params: [I, I, I], results: [I],
    doc: 'ecc_generate(curve, privOut, pubOut): a new key pair on P-256 or SM2; private scalar 32 bytes, uncompressed public point 65 bytes.',
    handler: (ctx, curve, pp, qp) => guarded(() => {
      ctx.view(pp, 32); ctx.view(qp, 65);
      const { priv, pub } = ctx.services.crypto.eccGenerate(curve);
      ctx.write(pp, priv); ctx.write(qp, pub);
      priv.fill(0);
      return 0;
    }),
  },
  {
    module: 'tee', name: 'ecc_sign', params: [I, I, I, I, I], results: [I],
    doc: 'ecc_sign(alg, privPtr, msgPtr, msgLen, sigOut): ECDSA P-256/SHA-256 or SM2/SM3 signature r||s (64 bytes); returns 64.',
    handler: (ctx, alg, pp, mp, ml, sp) => guarded(() => {
      ctx.view(sp, 64);
      const priv = ctx.read(pp, 32);
      try {
        const sig = ctx.services.crypto.eccSign(alg, priv, ctx.view(mp, ml));
        ctx.write(sp, sig);
        return sig.length;
      } catch (e) {
        if (e instanceof CryptoError) throw e;
        return err(Status.ERROR_BAD_PARAMETERS);
      } finally {
        priv.fill(0);
      }
    }),
  },
  {
    module: 'tee', name: 'ecc_verify', params: [I, I, I, I, I, I, I], results: [I],
    doc: 'ecc_verify(alg, pubPtr, pubLen, msgPtr, msgLen, sigPtr, sigLen): SUCCESS or SIGNATURE_INVALID.',
    handler: (ctx, alg, qp, ql, mp, ml, sp, sl) => guarded(() =>
      ctx.services.crypto.eccVerify(alg, ctx.view(qp, ql), ctx.view(mp, ml), ctx.view(sp, sl)) ? 0 : err(Status.ERROR_SIGNATURE_INVALID)),
  },
  {
    module: 'tee', name: 'eddsa_verify', params: [I, I, I, I, I, I, I], results: [I], since: '1.1',
    doc: 'eddsa_verify(alg, pubPtr, pubLen, msgPtr, msgLen, sigPtr, sigLen): Ed25519 (alg TEE_ALG_ED25519, RFC 8032 pure: the message itself, no pre-hash) with a 32-byte public key (a TEE_TYPE_ED25519_PUBLIC_KEY) and a 64-byte signature: SUCCESS or SIGNATURE_INVALID (also for a key or signature of another length); NOT_SUPPORTED for another alg.',
    handler: (ctx, alg, qp, ql, mp, ml, sp, sl) => guarded(() =>
      ctx.services.crypto.eddsaVerify(alg, ctx.view(qp, ql), ctx.view(mp, ml), ctx.view(sp, sl)) ? 0 : err(Status.ERROR_SIGNATURE_INVALID)),
  },
  {
    module: 'tee', name: 'ecdh', params: [I, I, I, I], results: [I],
    doc: 'ecdh(privPtr, pubPtr, pubLen, outPtr): ECDH P-256 shared secret (32-byte x-coordinate); returns 32.',
    handler: (ctx, pp, qp, ql, op) => guarded(() => {
      ctx.view(op, 32);
      const priv = ctx.read(pp, 32);
      try {
        const z = ctx.services.crypto.ecdh(priv, ctx.view(qp, ql));
        ctx.write(op, z);
        z.fill(0);
        return 32;
      } finally {
        priv.fill(0);
      }
    }),
  },
  {
    module: 'tee', name: 'session_open', params: [I], results: [I],
    doc: 'session_open(uuidPtr): opens a session to another TA (TEE_OpenTASession); the callee sees this TA\'s UUID as its client. Returns a session handle.',
    handler: (ctx, up) => ctx.services.sessions.open(ctx.read(up, 16)),
  },
  {
    module: 'tee', name: 'session_invoke', params: [I, I, I, I, I, I], results: [I],
    doc: 'session_invoke(session, command, inPtr, inLen, outPtr, outCap): TEE_InvokeTACommand; returns the response length or a status (< 0), with the callee\'s error detail in out when it fits.',
    handler(ctx, s, cmd, ip, il, op, cap) {
      ctx.view(op, cap);
      const r = ctx.services.sessions.invoke(s, cmd >>> 0, ctx.read(ip, il), cap);
      if (r.payload.length > cap) return err(Status.ERROR_SHORT_BUFFER);
      ctx.write(op, r.payload);
      return r.status !== 0 ? err(r.status) : r.payload.length;
    },
  },
  {
    module: 'tee', name: 'session_close', params: [I], results: [],
    doc: 'session_close(session): TEE_CloseTASession.',
    handler(ctx, s) { ctx.services.sessions.close(s); },
  },
  {
    module: 'tee', name: 'log', params: [I, I], results: [],
    doc: 'log(ptr, len): UTF-8 debug line. Only debug builds import it; `audit` flags it in a release build.',
    handler(ctx, p, l) { ctx.services.log(Buffer.from(ctx.view(p, l)).toString('utf8')); },
  },
  {
    module: 'tee', name: 'attest_measurements', params: [I, I], results: [I],
    doc: 'attest_measurements(outPtr, outCap): the runtime\'s own measurements as an encoded trusttap.attest.v1.Measurements (runtime version, host ABI version, manifest SHA-256, SHA-256 of every loaded TA image as the runtime hashed it, boot state); returns its length, SHORT_BUFFER if it does not fit, NOT_SUPPORTED without attestation.',
    handler: (ctx, op, cap) => guarded(() => {
      ctx.view(op, cap);
      const a = ctx.services.attestation;
      if (!a) return err(Status.ERROR_NOT_SUPPORTED);
      const m = a.measurements();
      if (m.length > cap) return err(Status.ERROR_SHORT_BUFFER);
      ctx.write(op, m);
      return m.length;
    }),
  },
  {
    module: 'tee', name: 'oem_certify', params: [I, I, I, I], results: [I],
    doc: 'oem_certify(pubPtr, pubLen, outPtr, outCap): the device\'s OEM attestation key certifies a P-256 public key (65 bytes) for the calling TA — the certificate names the caller\'s UUID and image SHA-256, taken by the runtime, never from the TA; returns the length of the encoded trusttap.attest.v1.CertificateChain (leaf first), SHORT_BUFFER, BAD_PARAMETERS for a bad point, ITEM_NOT_FOUND on an unprovisioned device, NOT_SUPPORTED without attestation.',
    handler: (ctx, pp, pl, op, cap) => guarded(() => {
      const pub = ctx.read(pp, pl);
      ctx.view(op, cap);
      const a = ctx.services.attestation;
      if (!a) return err(Status.ERROR_NOT_SUPPORTED);
      const chain = a.oemCertify(pub);
      if (chain.length > cap) return err(Status.ERROR_SHORT_BUFFER);
      ctx.write(op, chain);
      return chain.length;
    }),
  },
  {
    module: 'tee', name: 'tui_begin', params: [I, I, I], results: [I],
    doc: 'tui_begin(screenPtr, screenLen, timeoutMs): hands an encoded trusttap.tee.v1.TuiScreen to the TEE-side UI provider: since 1.2 the keypad as the TA drew it (width x height pixels, 1 bit each, key rectangles without labels; only the TA knows which digit a key shows), or key positions with labels; its `speech` lines go to the TEE\'s audio output and are removed before the provider sees the screen. The command being invoked stays pending when the TA then returns TUI_PENDING (1), and the provider\'s events (a touch at x, y on the pixels as TUI_EVENT_TOUCH_AT with y << 16 | x, since 1.2; a touched key position; OK, clear, cancel) and the runtime\'s timeout (100..600000 ms) arrive through the TA\'s export ta_tui_event. SUCCESS, BUSY (the TA already has an entry on display), BAD_FORMAT (screen does not decode), BAD_PARAMETERS (timeout), BAD_STATE (not inside a client\'s invoke), NOT_SUPPORTED (no trusted UI; answered before any other check, so a zero timeout probes for a UI without showing anything). A TA that imports it must export ta_tui_event.',
    handler: (ctx, sp, sl, timeoutMs) => {
      const screen = ctx.read(sp, sl);
      const tui = ctx.services.tui;
      return tui ? err(tui.begin(screen, timeoutMs >>> 0)) : err(Status.ERROR_NOT_SUPPORTED);
    },
  },
  {
    module: 'tee', name: 'tui_update', params: [I, I], results: [I],
    doc: 'tui_update(screenPtr, screenLen): replaces the screen of the TA\'s active entry (digits entered as dots, a notice); SUCCESS, BAD_FORMAT, BAD_STATE (no active entry), NOT_SUPPORTED.',
    handler: (ctx, sp, sl) => {
      const screen = ctx.read(sp, sl);
      const tui = ctx.services.tui;
      return tui ? err(tui.update(screen)) : err(Status.ERROR_NOT_SUPPORTED);
    },
  },
];

export const hostAbiByKey = new Map(hostAbi.map((f) => [`${f.module}.${f.name}`, f]));

/** Trusted-UI imports: a TA that has one must export ta_tui_event (tee/abi/ta-exports.ts). */
export const tuiImports = new Set(['tee.tui_begin', 'tee.tui_update']);

/** Imports a release TA must not have, though the ABI defines them. */
export const debugOnlyImports = new Set(['tee.log', 'env.trace']);

/** Builds the import object for one TA instance. */
export function buildImports(ctx: HostContext, module?: WebAssembly.Module): WebAssembly.Imports {
  const imports: Record<string, Record<string, Function>> = { env: {}, tee: {} };
  if (!module) {
    for (const f of hostAbi) imports[f.module][f.name] = bind(ctx, f);
    return imports as WebAssembly.Imports;
  }
  // Only what the module imports (a TA uses a handful of the host ABI): the loader checked
  // every import against the ABI, and instantiation refuses anything left unresolved.
  for (const imp of WebAssembly.Module.imports(module)) {
    const f = hostAbiByKey.get(`${imp.module}.${imp.name}`);
    if (f) imports[f.module][f.name] = bind(ctx, f);
  }
  return imports as WebAssembly.Imports;
}

/** The import for one host function. Its JavaScript arity is the Wasm signature's: V8 calls an
 * import of another arity (a rest parameter is arity 0) through a slower adapter, which the
 * one-block cipher steps of a DUKPT derivation pay ten times per PIN block. */
function bind(ctx: HostContext, f: HostFunction): Function {
  const h = f.handler;
  const recorded = (args: number[]) => {
    const r = h(ctx, ...args);
    recordBoundary({ channel: 'host-call', ta: ctx.services.ta.name, what: f.name, numbers: typeof r === 'number' ? [...args, r] : args });
    return r;
  };
  type N = number;
  switch (f.params.length) {
    case 0: return () => (recording() ? recorded([]) : h(ctx));
    case 1: return (a: N) => (recording() ? recorded([a]) : h(ctx, a));
    case 2: return (a: N, b: N) => (recording() ? recorded([a, b]) : h(ctx, a, b));
    case 3: return (a: N, b: N, c: N) => (recording() ? recorded([a, b, c]) : h(ctx, a, b, c));
    case 4: return (a: N, b: N, c: N, d: N) => (recording() ? recorded([a, b, c, d]) : h(ctx, a, b, c, d));
    case 5: return (a: N, b: N, c: N, d: N, e: N) => (recording() ? recorded([a, b, c, d, e]) : h(ctx, a, b, c, d, e));
    case 6: return (a: N, b: N, c: N, d: N, e: N, g: N) => (recording() ? recorded([a, b, c, d, e, g]) : h(ctx, a, b, c, d, e, g));
    case 7: return (a: N, b: N, c: N, d: N, e: N, g: N, i: N) => (recording() ? recorded([a, b, c, d, e, g, i]) : h(ctx, a, b, c, d, e, g, i));
    case 8: return (a: N, b: N, c: N, d: N, e: N, g: N, i: N, j: N) => (recording() ? recorded([a, b, c, d, e, g, i, j]) : h(ctx, a, b, c, d, e, g, i, j));
    case 9: return (a: N, b: N, c: N, d: N, e: N, g: N, i: N, j: N, k: N) => (recording() ? recorded([a, b, c, d, e, g, i, j, k]) : h(ctx, a, b, c, d, e, g, i, j, k));
  }
  return (...args: number[]) => (recording() ? recorded(args) : h(ctx, ...args));
}
