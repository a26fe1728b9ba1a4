// Vector operations of test/vectors/published/sm.json (SM3, HMAC-SM3, SM4, SM2), run through the TEE
// runtime's host crypto: tee/crypto/ops.ts CryptoOps for what host ABI v1 exposes (SM3, HMAC-SM3,
// SM4-ECB/CBC, SM2 verify), common/sm2.ts for SM2 signing with an injected k and on the
// GM/T 0003.5 test curve, tee/crypto/sm2-encrypt.ts for SM2 encryption. Modes the host ABI does
// not expose run over the host's SM4-ECB operation as their block cipher: OFB, CFB-128 and CTR
// by test/crypto/stream-modes.ts, GCM by conformance/crypto/gcm.ts; PKCS#7 padding in this file around
// the host's ECB/CBC. node:crypto's sm4-* only cross-checks (nodeSm4): it never gives the answer.
import { createCipheriv } from 'node:crypto';
import type { OpHandler } from '../runner.ts';
import { CryptoOps } from '../../../tee/crypto/ops.ts';
import { Alg, Mode } from '../../../tee/abi/algorithms.ts';
import { SM2P256V1, SM2_DEFAULT_ID, sm2Curve, sm2PublicFromPrivate, sm2Sign, sm2Verify, sm2Za, type Sm2Curve } from '../../../common/sm2.ts';
import { sm2CiphertextFromDer, sm2CiphertextToDer, sm2Decrypt, sm2Encrypt } from '../../../tee/crypto/sm2-encrypt.ts';
import { gcmDecrypt, gcmEncrypt } from '../../../conformance/crypto/gcm.ts';
import { cfb128Decrypt, cfb128Encrypt, ctr, ofb } from '../../crypto/stream-modes.ts';

const unhex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const ascii = (s: string) => new TextEncoder().encode(s);
const msgOf = (i: Record<string, any>) => (i.message !== undefined ? unhex(i.message) : ascii(i.message_ascii));

const host = new CryptoOps();

/** One host cipher operation (GP handle model): init, one update, free. */
function hostCipher(alg: number, mode: number, key: Uint8Array, data: Uint8Array, iv: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = host.cipherInit(alg, mode, key, iv);
  try {
    return host.cipherUpdate(h, data);
  } finally {
    host.free(h);
  }
}

function pkcs7(data: Uint8Array): Uint8Array {
  const n = 16 - (data.length % 16);
  const out = new Uint8Array(data.length + n);
  out.set(data);
  out.fill(n, data.length);
  return out;
}

function nodeSm4(mode: 'ofb' | 'cfb' | 'ctr' | 'ecb' | 'cbc', key: Uint8Array, iv: Uint8Array | null, pt: Uint8Array, autoPadding = false): Uint8Array {
  const c = createCipheriv(`sm4-${mode}`, key, iv);
  c.setAutoPadding(autoPadding);
  return Buffer.concat([c.update(pt), c.final()]);
}

function hostSm4Pkcs7(alg: number, key: Uint8Array, pt: Uint8Array, iv?: Uint8Array): Uint8Array {
  const ct = hostCipher(alg, Mode.ENCRYPT, key, pkcs7(pt), iv);
  const nodeCt = nodeSm4(alg === Alg.SM4_ECB_NOPAD ? 'ecb' : 'cbc', key, iv ?? null, pt, true);
  if (hex(ct) !== hex(nodeCt)) throw new Error('host SM4 + PKCS#7 disagrees with node:crypto sm4 with auto padding');
  const back = hostCipher(alg, Mode.DECRYPT, key, ct, iv);
  if (hex(back) !== hex(pkcs7(pt))) throw new Error('host SM4 decrypt does not return the padded plaintext');
  return ct;
}

/** SM4 in OFB, CFB-128 or CTR mode with the host's SM4-ECB as the block cipher; the answer is
 * checked to decrypt back and to equal node:crypto's sm4-<mode> before it is returned. */
