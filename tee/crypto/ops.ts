// Host crypto primitives behind the "tee" imports, in GlobalPlatform's operation-handle model
// (TEE_AllocateOperation / TEE_SetOperationKey / TEE_CipherUpdate / TEE_FreeOperation, and all
// of them in one call for a one-block payment-key step: cipher_once): AES on the constant-time
// WebAssembly module of common/aes (a new key per block is what payment-key derivation does,
// and node:crypto's per-cipher set-up costs several times the cipher), everything else on
// node:crypto. Composite payment algorithms (CMAC, DUKPT, TR-31, PIN blocks) stay in the TA.
import * as nc from 'node:crypto';
import { aesCrypt, AesCipher } from '../../common/aes/aes.ts';
import { Alg, Curve, Mode } from '../abi/algorithms.ts';
import { Status } from '../../proto/status.ts';
import { sm2Sign, sm2Verify, sm2PublicFromPrivate } from '../../common/sm2.ts';

export class CryptoError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'CryptoError';
  }
}

/** Either `aes` (the mode on common/aes) or `openssl` (the node:crypto cipher by key length). */
type Spec = { name: string; block: number; keyLens: number[]; iv: boolean } & ({ aes: 'ecb' | 'cbc'; openssl?: never } | { aes?: never; openssl: (keyLen: number) => string });

// OpenSSL names by key length. A 16-byte TDES key is keying option 2 of ANSI X9.52 (K1|K2|K1),
// which OpenSSL's two-key EDE ciphers are, so the key is used as given (no expanded copy).
const ciphers = new Map<number, Spec>([
  [Alg.AES_ECB_NOPAD, { name: 'AES-ECB', block: 16, keyLens: [16, 24, 32], iv: false, aes: 'ecb' }],
  [Alg.AES_CBC_NOPAD, { name: 'AES-CBC', block: 16, keyLens: [16, 24, 32], iv: true, aes: 'cbc' }],
  [Alg.DES3_ECB_NOPAD, { name: 'TDES-ECB', block: 8, keyLens: [16, 24], iv: false, openssl: (kl) => (kl === 16 ? 'des-ede-ecb' : 'des-ede3-ecb') }],
  [Alg.DES3_CBC_NOPAD, { name: 'TDES-CBC', block: 8, keyLens: [16, 24], iv: true, openssl: (kl) => (kl === 16 ? 'des-ede-cbc' : 'des-ede3-cbc') }],
  [Alg.SM4_ECB_NOPAD, { name: 'SM4-ECB', block: 16, keyLens: [16], iv: false, openssl: () => 'sm4-ecb' }],
  [Alg.SM4_CBC_NOPAD, { name: 'SM4-CBC', block: 16, keyLens: [16], iv: true, openssl: () => 'sm4-cbc' }],
]);

function bad(message: string): CryptoError {
  return new CryptoError(Status.ERROR_BAD_PARAMETERS, message);
}

/** The checks every cipher entry point shares (same order, same statuses as tee-c/src/crypto.c). */
function checkCipher(alg: number, mode: number, key: Uint8Array, iv: Uint8Array): Spec {
  const spec = ciphers.get(alg >>> 0);
  if (!spec) throw new CryptoError(Status.ERROR_NOT_SUPPORTED, `cipher algorithm 0x${(alg >>> 0).toString(16)} not supported`);
  if (mode !== Mode.ENCRYPT && mode !== Mode.DECRYPT) throw bad(`cipher mode ${mode} is neither ENCRYPT (0) nor DECRYPT (1)`);
  if (!spec.keyLens.includes(key.length)) throw bad(`key length ${key.length} not valid for ${spec.name} (allowed: ${spec.keyLens.join(', ')})`);
  if (spec.iv ? iv.length !== spec.block : iv.length !== 0) throw bad(`IV length ${iv.length} not valid (${spec.iv ? spec.block : 0} expected)`);
  return spec;
}

