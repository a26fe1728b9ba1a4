// Project Wycheproof (C2SP/wycheproof) through a runtime's host crypto, as the crypto TA
// (as/crypto-ta.ts) exposes it over the TEE Client API. Shared by the kit's crypto category
// (kit-crypto.ts) and `trusttap vectors` (test/vectors/runner.ts). Which files match
// a host primitive is decided from the file's schema and algorithm, and per group from its
// curve and hash; anything else is skipped, never guessed.
//
//   ecdsa_p1363_verify_schema   ECDSA secp256r1/SHA-256: tee.ecc_verify with raw r||s
//   ecdsa_verify_schema         the same after strict DER -> r||s in the test; the DER bytes as
//                               they are must never verify
//   eddsa_verify_schema         Ed25519 (edwards25519 groups): tee.eddsa_verify (host ABI 1.1)
//                               with the raw 32-byte key and the signature as it is
//   ecdh_ecpoint_test_schema    ECDH secp256r1: tee.ecdh with the raw peer point
//   mac_test_schema             HMACSHA256 / HMACSM3: tee.hmac (tag truncated to the group's
//                               size); AES-CMAC: ta/lib/cmac.ts over tee.cipher_* (AES-ECB)
//   aead_test_schema            AES-GCM / SM4-GCM: GCM (crypto/gcm.ts) over the host's
//                               AES-ECB / SM4-ECB (tee.cipher_init + cipher_update)
import type { TeeSession } from '../ree/tee-client/index.ts';
import { Alg } from '../tee/abi/algorithms.ts';
import { KIT_ASSETS_DIR, kitTaWasm, kitWycheproofText } from './assets.ts';
import { ecdsaDerToRaw } from './crypto/ecdsa-der.ts';
import { gcmDecrypt, gcmEncrypt } from './crypto/gcm.ts';

const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n >>> 0, true); return b; };
const cat = (...p: Uint8Array[]) => new Uint8Array(Buffer.concat(p));
const i32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getInt32(0, true);

export const CRYPTO_PROBE_UUID = '0c0fe7a0-0000-4000-8000-0000000c7e57';
const CMD = { VERIFY: 1, ECDH: 2, HMAC: 3, CMAC: 4, SIGN: 5, ECB: 6, EDDSA_VERIFY: 7, CIPHER: 8 };
/** How the crypto TA runs a block cipher: tee.cipher_once (host ABI 1.3), the operation handles, or cipher_once with out = in. */
export const CipherPath = { ONCE: 0, HANDLES: 1, ONCE_IN_PLACE: 2 } as const;

export interface WpCase { tcId: number; comment: string; flags: string[]; result: 'valid' | 'invalid' | 'acceptable'; [k: string]: any }
export interface WpGroup { tests: WpCase[]; [k: string]: any }
export interface WpFile { algorithm: string; schema: string; numberOfTests: number; testGroups: WpGroup[] }
/** violation: a wrong answer regardless of the case's expected result. */
export type Outcome = { accepted: true; out?: string; violation?: string } | { accepted: false; why: string };
/** skip: this group does not match a host primitive (another curve or hash). */
export type Check = (g: WpGroup, t: WpCase) => Promise<Outcome | 'skip'>;

export function isWycheproof(j: unknown): j is WpFile {
  return !!j && typeof j === 'object' && Array.isArray((j as WpFile).testGroups) && typeof (j as WpFile).algorithm === 'string';
}

/** The crypto TA, from the kit's prebuilt assets. */
export async function cryptoProbeImage(assetsDir: string = KIT_ASSETS_DIR) {
  return { name: 'crypto-probe', uuid: CRYPTO_PROBE_UUID, version: '1.0.0', wasm: kitTaWasm('crypto', assetsDir) };
}

