// GET PROCESSING OPTIONS (EMV Book 3 §6.5.8, §10.1): command built from the card's PDOL, and
// the two response formats — format 1 (tag 80: AIP || AFL) and format 2 (template 77, where
// qVSDC / qPBOC cards also return the cryptogram and track 2).
import { toHex } from '../../common/hex.ts';
import { TlvError, decodeTlv, flatten } from '../../common/tlv.ts';
import { buildDol, parseDol, type DolSource } from '../../common/emv/dol.ts';
import { getProcessingOptions } from '../../common/emv/apdu.ts';

export interface AflEntry { sfi: number; first: number; last: number; odaCount: number }

export interface GpoResponse {
  aip: Uint8Array;
  afl: Uint8Array;
  /** every primitive object of a format-2 response (empty for format 1) */
  data: Map<string, Uint8Array>;
}

export function buildGpoCommand(pdol: Uint8Array | undefined, source: DolSource): Uint8Array {
  return getProcessingOptions(pdol && pdol.length ? buildDol(parseDol(pdol), source) : new Uint8Array(0));
}

export function parseGpoResponse(resp: Uint8Array): GpoResponse {
  const nodes = decodeTlv(resp);
  const top = nodes[0];
  if (!top) throw new TlvError('VALUE_MALFORMED', 'GPO response is empty', '', 0);
  if (top.tag === '80') {
    if (top.value.length < 2 || (top.value.length - 2) % 4 !== 0) {
      throw new TlvError('VALUE_MALFORMED', `GPO format 1 value of ${top.value.length} bytes is not AIP (2) + AFL (4n)`, '80', top.offset);
    }
    return { aip: top.value.subarray(0, 2), afl: top.value.subarray(2), data: new Map() };
  }
  if (top.tag === '77') {
    const data = flatten([top]);
    const aip = data.get('82');
    if (!aip || aip.length !== 2) throw new TlvError('VALUE_MALFORMED', 'GPO format 2 without a 2-byte AIP (82)', '82', top.offset);
    const afl = data.get('94') ?? new Uint8Array(0);
    if (afl.length % 4 !== 0) throw new TlvError('VALUE_MALFORMED', `AFL (94) of ${afl.length} bytes is not a multiple of 4`, '94', top.offset);
    return { aip, afl, data };
  }
  throw new TlvError('VALUE_MALFORMED', `GPO response template ${top.tag} is neither 80 nor 77`, top.tag, top.offset);
}

/** AFL: 4 bytes per entry — SFI (bits 8-4), first and last record, records used in ODA. */
export function parseAfl(afl: Uint8Array): AflEntry[] {
  const out: AflEntry[] = [];
  for (let i = 0; i + 4 <= afl.length; i += 4) {
    const sfi = afl[i]! >> 3, first = afl[i + 1]!, last = afl[i + 2]!, odaCount = afl[i + 3]!;
    if (sfi < 1 || sfi > 30 || first === 0 || last < first || odaCount > last - first + 1) {
      throw new TlvError('VALUE_MALFORMED', `AFL entry ${toHex(afl.subarray(i, i + 4))} is invalid`, '94', i);
    }
    out.push({ sfi, first, last, odaCount });
  }
  return out;
}
