// ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC", ANSI X9.19) with padding methods 1, 2 and 3,
// as EMV Book 2 A1.2 uses it for application cryptograms and secure messaging:
// single-DES CBC under K1 over all blocks, then decrypt with K2 and encrypt with K1 on the last.
import { desCbc, desEcb, KeyError } from './des.ts';

export type Padding = 'iso9797_1_method_1' | 'iso9797_1_method_2' | 'iso9797_1_method_3';

/** Method 1: zeros to a block boundary (none if already aligned; one block if empty).
 *  Method 2: 0x80 then zeros. Method 3: a length block in front, then zeros. */
export function pad(data: Uint8Array, method: Padding): Uint8Array {
  switch (method) {
    case 'iso9797_1_method_1': {
      const len = data.length === 0 ? 8 : Math.ceil(data.length / 8) * 8;
      const out = new Uint8Array(len); out.set(data); return out;
    }
    case 'iso9797_1_method_2': {
      const out = new Uint8Array(Math.floor(data.length / 8) * 8 + 8);
      out.set(data); out[data.length] = 0x80; return out;
    }
    case 'iso9797_1_method_3': {
      const body = pad(data, 'iso9797_1_method_1');
      const out = new Uint8Array(8 + (data.length === 0 ? 0 : body.length));
      const bits = BigInt(data.length) * 8n;
      for (let i = 0; i < 8; i++) out[7 - i] = Number((bits >> BigInt(8 * i)) & 0xffn);
      if (data.length) out.set(body, 8);
      return out;
    }
    default:
      throw new RangeError(`unknown padding '${method as string}'`);
  }
}

export function retailMac(key: Uint8Array, data: Uint8Array, padding: Padding, length = 8): Uint8Array {
  if (key.length !== 16) throw new KeyError(`retail MAC key must be 16 bytes (K1 K2), got ${key.length}`);
  if (length < 4 || length > 8) throw new RangeError(`MAC length ${length} outside 4..8`);
  const k1 = key.slice(0, 8), k2 = key.slice(8, 16);
  try {
    const chain = desCbc(k1, pad(data, padding));
    const last = chain.subarray(chain.length - 8);
    return desEcb(k1, desEcb(k2, last, true)).subarray(0, length);
  } finally {
    k1.fill(0); k2.fill(0);
  }
}
