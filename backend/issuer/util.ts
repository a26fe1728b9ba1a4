// Small byte helpers of the issuer side: common/hex.ts's hex (upper case) and constant-time
// comparison under the names the issuer code uses.
export { toHex as hex, fromHex as unhex, equalBytes } from '../../common/hex.ts';
