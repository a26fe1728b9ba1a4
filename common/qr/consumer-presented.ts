// EMV QRCPS Consumer-Presented Mode v1.0 (EMVCo, July 2017): the payer's phone shows Base64
// (RFC 4648) of BER-TLV data objects (EMV Book 3 Annex B). The rules applied here, by clause:
//   §3.1.1 / Table 3.1  85 Payload Format Indicator "CPV01" first; then one or two Application
//          Templates 61 and at most one Common Data Template 62, before any other template;
//          63 (Application Specific Transparent Template) only inside 61, 64 (Common Data
//          Transparent Template) only inside 62, each at most once; "the same data objects must
//          not appear in both template '61' and '62'".
//   §5.1.1–5.1.3  "hQVDUFY" prefix, Base64, BER-TLV, first object 85, value "CPV01", a 61 present.
//   §5.1.4  an application template without an ADF Name (4F) of 5..16 bytes is skipped, not an
//          error (it is `ineligible` here); `selectApplication` matches ADF Names against the
//          POI's AIDs (equal, or the AID a prefix of the ADF Name) and picks by the merchant's order.
//   §5.1.7–5.1.9  POI Data = the chosen 61's data objects plus 62's, without the contents of 63
//          and 64; Transparent Data = the contents of 63 and 64, kept whole as well.
//   §5.1.10  a primitive data object twice in the POI Data is an error (so common data never
//          overrides an application's, nor the reverse: the code is refused). Only Transparent
//          Data may repeat a tag; there the application's own 63 takes precedence over 64.
//   §5.1.11  unrecognised data objects and other templates are kept, not interpreted.
//   Table 6.1 / Annex A  formats and lengths of the POI data objects; 57 or 5A present
//          (through the common data too); the PAN from 57 when 5A is absent (§6.2).
// The PAN, track 2 and cardholder name are returned only in `sensitive`, never in the rest.
import { decodeTlv, TlvError, type Tlv } from '../tlv.ts';
import { toHex } from '../hex.ts';
import { fromBase64, latin1 } from '../base64.ts';
import { maskPan, parseTrack2, Track2Error } from '../emv/track2.ts';
import { QrError } from './errors.ts';

/** §5.1.1: Base64 of 85 05 "CPV" begins so; anything else is not an EMV CPM code. */
export const CPM_PREFIX = 'hQVDUFY';

export interface CpmApplication {
  /** ADF Name (4F), hex. */
  aid?: string;
  /** Application Label (50). */
  label?: string;
  /** First 6 and last 4 digits at most. */
  maskedPan?: string;
  /** YYMM, from track 2 equivalent data (57). */
  expiry?: string;
  /** Why §5.1.4 skips this template (no ADF Name, or one outside 5..16 bytes); absent when eligible. */
  ineligible?: string;
  /** POI Data (§5.1.9) of this application: its template's data objects and the Common Data
   *  Template's, by tag, hex; PAN (5A), track 2 (57) and cardholder name (5F20) only in `sensitive`. */
  poiData: Record<string, string>;
  /** Transparent Data (§5.1.9): the data objects of 63 and of 64, by tag, hex; where both carry a
   *  tag, the application's own (63) wins. */
  transparentData: Record<string, string>;
  /** The transparent templates' values whole (hex), as §5.1.7/§5.1.8 tell the POI to regard them. */
  transparent: { application?: string; common?: string };
}

export interface ConsumerQr {
  payloadFormat: 'CPV01';
  applications: CpmApplication[];
  /** Whether a Common Data Template (62) was present (its data is inside each application's). */
  commonData: boolean;
  /** Templates after 61/62 (§5.1.11): kept, not interpreted. */
  otherTemplates: Array<{ tag: string; value: string }>;
}

export interface ConsumerQrSensitive { pan?: string; track2?: string; cardholderName?: string }

// Annex A formats of the POI data objects this parser knows (Table 6.1).
const ANS = /^[\x20-\x7e]*$/; // EMV Book 4 Annex B Common Character Set
const FORMATS: Record<string, { name: string; min: number; max: number; check?: (v: Uint8Array) => boolean; what?: string }> = {
  '50': { name: 'Application Label', min: 1, max: 16, check: (v) => /^[A-Za-z0-9 ]*$/.test(latin1(v)), what: 'letters, digits and space' },
  '57': { name: 'Track 2 Equivalent Data', min: 1, max: 19 },
  '5A': { name: 'Application PAN', min: 1, max: 10, check: (v) => /^\d{12,19}F*$/.test(toHex(v)), what: 'compressed numeric, 12..19 digits padded with F' },
  '5F20': { name: 'Cardholder Name', min: 2, max: 26, check: (v) => ANS.test(latin1(v)), what: 'the Common Character Set' },
  '5F2D': { name: 'Language Preference', min: 2, max: 8, check: (v) => v.length % 2 === 0 && /^[A-Za-z]*$/.test(latin1(v)), what: '1..4 two-letter ISO 639-1 codes' },
  '5F50': { name: 'Issuer URL', min: 1, max: 255, check: (v) => ANS.test(latin1(v)) && /^(tel|mailto):/.test(latin1(v)), what: 'a tel: or mailto: URI (Table 6.3)' },
  '9F08': { name: 'Application Version Number', min: 2, max: 2 },
  '9F19': { name: 'Token Requestor ID', min: 6, max: 6, check: (v) => /^\d*$/.test(toHex(v)), what: 'numeric' },
  '9F24': { name: 'Payment Account Reference', min: 29, max: 29, check: (v) => /^[A-Z0-9]*$/.test(latin1(v)), what: 'upper-case letters and digits' },
  '9F25': { name: 'Last 4 Digits of PAN', min: 2, max: 2, check: (v) => /^\d*$/.test(toHex(v)), what: 'numeric' },
};