/** A keyed cipher (both kinds copy the key in). For node:crypto only update() is ever called,
 * never final(): padding matters only to a decipher, which would otherwise hold back the last
 * block of each update for its padding check. */
function keyed(spec: Spec, mode: number, key: Uint8Array, iv: Uint8Array): Keyed {
  if (spec.aes) return new AesCipher(spec.aes, mode === Mode.DECRYPT, key, spec.iv ? iv : null);
  const name = spec.openssl(key.length);
  if (mode === Mode.ENCRYPT) return nc.createCipheriv(name, key, spec.iv ? iv : null);
  return nc.createDecipheriv(name, key, spec.iv ? iv : null).setAutoPadding(false);
}

type Keyed = { update(input: Uint8Array): Uint8Array; destroy?(): void };
interface CipherOp { cipher: Keyed; block: number }

export class CryptoOps {
  private ops = new Map<number, CipherOp>();
  private next = 1;
  /** Per-TA cap on live operations, so a leaking TA cannot exhaust the host. */
  static readonly MAX_OPS = 64;

  cipherInit(alg: number, mode: number, key: Uint8Array, iv: Uint8Array): number {
    const spec = checkCipher(alg, mode, key, iv);
    if (this.ops.size >= CryptoOps.MAX_OPS) throw new CryptoError(Status.ERROR_OUT_OF_MEMORY, `more than ${CryptoOps.MAX_OPS} live crypto operations`);
    const h = this.next++;
    this.ops.set(h, { cipher: keyed(spec, mode, key, iv), block: spec.block });
    return h;
  }

  cipherUpdate(handle: number, input: Uint8Array): Uint8Array {
    const op = this.ops.get(handle);
    if (!op) throw bad(`no crypto operation with handle ${handle}`);
    if (input.length % op.block !== 0) throw bad(`data length ${input.length} is not a multiple of the ${op.block}-byte block`);
    return op.cipher.update(input);
  }

  /** One whole operation (allocate, set key, init, do final, free; host ABI 1.3 cipher_once):
   * the same checks as cipherInit, then the data length. Nothing of the key outlives the call in
   * this object; the cipher object is dropped before return. */
  cipherOnce(alg: number, mode: number, key: Uint8Array, iv: Uint8Array, input: Uint8Array): Uint8Array {
    const spec = checkCipher(alg, mode, key, iv);
    if (input.length % spec.block !== 0) throw bad(`data length ${input.length} is not a multiple of the ${spec.block}-byte block`);
    if (spec.aes) {
      const out = new Uint8Array(input.length);
      aesCrypt(spec.aes, mode === Mode.DECRYPT, key, spec.iv ? iv : null, input, out);
      return out;
    }
    return keyed(spec, mode, key, iv).update(input);
  }

  free(handle: number): void {
    this.ops.get(handle)?.cipher.destroy?.();
    this.ops.delete(handle);
  }

  freeAll(): void {
    for (const op of this.ops.values()) op.cipher.destroy?.();
    this.ops.clear();
  }

  get liveOperations(): number {
    return this.ops.size;
  }

  digest(alg: number, data: Uint8Array): Uint8Array {
    switch (alg >>> 0) {
      case Alg.SHA256: return nc.createHash('sha256').update(data).digest();
      case Alg.SM3: return nc.createHash('sm3').update(data).digest();
    }
    throw new CryptoError(Status.ERROR_NOT_SUPPORTED, `digest algorithm 0x${(alg >>> 0).toString(16)} not supported`);
  }

  hmac(alg: number, key: Uint8Array, data: Uint8Array): Uint8Array {
    switch (alg >>> 0) {
      case Alg.HMAC_SHA256: return nc.createHmac('sha256', key).update(data).digest();
      case Alg.HMAC_SM3: return nc.createHmac('sm3', key).update(data).digest();
    }
    throw new CryptoError(Status.ERROR_NOT_SUPPORTED, `HMAC algorithm 0x${(alg >>> 0).toString(16)} not supported`);
  }

