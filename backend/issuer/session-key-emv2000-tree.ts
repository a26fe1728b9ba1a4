// EMV2000 tree session key derivation, EMV 4.0 Book 2 Annex A1.3 (optional in later versions):
// a tree of height H and branch factor b over the ICC master key; each node key IK(i,j) is
// F(IK(i-1, j div b), IK(i-2, j div b^2), j mod b) with IK(0,0) = MK and IK(-1,0) = IV, and
// F(X, Y, j) = TDES(X)[YL xor j] || TDES(X)[YR xor j xor F0]. The session key for ATC is
// IK(H, ATC) xor IK(H-2, ATC div b^2), parity adjusted.
import { adjustParity, xor } from './des.ts';
import { tdesEcb } from './ta-lib.ts';

function f(x: Uint8Array, y: Uint8Array, j: number): Uint8Array {
  const block = y.slice();
  block[7]! ^= j; block[15]! ^= j ^ 0xf0;
  return tdesEcb(adjustParity(x), block);
}

export function emv2000TreeSessionKey(iccMasterKey: Uint8Array, atc: Uint8Array, height = 8, branchFactor = 4, iv: Uint8Array = new Uint8Array(16)): Uint8Array {
  if (iccMasterKey.length !== 16) throw new RangeError(`ICC master key must be 16 bytes, got ${iccMasterKey.length}`);
  if (atc.length !== 2) throw new RangeError(`ATC must be 2 bytes, got ${atc.length}`);
  if (iv.length !== 16) throw new RangeError(`IV must be 16 bytes, got ${iv.length}`);
  if (height < 2 || branchFactor < 2 || branchFactor ** height < 0x10000) {
    throw new RangeError(`tree of height ${height} and branch factor ${branchFactor} cannot hold every ATC`);
  }
  const n = (atc[0]! << 8) | atc[1]!;
  // Walk from the root to the leaf of this ATC, keeping the last two levels (parent, grandparent).
  let grand: Uint8Array = iv.slice(), parent: Uint8Array = iccMasterKey.slice();
  const levels: Uint8Array[] = [grand, parent];
  for (let i = 1; i <= height; i++) {
    const j = Math.floor(n / branchFactor ** (height - i));
    const node = f(parent, grand, j % branchFactor);
    grand = parent; parent = node;
    levels.push(node);
  }
  const sk = adjustParity(xor(levels[height + 1]!, levels[height - 1]!));
  for (const k of levels) k.fill(0);
  return sk;
}
