// EMV QRCPS Consumer-Presented Mode (v1.0): the payer's phone shows Base64 of BER-TLV data —
// 85 payload format indicator "CPV01", one or more application templates 61 (AID, label,
// track 2 / PAN, and the application specific transparent template 63 with the cryptogram),
// and an optional common data template 62. UnionPay's CPM codes use this format.
import { decodeTlv, flatten, TlvError, type Tlv } from '../tlv.ts';
import { toHex } from '../hex.ts';
import { fromBase64, latin1 } from '../base64.ts';
import { maskPan, parseTrack2 } from '../emv/track2.ts';
import { QrError } from './errors.ts';

export interface CpmApplication {
  aid?: string;
  label?: string;
  /** only ever masked */
  maskedPan?: string;
  expiry?: string;
  /** data objects of the application (including template 63), hex, without PAN and track 2 */
  data: Record<string, string>;
}

export interface ConsumerQr { applications: CpmApplication[]; common: Record<string, string> }

export interface ConsumerQrSensitive { pan?: string; track2?: string }

export function parseConsumerQr(base64: string): ConsumerQr & { sensitive: ConsumerQrSensitive[] } {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) throw new QrError('BASE64_INVALID', 'consumer QR payload is not Base64');
  const bytes = fromBase64(base64);
  let nodes: Tlv[];
  try { nodes = decodeTlv(bytes, { skipPadding: false }); } catch (e) {
    if (e instanceof TlvError) throw new QrError('MALFORMED', `consumer QR data: ${e.message}`, e.tag);
    throw e;
  }
  const pfi = nodes[0];
  if (!pfi || pfi.tag !== '85' || latin1(pfi.value) !== 'CPV01') {
    throw new QrError('MALFORMED', 'consumer QR must start with payload format indicator 85 = "CPV01"', '85');
  }
  const apps = nodes.filter((n) => n.tag === '61');
  if (!apps.length) throw new QrError('MISSING_FIELD', 'consumer QR has no application template (61)', '61');
  const sensitive: ConsumerQrSensitive[] = [];
  const applications = apps.map((a) => {
    const f = flatten(a.children ?? []);
    const app: CpmApplication = { data: {} };
    const s: ConsumerQrSensitive = {};
    const aid = f.get('4F');
    if (aid) app.aid = toHex(aid);
    const label = f.get('50');
    if (label) app.label = latin1(label);
    const t2 = f.get('57');
    if (t2) {
      const t = parseTrack2(t2);
      s.track2 = toHex(t2); s.pan = t.pan; app.expiry = t.expiry;
    }
    const pan = f.get('5A');
    if (pan) s.pan = toHex(pan).replace(/F+$/, '');
    if (!s.pan) throw new QrError('MISSING_FIELD', 'application template has neither track 2 (57) nor PAN (5A)', '61');
    app.maskedPan = maskPan(s.pan);
    for (const [tag, v] of f) if (tag !== '57' && tag !== '5A' && tag !== '5F20') app.data[tag] = toHex(v);
    sensitive.push(s);
    return app;
  });
  const commonNode = nodes.find((n) => n.tag === '62');
  const common = commonNode ? Object.fromEntries([...flatten([commonNode])].map(([k, v]) => [k, toHex(v)])) : {};
  return { applications, common, sensitive };
}