  eccGenerate(curve: number): { priv: Uint8Array; pub: Uint8Array } {
    if (curve === Curve.NIST_P256) {
      const e = nc.createECDH('prime256v1');
      e.generateKeys();
      return { priv: leftPad(e.getPrivateKey(), 32), pub: e.getPublicKey() };
    }
    if (curve === Curve.SM2) {
      for (;;) {
        const d = nc.randomBytes(32);
        try { return { priv: d, pub: sm2PublicFromPrivate(d) }; } catch { /* d out of range: draw again */ }
      }
    }
    throw new CryptoError(Status.ERROR_NOT_SUPPORTED, `curve 0x${curve.toString(16)} not supported`);
  }

  eccSign(alg: number, priv: Uint8Array, msg: Uint8Array): Uint8Array {
    switch (alg >>> 0) {
      case Alg.ECDSA_P256: {
        const key = p256PrivateKey(priv);
        return nc.sign('sha256', msg, { key, dsaEncoding: 'ieee-p1363' });
      }
      case Alg.SM2_DSA_SM3: return sm2Sign(priv, msg);
    }
    throw new CryptoError(Status.ERROR_NOT_SUPPORTED, `signature algorithm 0x${(alg >>> 0).toString(16)} not supported`);
  }

  /** true when the signature verifies; false for any malformed key or signature. */
  eccVerify(alg: number, pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
    try {
      switch (alg >>> 0) {
        case Alg.ECDSA_P256: {
          if (sig.length !== 64) return false;
          return nc.verify('sha256', msg, { key: p256PublicKey(pub), dsaEncoding: 'ieee-p1363' }, sig);
        }
        case Alg.SM2_DSA_SM3: return sm2Verify(pub, msg, sig);
      }
    } catch {
      return false;
    }
    throw new CryptoError(Status.ERROR_NOT_SUPPORTED, `signature algorithm 0x${(alg >>> 0).toString(16)} not supported`);
  }

  /** Pure Ed25519 (RFC 8032 §5.1.7) over the message: true when the signature verifies; false
   * for a key that is not 32 bytes, a signature that is not 64, or any that does not verify. */
  eddsaVerify(alg: number, pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
    if ((alg >>> 0) !== Alg.ED25519) throw new CryptoError(Status.ERROR_NOT_SUPPORTED, `EdDSA algorithm 0x${(alg >>> 0).toString(16)} not supported`);
    if (pub.length !== 32 || sig.length !== 64) return false;
    try {
      const key = nc.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(pub) }, format: 'jwk' });
      return nc.verify(null, msg, key, sig);
    } catch {
      return false;
    }
  }

  ecdh(priv: Uint8Array, peerPub: Uint8Array): Uint8Array {
    const e = nc.createECDH('prime256v1');
    try {
      e.setPrivateKey(priv);
      return e.computeSecret(peerPub);
    } catch {
      throw bad('ECDH: private key or peer public point is not valid on P-256');
    }
  }
}

function leftPad(b: Uint8Array, n: number): Uint8Array {
  if (b.length >= n) return b;
  const out = new Uint8Array(n);
  out.set(b, n - b.length);
  return out;
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

export function p256PublicKey(pub: Uint8Array): nc.KeyObject {
  if (pub.length !== 65 || pub[0] !== 4) throw bad('P-256 public key must be a 65-byte uncompressed point');
  return nc.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33)) }, format: 'jwk' });
}

export function p256PrivateKey(priv: Uint8Array): nc.KeyObject {
  if (priv.length !== 32) throw bad('P-256 private key must be 32 bytes');
  const e = nc.createECDH('prime256v1');
  try { e.setPrivateKey(priv); } catch { throw bad('P-256 private key out of range'); }
  const pub = e.getPublicKey();
  return nc.createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64u(priv), x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33)) }, format: 'jwk' });
}
