// CA public keys by RID and index (EMV Book 2 §11.2.2), loaded from the signed configuration.
import { fromHex } from '../../../common/hex.ts';
import type { CapkConfig } from '../../../common/emv/config.ts';
import type { CaPublicKey } from '../../../common/emv/ca-keys.ts';

export class CapkStore {
  private readonly keys = new Map<string, CaPublicKey & { expiry?: string }>();

  constructor(capks: CapkConfig[]) {
    for (const k of capks) {
      const key: CaPublicKey = { rid: k.rid.toUpperCase(), index: k.index.toUpperCase(), modulus: fromHex(k.modulus), exponent: fromHex(k.exponent) };
      if (k.expiry) key.expiry = k.expiry;
      if (k.algorithm) key.algorithm = parseInt(k.algorithm, 16);
      this.keys.set(`${key.rid}/${key.index}`, key);
    }
  }

  /** The key for this RID and index, unless absent or expired on the transaction date. */
  find(rid: string, index: string, txnDate: string): CaPublicKey | undefined {
    const k = this.keys.get(`${rid.toUpperCase()}/${index.toUpperCase()}`);
    return k && (!k.expiry || k.expiry >= txnDate) ? k : undefined;
  }
}
