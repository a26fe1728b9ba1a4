// SM2 signature verification for offline data authentication. ree/ may not import tee/
// (ARCHITECTURE.md), so the one SM2 implementation lives in the pure shared module pure/sm2.ts,
// which tee/crypto/sm2.ts re-exports as well.
export { sm2Verify, SM2_DEFAULT_ID } from '../../../pure/sm2.ts';
