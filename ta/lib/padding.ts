// ISO/IEC 9797-1:2011 §6.3 padding methods 1, 2 and 3 for block-cipher MACs.
//   method 1: append zero bits until a multiple of the block length (the empty string gets one
//             block of zeros, as in the published vectors);
//   method 2: append one 1 bit (0x80), then zero bits to a multiple of the block length;
//   method 3: a left block holding the bit length of the data (big-endian, block-sized), then
//             the data padded with method 1.
import { badParam } from "./error";

export const PAD_METHOD_1: i32 = 1;
export const PAD_METHOD_2: i32 = 2;
export const PAD_METHOD_3: i32 = 3;

/** Pads data with the given method; null (BAD_PARAMETERS) on an unknown method or block length. */
export function pad(data: Uint8Array, method: i32, blockLen: i32): Uint8Array | null {
  if (blockLen <= 0 || blockLen > 64) return badParam<Uint8Array>("padding: block length must be 1..64 bytes");
  if (method == PAD_METHOD_1) return zeroPad(data, blockLen);
  if (method == PAD_METHOD_2) {
    const n = (data.length / blockLen + 1) * blockLen;
    const out = new Uint8Array(n);
    out.set(data, 0);
    out[data.length] = 0x80;
    return out;
  }
  if (method == PAD_METHOD_3) {
    const body = zeroPad(data, blockLen);
    const out = new Uint8Array(blockLen + body.length);
    // Bit length Ld, right-aligned in the first block (at most 2^53 bits here; 8 bytes suffice).
    let bits = <u64>data.length * 8;
    for (let i = blockLen - 1; i >= 0 && bits != 0; i--) {
      out[i] = <u8>(bits & 0xff);
      bits >>= 8;
    }
    out.set(body, blockLen);
    return out;
  }
  return badParam<Uint8Array>("padding: method must be 1, 2 or 3 (ISO 9797-1)");
}

/** Length of the data inside a method-2 padded message (the last 0x80 within the last block,
 * zeros after it); -1 when the message is not whole blocks or not padded that way (a wrong key
 * or tampered data, for a deciphered message). */
export function unpadMethod2Length(padded: Uint8Array, blockLen: i32): i32 {
  if (blockLen <= 0 || padded.length == 0 || padded.length % blockLen != 0) return -1;
  let end = padded.length - 1;
  while (end >= 0 && padded[end] == 0) end--;
  if (end < 0 || padded[end] != 0x80 || padded.length - end > blockLen) return -1;
  return end;
}

function zeroPad(data: Uint8Array, blockLen: i32): Uint8Array {
  const n = data.length == 0 ? blockLen : ((data.length + blockLen - 1) / blockLen) * blockLen;
  const out = new Uint8Array(n);
  out.set(data, 0);
  return out;
}
