// ARPC method 2, EMV 4.4 Book 2 §8.2.2: ARPC = the first 4 bytes of the ISO/IEC 9797-1
// algorithm 3 MAC (padding method 2) of ARQC || CSU || Proprietary Authentication Data,
// under the AC session key. CSU = 4-byte Card Status Update.
import { retailMac } from './ta-lib.ts';

export function arpcMethod2(sessionKey: Uint8Array, arqc: Uint8Array, csu: Uint8Array, proprietaryAuthData: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (arqc.length !== 8) throw new RangeError(`ARQC must be 8 bytes, got ${arqc.length}`);
  if (csu.length !== 4) throw new RangeError(`CSU must be 4 bytes, got ${csu.length}`);
  if (proprietaryAuthData.length > 8) throw new RangeError(`proprietary authentication data is at most 8 bytes, got ${proprietaryAuthData.length}`);
  const data = new Uint8Array(12 + proprietaryAuthData.length);
  data.set(arqc); data.set(csu, 8); data.set(proprietaryAuthData, 12);
  return retailMac(sessionKey, data, 'iso9797_1_method_2', 4);
}
