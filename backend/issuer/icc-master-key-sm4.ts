// ICC master key (UDK) derivation of a PBOC national-algorithm card: the EMV option A input
// Y (rightmost 16 digits of PAN || PSN, icc-master-key.ts) with SM4's 16-byte block in place
// of TDES's two halves: MK = SM4(IMK)[Y || (Y xor FF..FF)]. No parity: SM4 keys have none.
// Sources: PBOC 3.0 / JR/T 0025.17 (UnionPay national-algorithm cards) as public implementations
// describe it; the worked example checked in test/emv/sm4-cryptogram.test.ts is the blog post
// "金融ARQC、ARPC验证生成规则" (iteye.com/blog/2309584, mirrored at codetd.com/article/219619),
// an informative source, not the specification.
import { optionAY } from './icc-master-key.ts';
import { sm4Ecb } from './ta-lib.ts';

export function iccMasterKeySm4(issuerMasterKey: Uint8Array, pan: string, psn = '00'): Uint8Array {
  const y = optionAY(pan, psn);
  const block = new Uint8Array(16);
  block.set(y); block.set(y.map((b) => b ^ 0xff), 8);
  try { return sm4Ecb(issuerMasterKey, block); } finally { block.fill(0); }
}
