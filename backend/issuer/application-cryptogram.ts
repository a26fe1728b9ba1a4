// Application cryptogram (ARQC / TC / AAC), EMV 4.4 Book 2 §8.1.2 and Annex A1.2: the ISO/IEC
// 9797-1 algorithm 3 MAC of the CDOL-selected data under the AC session key; the CVN decides
// the padding (Visa CVN 10: method 1; EMV CSK CVNs: method 2). On a PBOC national-algorithm
// card (cipher 'sm4') it is the PBOC-SM4-MAC (ISO 9797-1 MAC algorithm 1 with SM4, ta/lib),
// whose padding is always method 2.
import { retailMac, sm4Mac, type Padding } from './ta-lib.ts';
import type { BlockCipher } from './cvn.ts';
import { equalBytes } from './util.ts';

export function applicationCryptogram(sessionKey: Uint8Array, acData: Uint8Array, padding: Padding, cipher: BlockCipher = 'tdes'): Uint8Array {
  if (cipher === 'sm4') {
    if (padding !== 'iso9797_1_method_2') throw new RangeError(`the SM4 cryptogram pads with ISO/IEC 9797-1 method 2, not ${padding}`);
    return sm4Mac(sessionKey, acData, 8);
  }
  return retailMac(sessionKey, acData, padding, 8);
}

export function verifyApplicationCryptogram(sessionKey: Uint8Array, acData: Uint8Array, padding: Padding, ac: Uint8Array, cipher: BlockCipher = 'tdes'): boolean {
  return equalBytes(applicationCryptogram(sessionKey, acData, padding, cipher), ac);
}
