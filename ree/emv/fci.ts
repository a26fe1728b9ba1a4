// File Control Information returned by SELECT (EMV Book 1 §11.3.4, Contactless Book B §3.3):
// the PPSE directory (BF0C holding one 61 entry per application) and an application's FCI.
import { toHex } from '../../common/hex.ts';
import { latin1 } from '../../common/base64.ts';
import { TlvError, decodeTlv, findTag, flatten, type Tlv } from '../../common/tlv.ts';

export interface DirectoryEntry {
  aid: string;
  label?: string;
  /** Application Priority Indicator low nibble; 0 = no priority given */
  priority?: number;
  /** Kernel Identifier (9F2A), hex */
  kernelId?: string;
  /** Extended selection (9F29), hex */
  extendedSelection?: string;
}

const text = (b?: Uint8Array) => (b ? latin1(b).replace(/[^\x20-\x7e]/g, '?') : undefined);

/** `salvage` reads what is complete in a truncated capture (diagnostics only; Entry Point
 *  treats a malformed PPSE response as no PPSE). */
export function parsePpseFci(resp: Uint8Array, opts: { salvage?: boolean } = {}): DirectoryEntry[] {
  const nodes = decodeTlv(resp, { salvageTruncated: opts.salvage ?? false });
  const fci = nodes.find((n) => n.tag === '6F');
  if (!fci) throw new TlvError('VALUE_MALFORMED', 'PPSE response has no FCI template (6F)', '', 0);
  const dir = findTag([fci], 'BF0C');
  if (!dir?.children) return [];
  return dir.children.filter((n) => n.tag === '61').map(directoryEntry).filter((e): e is DirectoryEntry => !!e);
}

function directoryEntry(n: Tlv): DirectoryEntry | undefined {
  const f = flatten(n.children ?? []);
  const aid = f.get('4F');
  // Book B 3.3.2.5: an entry without a 5..16 byte ADF name is ignored.
  if (!aid || aid.length < 5 || aid.length > 16) return undefined;
  const e: DirectoryEntry = { aid: toHex(aid) };
  const label = text(f.get('50'));
  if (label !== undefined) e.label = label;
  const prio = f.get('87');
  if (prio?.length) e.priority = prio[0]! & 0x0f;
  const k = f.get('9F2A');
  if (k) e.kernelId = toHex(k);
  const ext = f.get('9F29');
  if (ext) e.extendedSelection = toHex(ext);
  return e;
}

export interface AppFci {
  dfName: string;
  label?: string;
  pdol?: Uint8Array;
  priority?: number;
  languagePreference?: string;
  /** all primitive objects of the FCI */
  data: Map<string, Uint8Array>;
}

export function parseAppFci(resp: Uint8Array): AppFci {
  const nodes = decodeTlv(resp);
  const fci = nodes.find((n) => n.tag === '6F');
  if (!fci) throw new TlvError('VALUE_MALFORMED', 'SELECT response has no FCI template (6F)', '', 0);
  const data = flatten([fci]);
  const df = data.get('84');
  if (!df) throw new TlvError('VALUE_MALFORMED', 'FCI without DF name (84)', '84', fci.offset);
  const out: AppFci = { dfName: toHex(df), data };
  const label = text(data.get('50'));
  if (label !== undefined) out.label = label;
  const pdol = data.get('9F38');
  if (pdol) out.pdol = pdol;
  const prio = data.get('87');
  if (prio?.length) out.priority = prio[0]! & 0x0f;
  const lang = text(data.get('5F2D'));
  if (lang) out.languagePreference = lang;
  return out;
}
