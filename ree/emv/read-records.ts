// READ RECORD per AFL (EMV Book 3 §10.2): collect the card's data objects and the static data
// to be authenticated — for SFI 1..10 the value inside template 70, for SFI 11..30 the whole
// record — from the records the AFL marks for ODA.
import { concat } from '../../common/hex.ts';
import { readRecord, parseResponse, swHex, SW } from '../../common/emv/apdu.ts';
import { decodeTlv, flatten } from '../../common/tlv.ts';
import { parseAfl } from './gpo.ts';
import type { CardTransport } from '../nfc/transport.ts';

export class KernelError extends Error {
  constructor(readonly code: string, message: string) { super(message); this.name = 'KernelError'; }
}

export interface RecordData { data: Map<string, Uint8Array>; staticData: Uint8Array }

export async function readRecords(transport: CardTransport, afl: Uint8Array): Promise<RecordData> {
  const data = new Map<string, Uint8Array>();
  const oda: Uint8Array[] = [];
  for (const e of parseAfl(afl)) {
    for (let rec = e.first; rec <= e.last; rec++) {
      const r = parseResponse(await transport.transceive(readRecord(e.sfi, rec)));
      if (r.sw !== SW.OK) throw new KernelError('READ_RECORD_FAILED', `READ RECORD SFI ${e.sfi} record ${rec}: SW ${swHex(r.sw)}`);
      const nodes = decodeTlv(r.data);
      const t70 = nodes[0];
      if (!t70 || t70.tag !== '70' || nodes.length !== 1) throw new KernelError('RECORD_FORMAT', `record SFI ${e.sfi}/${rec} is not a single template 70`);
      flatten([t70], data);
      if (rec < e.first + e.odaCount) oda.push(e.sfi <= 10 ? t70.value : r.data);
    }
  }
  return { data, staticData: concat(...oda) };
}
