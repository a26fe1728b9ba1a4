// The two certificate steps every dynamic ODA method starts with: CA key → issuer key →
// ICC key (EMV Book 2 §6.2–6.4), from the data objects read from the card. The CA key's
// algorithm indicator chooses the certificate formats: RSA (Book 2, 01) or SM2 (PBOC 3.0
// JR/T 0025.17, 04; see sm2-certificates.ts).
import { toHex } from '../../../common/hex.ts';
import { OdaError, recoverIccKey, recoverIssuerKey, type RecoveredKey } from './certificates.ts';
import { recoverSm2IccKey, recoverSm2IssuerKey, type RecoveredSm2Key } from './sm2-certificates.ts';
import { ALG_SM2 } from '../../../common/emv/ca-keys.ts';
import type { CapkStore } from './capk-store.ts';

export type IccPublicKey = (RecoveredKey & { algorithm?: 'RSA' }) | RecoveredSm2Key;

export function recoverIccPublicKey(capks: CapkStore, aid: string, card: Map<string, Uint8Array>, staticData: Uint8Array, pan: string, txnDate: Uint8Array): IccPublicKey {
  const need = (t: string) => {
    const v = card.get(t);
    if (!v) throw new OdaError('DATA_MISSING', `ODA data object ${t} missing`);
    return v;
  };
  const index = toHex(need('8F'));
  const ca = capks.find(aid.slice(0, 10), index, toHex(txnDate));
  if (!ca) throw new OdaError('CAPK_MISSING', `no CA public key ${aid.slice(0, 10)}/${index}`);
  if (ca.algorithm === ALG_SM2) {
    const issuer = recoverSm2IssuerKey({ algorithm: 'SM2', point: ca.modulus }, need('90'), pan, txnDate);
    return recoverSm2IccKey(issuer, need('9F46'), staticData, pan, txnDate);
  }
  if (ca.algorithm !== undefined && ca.algorithm !== 0x01) throw new OdaError('CAPK_MISSING', `CA key ${ca.rid}/${ca.index} has unsupported algorithm ${ca.algorithm}`);
  const issuer = recoverIssuerKey(ca, need('90'), card.get('92') ?? new Uint8Array(0), need('9F32'), pan, txnDate);
  return recoverIccKey(issuer, need('9F46'), card.get('9F48') ?? new Uint8Array(0), need('9F47'), staticData, pan, txnDate);
}

/** Static data to be authenticated: the ODA records, plus the AIP when 9F4A lists tag 82. */
export function withAip(recordsStaticData: Uint8Array, sdaTagList: Uint8Array | undefined, aip: Uint8Array): Uint8Array {
  if (!sdaTagList || sdaTagList.length === 0) return recordsStaticData;
  if (sdaTagList.length !== 1 || sdaTagList[0] !== 0x82) throw new OdaError('DATA_MISSING', 'static data authentication tag list other than 82');
  const out = new Uint8Array(recordsStaticData.length + aip.length);
  out.set(recordsStaticData); out.set(aip, recordsStaticData.length);
  return out;
}
