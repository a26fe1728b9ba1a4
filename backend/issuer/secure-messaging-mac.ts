// Issuer script command MAC, EMV 4.4 Book 2 §9.2.3 and Annex A1.2: ISO/IEC 9797-1 algorithm 3
// with padding method 2 under the SM integrity session key (SK_SMI), over the command header
// (CLA INS P1 P2 Lc) and the command data as sent; Visa and M/Chip place the transaction data
// ATC || ARQC between the two (the CVN's SM profile says which — see issuer-script.ts). PBOC
// national-algorithm (SM4) cards MAC with the PBOC-SM4-MAC instead (MAC algorithm 1 with SM4,
// padding method 2 on 16-byte blocks; ta-lib.ts sm4Mac), as their cryptogram.
import { retailMac, sm4Mac } from './ta-lib.ts';
import type { BlockCipher } from './cvn.ts';

export function commandMac(smIntegrityKey: Uint8Array, macData: Uint8Array, length = 8, cipher: BlockCipher = 'tdes'): Uint8Array {
  return cipher === 'sm4' ? sm4Mac(smIntegrityKey, macData, length) : retailMac(smIntegrityKey, macData, 'iso9797_1_method_2', length);
}