function hostSm4Stream(mode: 'ofb' | 'cfb' | 'ctr', key: Uint8Array, iv: Uint8Array, pt: Uint8Array): Uint8Array {
  const enc = (b: Uint8Array) => hostCipher(Alg.SM4_ECB_NOPAD, Mode.ENCRYPT, key, b);
  const ct = mode === 'ofb' ? ofb(enc, iv, pt) : mode === 'cfb' ? cfb128Encrypt(enc, iv, pt) : ctr(enc, iv, pt);
  const back = mode === 'ofb' ? ofb(enc, iv, ct) : mode === 'cfb' ? cfb128Decrypt(enc, iv, ct) : ctr(enc, iv, ct);
  if (hex(back) !== hex(pt)) throw new Error(`SM4-${mode.toUpperCase()} decrypt does not return the plaintext`);
  if (hex(ct) !== hex(nodeSm4(mode, key, iv, pt))) throw new Error(`host SM4-${mode.toUpperCase()} disagrees with node:crypto sm4-${mode}`);
  return ct;
}

const curves = new Map<string, Sm2Curve>();
function curveOf(c: Record<string, string>): Sm2Curve {
  const key = JSON.stringify([c.p, c.a, c.b, c.gx, c.gy, c.n, c.h]);
  let curve = curves.get(key);
  if (!curve) {
    const big = (h: string) => BigInt('0x' + h);
    const params = { p: big(c.p!), a: big(c.a!), b: big(c.b!), Gx: big(c.gx!), Gy: big(c.gy!), n: big(c.n!), h: big(c.h ?? '1') };
    const std = SM2P256V1;
    curve = params.p === std.p && params.a === std.a && params.b === std.b && params.Gx === std.Gx && params.Gy === std.Gy && params.n === std.n ? std : sm2Curve(params);
    curves.set(key, curve);
  }
  return curve;
}

