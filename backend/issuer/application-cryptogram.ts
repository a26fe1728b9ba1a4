// Application cryptogram (ARQC / TC / AAC), EMV 4.4 Book 2 §8.1.2 and Annex A1.2: the ISO/IEC
// 9797-1 algorithm 3 MAC of the CDOL-selected data under the AC session key; the CVN decides
// the padding (Visa CVN 10: method 1; EMV CSK CVNs: method 2).
import { retailMac, type Padding } from './ta-lib.ts';
import { equalBytes } from './util.ts';

export function applicationCryptogram(sessionKey: Uint8Array, acData: Uint8Array, padding: Padding): Uint8Array {
  return retailMac(sessionKey, acData, padding, 8);
}

export function verifyApplicationCryptogram(sessionKey: Uint8Array, acData: Uint8Array, padding: Padding, ac: Uint8Array): boolean {
  return equalBytes(applicationCryptogram(sessionKey, acData, padding), ac);
}
