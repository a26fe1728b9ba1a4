// The two certificate steps every dynamic ODA method starts with: CA key → issuer key →
// ICC key (EMV Book 2 §6.2–6.4), from the data objects read from the card.
import { toHex } from '../hex.ts';
import { OdaError, recoverIccKey, recoverIssuerKey, type RecoveredKey } from './certificates.ts';
import type { CapkStore } from './capk-store.ts';

export function recoverIccPublicKey(capks: CapkStore, aid: string, card: Map<string, Uint8Array>, staticData: Uint8Array, pan: string, txnDate: Uint8Array): RecoveredKey {
  const need = (t: string) => {
    const v = card.get(t);
    if (!v) throw new OdaError('DATA_MISSING', `ODA data object ${t} missing`);
    return v;
  };
  const index = toHex(need('8F'));
  const ca = capks.find(aid.slice(0, 10), index, toHex(txnDate));
  if (!ca) throw new OdaError('CAPK_MISSING', `no CA public key ${aid.slice(0, 10)}/${index}`);
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
