// Vector operations of test/vectors/published/tlv.json, run through ree/emv.
import type { OpHandler } from '../runner.ts';
import type { DirectoryEntry } from '../../../ree/emv/fci.ts';
import { fromHex, toHex } from '../../../common/hex.ts';
import { TlvError, decodeTlv, encodeTlv, flatten, toTree, treeToEntries, type TlvTree } from '../../../common/tlv.ts';
import { buildDol, dolDataLength, mapSource, parseDol } from '../../../common/emv/dol.ts';
import { buildGpoCommand, parseGpoResponse } from '../../../ree/emv/gpo.ts';
import { parsePpseFci } from '../../../ree/emv/fci.ts';
import { expiryEndOfMonth, parseTrack2, serviceCodeInterchange } from '../../../common/emv/track2.ts';

const flatHex = (m: Map<string, Uint8Array>) => Object.fromEntries([...m].map(([k, v]) => [k, toHex(v)]));
const pad2 = (n: number) => String(n).padStart(2, '0');

/** The directory entries an operation reports, with the fields that operation defines (the
 * parser returns more: kernel identifier, extended selection). */
const entries = (items: DirectoryEntry[], fields: Array<keyof DirectoryEntry>) =>
  items.map((it) => Object.fromEntries(fields.filter((k) => it[k] !== undefined).map((k) => [k, it[k]])));

export const ops: Record<string, OpHandler> = {
  ber_tlv_decode: ({ data }) => {
    const nodes = decodeTlv(fromHex(data));
    return { tree: toTree(nodes), flattened: flatHex(flatten(nodes)) };
  },
  ber_tlv_decode_flatten: ({ data }) => ({ flattened: flatHex(flatten(decodeTlv(fromHex(data)))) }),
  ber_tlv_encode: ({ tree }) => ({ data: toHex(encodeTlv(treeToEntries(tree as TlvTree))) }),
  ber_tlv_decode_error: ({ data }) => {
    try {
      decodeTlv(fromHex(data));
      return { error: false };
    } catch (e) {
      if (!(e instanceof TlvError)) throw e;
      // The whole message: the runner checks that it starts with the vector's message_prefix.
      return { error: true, error_tag: e.tag, error_offset: e.offset, message_prefix: e.message, code: e.code };
    }
  },
  emv_gpo_response_parse: ({ response }) => {
    const r = parseGpoResponse(fromHex(response));
    return { aip: toHex(r.aip), afl: toHex(r.afl) };
  },
  emv_gpo_command_build: (inputs) => {
    const { pdol, ...values } = inputs as Record<string, string>;
    return { gpo_command: toHex(buildGpoCommand(fromHex(pdol!), mapSource(values))) };
  },
  emv_dol_parse: ({ dol }) => {
    const entries = parseDol(fromHex(dol));
    return { entries: entries.map((e) => [e.tag, e.length]), data_length: dolDataLength(entries) };
  },
  emv_dol_build: ({ dol, source1, source2 }) => ({
    data: toHex(buildDol(parseDol(fromHex(dol)), mapSource(source1 ?? {}, source2 ?? {}))),
  }),
  // Salvage mode: the capture in ppse-fci-cb-visadebit is one byte short (6F says 0x57 = 87
  // bytes, 86 follow; the last 9F2A holds 7 of its 8 bytes). Both 61 entries are complete.
  // The PPSE directory as names: each application's AID and label.
  emv_ppse_fci_parse: ({ response }) => ({ applications: entries(parsePpseFci(fromHex(response), { salvage: true }), ['aid', 'label']) }),
  emv_contactless_read_flow: (inputs) => {
    // A recorded tap: PPSE, SELECT of the first AID, GPO format 2 with Track 2 (57).
    const apps = parsePpseFci(fromHex(inputs.select_ppse_response));
    const gpo = parseGpoResponse(fromHex(inputs.gpo_response));
    const t2 = gpo.data.get('57');
    if (!t2) throw new Error('GPO response has no Track 2 Equivalent Data (57)');
    const track2 = parseTrack2(t2);
    return {
      // The candidate list the kernel orders: AID, label and priority of each application.
      applications: entries(apps, ['aid', 'label', 'priority']),
      pan: track2.pan,
      expiry_mm_yyyy: `${track2.expiry.slice(2)}/20${track2.expiry.slice(0, 2)}`,
    };
  },
  emv_track2_equivalent_parse: ({ track2 }) => {
    const t = parseTrack2(track2);
    const e = expiryEndOfMonth(t.expiry);
    return { pan: t.pan, expiry_dd_mm_yyyy: `${pad2(e.day)}/${pad2(e.month)}/${e.year}`, service_code_digit1: serviceCodeInterchange(t.serviceCode) };
  },
};