/** The host crypto of one runtime, as the crypto TA exposes it. */
export class HostCrypto {
  constructor(private readonly s: TeeSession) {}
  async verify(alg: number, pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
    return i32(await this.s.invoke(CMD.VERIFY, cat(u32(alg), u32(pub.length), pub, u32(msg.length), msg, sig))) === 0;
  }
  async eddsaVerify(alg: number, pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
    return (await this.eddsaVerifyStatus(alg, pub, msg, sig)) === 0;
  }
  /** tee.eddsa_verify's status as the TA got it (0, or a GP status as i32). */
  async eddsaVerifyStatus(alg: number, pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<number> {
    return i32(await this.s.invoke(CMD.EDDSA_VERIFY, cat(u32(alg), u32(pub.length), pub, u32(msg.length), msg, sig)));
  }
  async ecdh(priv: Uint8Array, pub: Uint8Array): Promise<Uint8Array | null> {
    const r = await this.s.invoke(CMD.ECDH, cat(priv, pub));
    return i32(r) === 32 ? r.subarray(4) : null;
  }
  async hmac(alg: number, key: Uint8Array, msg: Uint8Array): Promise<Uint8Array | null> {
    const r = await this.s.invoke(CMD.HMAC, cat(u32(alg), u32(key.length), key, msg));
    return i32(r) === 32 ? r.subarray(4) : null;
  }
  async cmac(key: Uint8Array, msg: Uint8Array): Promise<Uint8Array | null> {
    const r = await this.s.invoke(CMD.CMAC, cat(u32(key.length), key, msg));
    return r[0] === 1 ? r.subarray(1) : null;
  }
  async sign(alg: number, priv: Uint8Array, msg: Uint8Array): Promise<Uint8Array | null> {
    const r = await this.s.invoke(CMD.SIGN, cat(u32(alg), priv, msg));
    return i32(r) === 64 ? r.subarray(4) : null;
  }
  async ecb(alg: number, key: Uint8Array, blocks: Uint8Array): Promise<Uint8Array | null> {
    const r = await this.s.invoke(CMD.ECB, cat(u32(alg), u32(key.length), key, blocks));
    return i32(r) === 0 ? r.subarray(4) : null;
  }
  /** A block cipher through the given host path: the output, or the status (a negative number). */
  async cipher(path: number, alg: number, mode: number, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Promise<Uint8Array | number> {
    const r = await this.s.invoke(CMD.CIPHER, cat(u32(alg), u32(mode), u32(path), u32(key.length), key, u32(iv.length), iv, data));
    return i32(r) === 0 ? r.subarray(4) : i32(r);
  }
  /** A synchronous block function for gcm.ts: runs `f` until every block it asks for has been
   * encrypted by the host (each pass fetches the blocks the previous one missed). */
  async withBlocks<T>(alg: number, key: Uint8Array, f: (enc: (b: Uint8Array) => Uint8Array) => T): Promise<T> {
    const cache = new Map<string, Uint8Array>();
    for (let pass = 0; pass < 6; pass++) {
      const missing: Uint8Array[] = [];
      const result = f((b) => {
        const hit = cache.get(hex(b));
        if (hit) return hit;
        missing.push(Uint8Array.from(b));
        return new Uint8Array(16);
      });
      if (!missing.length) return result;
      const out = await this.ecb(alg, key, cat(...missing));
      if (!out) throw new Error('host refused the key');
      missing.forEach((b, i) => cache.set(hex(b), out.subarray(16 * i, 16 * i + 16)));
    }
    throw new Error('GCM needed too many passes');
  }
}

/** The check for a Wycheproof file on the host primitives, or null when none matches it. */
export function checkFor(file: WpFile, hc: HostCrypto): { check: Check; expected?: (g: WpGroup, t: WpCase) => string } | null {
  const schema = file.schema.replace(/_v\d+\.json$|\.json$/, '');
  const p256 = (g: WpGroup) => g.publicKey?.curve === 'secp256r1' && g.sha === 'SHA-256';
  if (schema === 'ecdsa_p1363_verify_schema') {
    return { check: async (g, t) => !p256(g) ? 'skip' : (await hc.verify(Alg.ECDSA_P256, unhex(g.publicKey.uncompressed), unhex(t.msg), unhex(t.sig))) ? { accepted: true } : { accepted: false, why: 'SIGNATURE_INVALID' } };
  }
  if (schema === 'eddsa_verify_schema') {
    return { check: async (g, t) => g.publicKey?.curve !== 'edwards25519' ? 'skip' : (await hc.eddsaVerify(Alg.ED25519, unhex(g.publicKey.pk), unhex(t.msg), unhex(t.sig))) ? { accepted: true } : { accepted: false, why: 'SIGNATURE_INVALID' } };
  }
  if (schema === 'ecdsa_verify_schema') {
    return {
      check: async (g, t) => {
        if (!p256(g)) return 'skip';
        const pub = unhex(g.publicKey.uncompressed), msg = unhex(t.msg), der = unhex(t.sig);
        if (await hc.verify(Alg.ECDSA_P256, pub, msg, der)) return { accepted: true, violation: 'ecc_verify accepted DER bytes as a raw r||s signature' };
        const raw = ecdsaDerToRaw(der);
        if (!raw) return { accepted: false, why: 'not DER' };
        return (await hc.verify(Alg.ECDSA_P256, pub, msg, raw)) ? { accepted: true } : { accepted: false, why: 'SIGNATURE_INVALID' };
      },
    };
  }
  if (schema === 'ecdh_ecpoint_test_schema') {
    return {
      check: async (g, t) => {
        if (g.curve !== 'secp256r1') return 'skip';
        // the private scalar is a signed big-endian integer (maybe 33 bytes); the host takes 32
        const priv = unhex(BigInt('0x' + t.private).toString(16).padStart(64, '0'));
        const z = await hc.ecdh(priv, unhex(t.public));
        return z ? { accepted: true, out: hex(z) } : { accepted: false, why: 'refused' };
      },
      expected: (_g, t) => t.shared,
    };
  }
  if (schema === 'mac_test_schema') {
    const alg = ({ HMACSHA256: Alg.HMAC_SHA256, HMACSM3: Alg.HMAC_SM3 } as Record<string, number>)[file.algorithm];
    if (alg === undefined && file.algorithm !== 'AES-CMAC') return null;
    return {
      check: async (g, t) => {
        const mac = alg !== undefined ? await hc.hmac(alg, unhex(t.key), unhex(t.msg)) : await hc.cmac(unhex(t.key), unhex(t.msg));
        return mac && hex(mac.subarray(0, g.tagSize / 8)) === t.tag ? { accepted: true } : { accepted: false, why: mac ? 'tag mismatch' : 'refused' };
      },
    };
  }
  if (schema === 'aead_test_schema') {
    const alg = ({ 'AES-GCM': Alg.AES_ECB_NOPAD, 'SM4-GCM': Alg.SM4_ECB_NOPAD } as Record<string, number>)[file.algorithm];
    if (alg === undefined) return null;
    return {
      check: async (_g, t) => {
        const key = unhex(t.key), iv = unhex(t.iv), aad = unhex(t.aad);
        const pt = await hc.withBlocks(alg, key, (enc) => gcmDecrypt(enc, iv, aad, unhex(t.ct), unhex(t.tag)));
        if (!pt) return { accepted: false, why: 'tag mismatch' };
        if (hex(pt) !== t.msg) return { accepted: false, why: 'wrong plaintext' };
        const sealed = await hc.withBlocks(alg, key, (enc) => gcmEncrypt(enc, iv, aad, unhex(t.msg)));
        if (t.result === 'valid' && hex(sealed.ct) + hex(sealed.tag) !== t.ct + t.tag) return { accepted: false, why: 'encryption differs' };
        return { accepted: true };
      },
    };
  }
  return null;
}

export interface CaseResult { tcId: number; result: WpCase['result']; verdict: 'pass' | 'fail' | 'skip'; detail: string }

/** Judges every case: valid must give the right answer, invalid must be rejected, acceptable may
 * go either way. null when no host primitive matches the file. */
export async function runWycheproofFile(file: WpFile, hc: HostCrypto): Promise<CaseResult[] | null> {
  const c = checkFor(file, hc);
  if (!c) return null;
  const out: CaseResult[] = [];
  for (const g of file.testGroups) {
    for (const t of g.tests) {
      let o: Outcome | 'skip';
      try { o = await c.check(g, t); } catch (e) { o = { accepted: false, why: (e as Error).message }; }
      if (o === 'skip') { out.push({ tcId: t.tcId, result: t.result, verdict: 'skip', detail: 'group does not match a host primitive' }); continue; }
      const want = c.expected?.(g, t);
      const right = o.accepted && (want === undefined || o.out === want);
      let verdict: CaseResult['verdict'] = 'pass', detail = o.accepted ? 'accepted' : `rejected: ${o.why}`;
      if (t.result === 'valid' && !right) { verdict = 'fail'; detail = o.accepted ? `gave ${o.out}, expected ${want}` : detail; }
      if (t.result === 'invalid' && o.accepted) verdict = 'fail';
      if (o.accepted && o.violation) { verdict = 'fail'; detail = o.violation; }
      out.push({ tcId: t.tcId, result: t.result, verdict, detail });
    }
  }
  return out;
}

/** One of the kit's Wycheproof files (assets.ts KIT_WYCHEPROOF_FILES), by file name. */
export function readKitWycheproof(name: string, assetsDir: string = KIT_ASSETS_DIR): WpFile {
  return JSON.parse(kitWycheproofText(name, assetsDir)) as WpFile;
}
