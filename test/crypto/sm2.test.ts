// common/sm2.ts and tee/crypto/sm2-encrypt.ts beyond the published vectors (test/vectors/ops/sm.ts).
import { test, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { SM2P256V1, SM2_DEFAULT_ID, mod, modInv, sm2PublicFromPrivate, sm2Sign, sm2Verify, sm2Za, to32, toBig } from '../../common/sm2.ts';
import { sm2CiphertextBytes, sm2CiphertextFromBytes, sm2CiphertextFromDer, sm2CiphertextToDer, sm2Decrypt, sm2Encrypt } from '../../tee/crypto/sm2-encrypt.ts';
import { CryptoOps } from '../../tee/crypto/ops.ts';
import { Alg, Curve } from '../../tee/abi/algorithms.ts';

const { n } = SM2P256V1;
const msg = new TextEncoder().encode('transaction record');

test('verify refuses a signature whose point [s]G + [t]P is at infinity (x taken as 0 before the fix)', () => {
  const priv = Buffer.from('3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8', 'hex');
  const d = toBig(priv);
  const pub = sm2PublicFromPrivate(priv);
  const e = toBig(createHash('sm3').update(sm2Za(pub)).update(msg).digest());
  // r = e mod n and s(1 + d) = -r d make [s]G + [r + s]P = [s + (r + s)d]G = O, so R = e + 0 = r.
  const r = mod(e, n);
  const s = mod(-r * d * modInv(1n + d, n), n);
  const sig = Buffer.concat([to32(r), to32(s)]);
  expect(SM2P256V1.Point.BASE.multiply(s).add(SM2P256V1.Point.fromBytes(pub).multiply(mod(r + s, n))).is0()).toBe(true);
  expect(sm2Verify(pub, msg, sig)).toBe(false);
  expect(new CryptoOps().eccVerify(Alg.SM2_DSA_SM3, pub, msg, sig)).toBe(false);
});

test('sign/verify through CryptoOps, and the usual rejections', () => {
  const ops = new CryptoOps();
  const { priv, pub } = ops.eccGenerate(Curve.SM2);
  const sig = ops.eccSign(Alg.SM2_DSA_SM3, priv, msg);
  expect(ops.eccVerify(Alg.SM2_DSA_SM3, pub, msg, sig)).toBe(true);
  expect(sm2Verify(pub, msg, sig, SM2_DEFAULT_ID)).toBe(true);
  expect(sm2Verify(pub, msg, sig, new TextEncoder().encode('another id'))).toBe(false);
  const bad = Buffer.from(sig); bad[63]! ^= 1;
  expect(ops.eccVerify(Alg.SM2_DSA_SM3, pub, msg, bad)).toBe(false);
  expect(ops.eccVerify(Alg.SM2_DSA_SM3, pub, msg, Buffer.concat([to32(0n), sig.subarray(32)]))).toBe(false);
  expect(ops.eccVerify(Alg.SM2_DSA_SM3, pub, msg, Buffer.concat([to32(n), sig.subarray(32)]))).toBe(false);
  expect(ops.eccVerify(Alg.SM2_DSA_SM3, pub, msg, sig.subarray(0, 63))).toBe(false);
  expect(() => sm2Sign(priv, msg, SM2_DEFAULT_ID, 0n)).toThrow(/k out of range/);
  expect(() => sm2Sign(priv, msg, SM2_DEFAULT_ID, n)).toThrow(/k out of range/);
  expect(() => sm2Za(pub, new Uint8Array(8192))).toThrow(/8191/);
});

test('SM2 encryption: round trip in both encodings, tamper and wrong key refused', () => {
  const ops = new CryptoOps();
  const { priv, pub } = ops.eccGenerate(Curve.SM2);
  for (const len of [1, 31, 32, 33, 100, 1000]) {
    const m = Uint8Array.from({ length: len }, (_, i) => i * 7);
    const ct = sm2Encrypt(pub, m);
    expect(Buffer.from(sm2Decrypt(priv, sm2CiphertextFromDer(sm2CiphertextToDer(ct))))).toEqual(Buffer.from(m));
    expect(Buffer.from(sm2Decrypt(priv, sm2CiphertextFromBytes(sm2CiphertextBytes(ct))))).toEqual(Buffer.from(m));
    for (const part of ['c1', 'c2', 'c3'] as const) {
      const t = { ...ct, [part]: ct[part].slice() };
      t[part][part === 'c1' ? 40 : 0]! ^= 1;
      expect(() => sm2Decrypt(priv, t)).toThrow();
    }
    const other = ops.eccGenerate(Curve.SM2).priv;
    expect(() => sm2Decrypt(other, ct)).toThrow();
  }
  const der = sm2CiphertextToDer(sm2Encrypt(pub, msg));
  expect(() => sm2CiphertextFromDer(Buffer.concat([der, Uint8Array.of(0)]))).toThrow(/trailing/);
  expect(() => sm2CiphertextFromDer(der.subarray(0, der.length - 1))).toThrow();
});