const SENSITIVE = new Set(['5A', '57', '5F20']);

function fail(code: ConstructorParameters<typeof QrError>[0], field: string, message: string): never {
  throw new QrError(code, message, field);
}

function checkFormat(tag: string, v: Uint8Array, where: string): void {
  const f = FORMATS[tag];
  if (!f) return;
  if (v.length < f.min || v.length > f.max) fail('INVALID_FIELD', tag, `${f.name} (${tag}) in ${where} is ${v.length} bytes, Annex A allows ${f.min === f.max ? f.min : `${f.min}..${f.max}`}`);
  if (f.check && !f.check(v)) fail('INVALID_FIELD', tag, `${f.name} (${tag}) in ${where} must be ${f.what}`);
}

interface Template { own: Tlv[]; transparent?: Tlv }

/** Splits 61 or 62 into its own data objects and its transparent template (63 in 61, 64 in 62). */
function splitTemplate(t: Tlv, name: string): Template {
  const transparentTag = t.tag === '61' ? '63' : '64';
  const out: Template = { own: [] };
  for (const c of t.children ?? []) {
    if (c.tag === transparentTag) {
      if (out.transparent) fail('DUPLICATE_FIELD', c.tag, `${name} holds template ${c.tag} twice`);
      out.transparent = c;
    } else if (['85', '61', '62', '63', '64'].includes(c.tag)) {
      fail('MISPLACED_FIELD', c.tag, `${c.tag} may not appear inside ${name} (Table 3.1: ${c.tag === '63' ? '63 belongs in 61' : c.tag === '64' ? '64 belongs in 62' : `${c.tag} belongs at the top level`})`);
    } else {
      out.own.push(c);
    }
  }
  return out;
}

