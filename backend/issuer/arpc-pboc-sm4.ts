// ARPC of a PBOC national-algorithm card: ARPC method 1 (arpc-method-1.ts) on SM4's 16-byte
// block — the leftmost 8 bytes of SM4(SK_AC)[(ARQC xor (ARC || 00..00)) || 00..00], under the
// AC session key. ARC = the 2-byte authorisation response code (an2, e.g. '00' = 30 30).
// Sources: PBOC 3.0 / JR/T 0025.17 (UnionPay national-algorithm cards) as public implementations
// describe it; the worked example checked in test/emv/sm4-cryptogram.test.ts is the blog post
// "金融ARQC、ARPC验证生成规则" (iteye.com/blog/2309584, mirrored at codetd.com/article/219619),
// an informative source, not the specification. The source shows the input block and
// the SM4 step but not the resulting value, so no published number checks this one.
import { sm4Ecb } from './ta-lib.ts';

export function arpcPbocSm4(sessionKey: Uint8Array, arqc: Uint8Array, arc: Uint8Array): Uint8Array {
  if (arqc.length !== 8) throw new RangeError(`ARQC must be 8 bytes, got ${arqc.length}`);
  if (arc.length !== 2) throw new RangeError(`ARPC response code must be 2 bytes, got ${arc.length}`);
  const block = new Uint8Array(16);
  block.set(arqc);
  block[0]! ^= arc[0]!; block[1]! ^= arc[1]!;
  return sm4Ecb(sessionKey, block).slice(0, 8);
}
