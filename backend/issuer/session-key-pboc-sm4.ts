// AC / secure-messaging session key of a PBOC national-algorithm card: the ATC diversification
// of session-key-pboc.ts in one SM4 block, SK = SM4(MK)[00..00 || ATC || 00..00 || ~ATC]
// (six zero bytes before each half's two ATC bytes). No parity adjustment.
// Sources: PBOC 3.0 / JR/T 0025.17 (UnionPay national-algorithm cards) as public implementations
// describe it; the worked example checked in test/emv/sm4-cryptogram.test.ts is the blog post
// "金融ARQC、ARPC验证生成规则" (iteye.com/blog/2309584, mirrored at codetd.com/article/219619),
// an informative source, not the specification.
import { sm4Ecb } from './ta-lib.ts';

export function pbocSm4SessionKey(iccMasterKey: Uint8Array, atc: Uint8Array): Uint8Array {
  if (iccMasterKey.length !== 16) throw new RangeError(`ICC master key must be 16 bytes, got ${iccMasterKey.length}`);
  if (atc.length !== 2) throw new RangeError(`ATC must be 2 bytes, got ${atc.length}`);
  const block = new Uint8Array(16);
  block.set(atc, 6); block[14] = atc[0]! ^ 0xff; block[15] = atc[1]! ^ 0xff;
  return sm4Ecb(iccMasterKey, block);
}
