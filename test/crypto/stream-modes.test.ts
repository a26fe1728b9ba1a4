// stream-modes.ts (OFB, CFB-128, CTR over a given block cipher) against node:crypto's own
// aes-128-ofb / -cfb / -ctr, with AES-ECB from node as the block cipher: whole and partial last
// blocks, an empty message, and a CTR counter that carries across all 16 bytes. The SM4 vectors
// of sm.json then check the same code with the TEE host's SM4.
import { describe, expect, test } from 'vitest';
import { createCipheriv, randomBytes } from 'node:crypto';
import { cfb128Decrypt, cfb128Encrypt, ctr, ofb } from './stream-modes.ts';

const key = randomBytes(16);
const aesBlock = (b: Uint8Array) => {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(b), c.final()]));
};
const node = (mode: string, iv: Uint8Array, pt: Uint8Array) => {
  const c = createCipheriv(`aes-128-${mode}`, key, iv);
  return new Uint8Array(Buffer.concat([c.update(pt), c.final()]));
};

describe('OFB, CFB-128 and CTR over a block cipher', () => {
  const ivs = [randomBytes(16), Buffer.alloc(16, 0xff), Buffer.from('000000000000000000000000ffffffff', 'hex')];
  for (const len of [0, 1, 15, 16, 17, 31, 32, 100]) {
    test(`${len} bytes: equal to node:crypto, and decrypt gives the plaintext back`, () => {
      for (const iv of ivs) {
        const pt = randomBytes(len);
        const o = ofb(aesBlock, iv, pt), f = cfb128Encrypt(aesBlock, iv, pt), c = ctr(aesBlock, iv, pt);
        expect(Buffer.from(o).toString('hex')).toBe(Buffer.from(node('ofb', iv, pt)).toString('hex'));
        expect(Buffer.from(f).toString('hex')).toBe(Buffer.from(node('cfb', iv, pt)).toString('hex'));
        expect(Buffer.from(c).toString('hex')).toBe(Buffer.from(node('ctr', iv, pt)).toString('hex'));
        expect(Buffer.from(ofb(aesBlock, iv, o)).equals(pt)).toBe(true);
        expect(Buffer.from(cfb128Decrypt(aesBlock, iv, f)).equals(pt)).toBe(true);
        expect(Buffer.from(ctr(aesBlock, iv, c)).equals(pt)).toBe(true);
      }
    });
  }
  test('an IV of another length is refused', () => {
    expect(() => ctr(aesBlock, new Uint8Array(8), new Uint8Array(16))).toThrow(/IV must be 16 bytes/);
  });
});
