// Issuer script command MAC, EMV 4.4 Book 2 §9.2.1: ISO/IEC 9797-1 algorithm 3 with padding
// method 2 over the command header, ATC, ARQC and command data, under the SM integrity key.
import { retailMac } from './retail-mac.ts';

export function commandMac(smIntegrityKey: Uint8Array, macData: Uint8Array, length = 8): Uint8Array {
  return retailMac(smIntegrityKey, macData, 'iso9797_1_method_2', length);
}