export const ops: Record<string, OpHandler> = {
  sm3: (i) => ({ digest: hex(host.digest(Alg.SM3, msgOf(i))) }),
  hmac_sm3: (i) => ({ mac: hex(host.hmac(Alg.HMAC_SM3, unhex(i.key), msgOf(i))) }),

  sm4_ecb_encrypt: ({ key, plaintext }) => {
    const ct = hostCipher(Alg.SM4_ECB_NOPAD, Mode.ENCRYPT, unhex(key), unhex(plaintext));
    if (hex(hostCipher(Alg.SM4_ECB_NOPAD, Mode.DECRYPT, unhex(key), ct)) !== plaintext.toUpperCase()) throw new Error('SM4-ECB decrypt does not return the plaintext');
    return { ciphertext: hex(ct) };
  },
  // One host operation reused for every block, as a TA would (GP handle model).
  sm4_ecb_encrypt_iterated: ({ key, plaintext, iterations }) => {
    const k = unhex(key);
    const run = (mode: number, start: Uint8Array) => {
      const h = host.cipherInit(Alg.SM4_ECB_NOPAD, mode, k, new Uint8Array(0));
      let b: Uint8Array = start;
      try { for (let n = 0; n < iterations; n++) b = host.cipherUpdate(h, b); } finally { host.free(h); }
      return b;
    };
    const ct = run(Mode.ENCRYPT, unhex(plaintext));
    if (hex(run(Mode.DECRYPT, ct)) !== plaintext.toUpperCase()) throw new Error(`decrypting ${iterations} times does not return the plaintext`);
    return { ciphertext: hex(ct) };
  },
  sm4_cbc_encrypt: ({ key, iv, plaintext }) => {
    const ct = hostCipher(Alg.SM4_CBC_NOPAD, Mode.ENCRYPT, unhex(key), unhex(plaintext), unhex(iv));
    if (hex(hostCipher(Alg.SM4_CBC_NOPAD, Mode.DECRYPT, unhex(key), ct, unhex(iv))) !== plaintext.toUpperCase()) throw new Error('SM4-CBC decrypt does not return the plaintext');
    return { ciphertext: hex(ct) };
  },
  sm4_ofb_encrypt: ({ key, iv, plaintext }) => ({ ciphertext: hex(hostSm4Stream('ofb', unhex(key), unhex(iv), unhex(plaintext))) }),
  sm4_cfb128_encrypt: ({ key, iv, plaintext }) => ({ ciphertext: hex(hostSm4Stream('cfb', unhex(key), unhex(iv), unhex(plaintext))) }),
  sm4_ctr_encrypt: ({ key, iv, plaintext }) => ({ ciphertext: hex(hostSm4Stream('ctr', unhex(key), unhex(iv), unhex(plaintext))) }),
  sm4_gcm_encrypt: ({ key, iv, aad, plaintext }) => {
    const enc = (b: Uint8Array) => hostCipher(Alg.SM4_ECB_NOPAD, Mode.ENCRYPT, unhex(key), b);
    const { ct, tag } = gcmEncrypt(enc, unhex(iv), unhex(aad ?? ''), unhex(plaintext));
    const back = gcmDecrypt(enc, unhex(iv), unhex(aad ?? ''), ct, tag);
    if (!back || hex(back) !== plaintext.toUpperCase()) throw new Error('SM4-GCM decrypt does not return the plaintext');
    return { ciphertext: hex(ct), tag: hex(tag) };
  },
  sm4_ecb_encrypt_pkcs7: ({ key, plaintext }) => ({ ciphertext: hex(hostSm4Pkcs7(Alg.SM4_ECB_NOPAD, unhex(key), unhex(plaintext))) }),
  sm4_cbc_encrypt_pkcs7: ({ key, iv, plaintext }) => ({ ciphertext: hex(hostSm4Pkcs7(Alg.SM4_CBC_NOPAD, unhex(key), unhex(plaintext), unhex(iv))) }),

  sm2_sign_sm3: (i) => {
    const curve = curveOf(i.curve);
    const priv = unhex(i.private_key);
    const pub = sm2PublicFromPrivate(priv, curve);
    if (i.public_key_x !== undefined && hex(pub.subarray(1, 33)) + hex(pub.subarray(33)) !== (i.public_key_x + i.public_key_y).toUpperCase()) {
      throw new Error('public key d*G differs from the vector\'s public key');
    }
    const id = i.user_id_ascii !== undefined ? ascii(i.user_id_ascii) : SM2_DEFAULT_ID;
    const msg = msgOf(i);
    const sig = sm2Sign(priv, msg, id, BigInt('0x' + i.k), curve);
    if (!sm2Verify(pub, msg, sig, id, curve)) throw new Error('sm2Verify rejects the signature');
    if (sm2Verify(pub, Buffer.concat([msg, Uint8Array.of(0)]), sig, id, curve)) throw new Error('sm2Verify accepts a signature over another message');
    // On the recommended curve with the default ID this is the host ABI's SM2 verify.
    if (curve === SM2P256V1 && hex(id) === hex(SM2_DEFAULT_ID) && !host.eccVerify(Alg.SM2_DSA_SM3, pub, msg, sig)) {
      throw new Error('CryptoOps.eccVerify(SM2) rejects the signature');
    }
    return { Z_A: hex(sm2Za(pub, id, curve)), r: hex(sig.subarray(0, 32)), s: hex(sig.subarray(32)) };
  },

  sm2_encrypt_sm3: (i) => {
    const curve = curveOf(i.curve);
    const priv = unhex(i.private_key);
    const pub = sm2PublicFromPrivate(priv, curve);
    const msg = msgOf(i);
    const ct = sm2Encrypt(pub, msg, BigInt('0x' + i.k), curve);
    const der = sm2CiphertextToDer(ct);
    if (hex(sm2Decrypt(priv, sm2CiphertextFromDer(der), curve)) !== hex(msg)) throw new Error('SM2 decrypt of the DER ciphertext does not return the message');
    const tampered = { ...ct, c2: ct.c2.slice() };
    tampered.c2[0]! ^= 1;
    let rejected = false;
    try { sm2Decrypt(priv, tampered, curve); } catch { rejected = true; }
    if (!rejected) throw new Error('SM2 decrypt accepts a tampered C2');
    return {
      C1_x: hex(ct.c1.subarray(1, 33)),
      C1_y: hex(ct.c1.subarray(33, 65)),
      C3_sm3: hex(ct.c3),
      C2: hex(ct.c2),
      ciphertext_der_gmt0009: hex(der),
    };
  },
};
