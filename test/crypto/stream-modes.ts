// OFB, CFB-128 and CTR (NIST SP 800-38A §6.3–6.5; GB/T 17964 for SM4) over any 128-bit block
// cipher given as an ECB encrypt function, as conformance/crypto/gcm.ts does for GCM. The vector runner uses them
// for SM4 with the TEE host's SM4-ECB operation as the block cipher, so sm.json's OFB, CFB and CTR
// vectors check the project's own SM4 (host ABI v1 exposes ECB and CBC only; these modes are the
// standard's few lines around the block cipher). Each mode encrypts whole or partial last blocks
// (a stream); decryption is the same keystream (CFB: the ciphertext feeds back instead).
import type { BlockEncrypt } from '../../conformance/crypto/gcm.ts';

const BLOCK = 16;

function checkIv(iv: Uint8Array): void {
  if (iv.length !== BLOCK) throw new RangeError(`IV must be ${BLOCK} bytes, got ${iv.length}`);
}

/** One block of the cipher, refusing an implementation that returns another length. */
function block(enc: BlockEncrypt, b: Uint8Array): Uint8Array {
  const out = enc(b);
  if (out.length !== BLOCK) throw new RangeError(`block cipher returned ${out.length} bytes, not ${BLOCK}`);
  return out;
}

/** OFB: O_j = E(O_{j-1}), O_0 = IV; C_j = P_j XOR O_j. Its own inverse. */
export function ofb(enc: BlockEncrypt, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkIv(iv);
  const out = new Uint8Array(data.length);
  let o: Uint8Array = Uint8Array.from(iv);
  for (let i = 0; i < data.length; i += BLOCK) {
    o = block(enc, o);
    for (let j = 0; j < BLOCK && i + j < data.length; j++) out[i + j] = data[i + j]! ^ o[j]!;
  }
  return out;
}

/** CFB with 128-bit segments (SP 800-38A §6.3): out_j = in_j XOR E(C_{j-1}), C_0 = IV, where the
 * ciphertext fed back is the output when enciphering and the input when deciphering. */
function cfb128(enc: BlockEncrypt, iv: Uint8Array, input: Uint8Array, decrypt: boolean): Uint8Array {
  checkIv(iv);
  const out = new Uint8Array(input.length);
  const ct = decrypt ? input : out;
  let prev: Uint8Array = Uint8Array.from(iv);
  for (let i = 0; i < input.length; i += BLOCK) {
    const k = block(enc, prev);
    const n = Math.min(BLOCK, input.length - i);
    for (let j = 0; j < n; j++) out[i + j] = input[i + j]! ^ k[j]!;
    prev = ct.slice(i, i + BLOCK);
  }
  return out;
}

export const cfb128Encrypt = (enc: BlockEncrypt, iv: Uint8Array, pt: Uint8Array): Uint8Array => cfb128(enc, iv, pt, false);
export const cfb128Decrypt = (enc: BlockEncrypt, iv: Uint8Array, ct: Uint8Array): Uint8Array => cfb128(enc, iv, ct, true);

/** CTR with the whole 128-bit block as a big-endian counter starting at the IV (SP 800-38A
 * B.1's standard incrementing function over all bits, as OpenSSL's sm4-ctr). Its own inverse. */
export function ctr(enc: BlockEncrypt, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkIv(iv);
  const out = new Uint8Array(data.length);
  const counter = Uint8Array.from(iv);
  for (let i = 0; i < data.length; i += BLOCK) {
    const k = block(enc, counter);
    for (let j = 0; j < BLOCK && i + j < data.length; j++) out[i + j] = data[i + j]! ^ k[j]!;
    for (let j = BLOCK - 1; j >= 0; j--) {
      counter[j] = (counter[j]! + 1) & 0xff;
      if (counter[j] !== 0) break;
    }
  }
  return out;
}