/** Decodes a consumer-presented code. Throws QrError for anything §5.1.1–5.1.11 refuses. */
export function parseConsumerQr(base64: string): ConsumerQr & { sensitive: ConsumerQrSensitive[] } {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) throw new QrError('BASE64_INVALID', 'consumer QR payload is not Base64 (RFC 4648)');
  if (!base64.startsWith(CPM_PREFIX)) throw new QrError('MALFORMED', `consumer QR payload must begin with "${CPM_PREFIX}" (payload format indicator 85 "CPV..", §5.1.1)`, '85');
  const bytes = fromBase64(base64);
  let nodes: Tlv[];
  try { nodes = decodeTlv(bytes); } catch (e) {
    if (e instanceof TlvError) throw new QrError('MALFORMED', `consumer QR data is not BER-TLV: ${e.message}`, e.tag || undefined);
    throw e;
  }

  // §5.1.2 / §5.1.3: the payload format indicator first, of this version.
  const pfi = nodes[0];
  if (!pfi || pfi.tag !== '85') fail('MALFORMED', '85', 'consumer QR must start with payload format indicator 85 (§5.1.2)');
  const version = latin1(pfi.value);
  if (version !== 'CPV01') {
    if (/^CPV\d\d$/.test(version)) fail('VERSION_UNSUPPORTED', '85', `payload format indicator "${version}": only "CPV01" is supported`);
    fail('INVALID_FIELD', '85', 'payload format indicator must be "CPV" and two digits (Annex A)');
  }

  // §3.1.1: 61 (one or two) and 62 (at most one) before any other template.
  const apps: Tlv[] = [];
  let common: Tlv | undefined;
  const otherTemplates: ConsumerQr['otherTemplates'] = [];
  for (const n of nodes.slice(1)) {
    if (n.tag === '61' || n.tag === '62') {
      if (otherTemplates.length) fail('MISPLACED_FIELD', n.tag, `template ${n.tag} must precede template ${otherTemplates[0]!.tag} (§3.1.1)`);
      if (n.tag === '62') {
        if (common) fail('DUPLICATE_FIELD', '62', 'at most one common data template 62 (§3.1.1)');
        common = n;
      } else {
        if (apps.length === 2) fail('MALFORMED', '61', 'at most two application templates 61 (§3.1.1)');
        apps.push(n);
      }
    } else if (n.tag === '85') {
      fail('DUPLICATE_FIELD', '85', 'payload format indicator 85 appears twice');
    } else if (n.tag === '63' || n.tag === '64') {
      fail('MISPLACED_FIELD', n.tag, `template ${n.tag} belongs inside ${n.tag === '63' ? '61' : '62'} (Table 3.1)`);
    } else if (!n.children) {
      fail('MISPLACED_FIELD', n.tag, `primitive data object ${n.tag} at the top level: only templates follow 85 (Table 3.1)`);
    } else {
      otherTemplates.push({ tag: n.tag, value: toHex(n.value) });
    }
  }
  if (!apps.length) fail('MISSING_FIELD', '61', 'consumer QR has no application template 61 (§5.1.3)');

  const commonPart = common ? splitTemplate(common, 'common data template 62') : undefined;
  for (const d of commonPart?.own ?? []) checkFormat(d.tag, d.value, 'template 62');

  const sensitive: ConsumerQrSensitive[] = [];
  const applications = apps.map((a, i) => {
    const where = `application template ${i + 1}`;
    const own = splitTemplate(a, where);
    // §5.1.10 (and §3.1.1: not in both 61 and 62): one occurrence of each POI data object.
    const poi = new Map<string, Uint8Array>();
    for (const [d, from] of [...own.own.map((d) => [d, where] as const), ...(commonPart?.own ?? []).map((d) => [d, 'template 62'] as const)]) {
      if (poi.has(d.tag)) fail('DUPLICATE_FIELD', d.tag, `data object ${d.tag} appears twice in the POI data of ${where} (§5.1.10${from === 'template 62' ? '; §3.1.1: not in both 61 and 62' : ''})`);
      checkFormat(d.tag, d.value, from);
      poi.set(d.tag, d.value);
    }
    const app: CpmApplication = { poiData: {}, transparentData: {}, transparent: {} };
    const s: ConsumerQrSensitive = {};
    // §5.1.4 asks whether *the template* contains an ADF Name: one in 62 does not make a template eligible.
    const aid = own.own.find((d) => d.tag === '4F')?.value;
    if (aid) app.aid = toHex(aid);
    if (!aid) app.ineligible = 'no ADF Name (4F) in the template';
    else if (aid.length < 5 || aid.length > 16) app.ineligible = `ADF Name (4F) of ${aid.length} bytes (5..16)`;
    const label = poi.get('50');
    if (label) app.label = latin1(label);
    const t2 = poi.get('57');
    if (t2) {
      try {
        const t = parseTrack2(t2);
        s.track2 = toHex(t2); s.pan = t.pan; app.expiry = t.expiry;
      } catch (e) {
        if (e instanceof Track2Error) fail('INVALID_FIELD', '57', `track 2 equivalent data (57) in ${where}: ${e.message}`);
        throw e;
      }
    }
    const pan = poi.get('5A');
    if (pan) {
      const p = toHex(pan).replace(/F+$/, '');
      if (s.pan && s.pan !== p) fail('INVALID_FIELD', '5A', `the PAN (5A) and the PAN in track 2 (57) of ${where} differ`);
      s.pan = p;
    }
    const name = poi.get('5F20');
    if (name) s.cardholderName = latin1(name);
    if (!app.ineligible && !s.pan) fail('MISSING_FIELD', '5A', `${where}: neither track 2 (57) nor PAN (5A), in the template or the common data (Table 6.1)`);
    if (s.pan) app.maskedPan = maskPan(s.pan);
    for (const [tag, v] of poi) if (!SENSITIVE.has(tag)) app.poiData[tag] = toHex(v);
    // Transparent Data: 64 first, then 63 over it, so the application's own value wins.
    for (const t of [commonPart?.transparent, own.transparent]) for (const c of t?.children ?? []) app.transparentData[c.tag] = toHex(c.value);
    if (own.transparent) app.transparent.application = toHex(own.transparent.value);
    if (commonPart?.transparent) app.transparent.common = toHex(commonPart.transparent.value);
    sensitive.push(s);
    // The order a person reads it in (`trusttap qr parse` prints this).
    const { poiData, transparentData, transparent, ...head } = app;
    return { ...head, poiData, transparentData, transparent };
  });
  if (applications.every((a) => a.ineligible)) fail('MISSING_FIELD', '4F', 'no application template has an ADF Name (4F) of 5..16 bytes (§5.1.4)');
  return { payloadFormat: 'CPV01', applications, commonData: !!common, otherTemplates, sensitive };
}

/** §5.1.4–5.1.6: the index of the application template to use. An ADF Name matches an AID when
 *  equal to it or when the AID is its leftmost bytes; `supportedAids` is in the merchant's order
 *  of preference (the configurable choice of §5.1.6), ties going to the earlier template. */
export function selectApplication(qr: ConsumerQr, supportedAids: readonly string[]): number {
  const aids = supportedAids.map((a) => a.toUpperCase());
  let best = -1, bestRank = Infinity;
  qr.applications.forEach((app, i) => {
    if (app.ineligible || !app.aid) return;
    const rank = aids.findIndex((aid) => app.aid!.startsWith(aid));
    if (rank >= 0 && rank < bestRank) { best = i; bestRank = rank; }
  });
  if (best < 0) fail('NOT_ELIGIBLE', '4F', `no application template matches a supported AID (${qr.applications.map((a) => a.aid ?? 'none').join(', ')}) (§5.1.5)`);
  return best;
}
