// SIMULATED ISSUER as an acquirer's upstream (issue 16 §1, route 'upstream'): answers the JSON
// authorization message of backend/authorization/upstream.ts (docs/backend-api.md "Upstream
// authorization message") with the simulated issuer's own decision — the same code the local
// route runs (./card-authorization.ts): the card known, the online PIN under the zone PIN key
// compared with its PVV in the HSM (Hsm.verifyZpkPin), the ARQC and ATC, status, expiry, funds.
// Its card accounts are its own (its own store, seeded with the test cards); its keys are in the
// HSM it is given. TEST ONLY: `trusttap issuer-serve` gives it the back end's HSM, standing for
// both ends of the zone PIN key; a real issuer holds the ZPK its acquirer exchanged with it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { Repository } from '../store/repository.ts';
import { DEFAULT_ACQUIRER } from '../store/repository.ts';
import type { Hsm } from '../hsm/hsm.ts';
import { IssuerSim } from './index.ts';
import { authorizeCard } from './card-authorization.ts';
import { parseTlv } from '../authorization/tlv.ts';
import { RESPONSE_CODE } from '../authorization/response-codes.ts';
import { UPSTREAM_VERSION, type UpstreamAnswer, type UpstreamRequest } from '../authorization/upstream.ts';

const R = trusttap.payment.v1.DeclineReason;
/** Larger bodies are refused before they are read whole (a message is well under 2 KiB). */
const MAX_BODY = 16 * 1024;

/** A message the upstream cannot decide on: HTTP 400 with this text. */
export class UpstreamMessageError extends Error {
  constructor(message: string) { super(message); this.name = 'UpstreamMessageError'; }
}

/** The message, checked field by field (a bad one is an UpstreamMessageError, never a decision). */
export function parseUpstreamRequest(v: unknown): UpstreamRequest {
  const bad = (why: string) => new UpstreamMessageError(why);
  const m = v as UpstreamRequest;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw bad('the message is not a JSON object');
  if (m.version !== UPSTREAM_VERSION) throw bad(`version must be ${UPSTREAM_VERSION}`);
  for (const k of ['acquirerId', 'merchantId', 'terminalId', 'clientTransactionId', 'reference', 'maskedPan'] as const) {
    if (typeof m[k] !== 'string' || m[k].length > 64) throw bad(`${k} must be a string of at most 64 characters`);
  }
  if (m.type !== 'purchase' && m.type !== 'refund') throw bad('type must be purchase or refund');
  if (!Number.isSafeInteger(m.amountMinor) || m.amountMinor <= 0) throw bad('amountMinor must be a whole number > 0');
  if (typeof m.currency !== 'string' || !/^\d{3}$/.test(m.currency)) throw bad('currency must be an ISO 4217 numeric code');
  if (!Number.isSafeInteger(m.timeMs)) throw bad('timeMs must be a whole number');
  const c = m.card;
  if (typeof c !== 'object' || c === null) throw bad('card is missing');
  if (typeof c.pan !== 'string' || !/^\d{12,19}$/.test(c.pan)) throw bad('card.pan must be 12..19 digits');
  if (typeof c.psn !== 'string' || !/^\d{2}$/.test(c.psn)) throw bad('card.psn must be 2 digits');
  if (typeof c.expiry !== 'string' || !/^(\d{4})?$/.test(c.expiry)) throw bad('card.expiry must be YYMM or empty');
  if (typeof c.iccData !== 'string' || !/^([0-9a-fA-F]{2}){1,1024}$/.test(c.iccData)) throw bad('card.iccData must be hex');
  if (m.pin !== undefined) {
    const p = m.pin;
    if (typeof p !== 'object' || p === null || p.format !== 'ISO-9564-4') throw bad('pin.format must be ISO-9564-4');
    if (typeof p.block !== 'string' || !/^[0-9a-fA-F]{32}$/.test(p.block)) throw bad('pin.block must be 16 bytes of hex');
    if (typeof p.zpkId !== 'string' || !/^[A-Za-z0-9._-]{1,48}$/.test(p.zpkId)) throw bad('pin.zpkId must be a key id');
  }
  return m;
}

/** The simulated issuer's answer to one message (runs in its store's transaction). */
export async function answerUpstream(repo: Repository, hsm: Hsm, issuer: IssuerSim, body: unknown): Promise<UpstreamAnswer> {
  const m = parseUpstreamRequest(body);
  let icc: Map<string, Uint8Array>;
  try {
    icc = parseTlv(Buffer.from(m.card.iccData, 'hex'));
  } catch (e) {
    throw new UpstreamMessageError(`card.iccData is not BER-TLV: ${(e as Error).message}`);
  }
  const block = m.pin ? Uint8Array.from(Buffer.from(m.pin.block, 'hex')) : null;
  const d = await repo.transaction(() => authorizeCard(issuer, hsm, {
    keysOf: DEFAULT_ACQUIRER, pan: m.card.pan, psn: m.card.psn, chipExpiry: m.card.expiry, icc, type: m.type, amountMinor: m.amountMinor,
    currency: m.currency, reference: m.reference, nowMs: m.timeMs,
    pin: m.pin ? (pvkId, pvv) => hsm.verifyZpkPin(m.pin!.zpkId, block!, m.card.pan, pvkId, pvv) : undefined,
  }));
  return {
    version: UPSTREAM_VERSION, approved: d.reason === R.DECLINE_REASON_NONE, responseCode: RESPONSE_CODE[d.reason], reason: R[d.reason],
    reasonText: d.text, arpc: Buffer.from(d.arpc).toString('hex'), issuerAuthenticationData: Buffer.from(d.iad).toString('hex'),
  };
}

export interface UpstreamIssuer {
  /** The authorization URL (POST): http://host:port/v1/authorize. */
  url: string;
  issuer: IssuerSim;
  close(): Promise<void>;
}

/** Serves POST /v1/authorize on the port (0 = any free one) on 127.0.0.1 unless host is given,
 * after issuing the test cards into repo (kept across restarts, like the back end's). */
export async function startUpstreamIssuer(o: { repo: Repository; hsm: Hsm; port?: number; host?: string }): Promise<UpstreamIssuer> {
  const issuer = new IssuerSim(o.repo, o.hsm);
  await issuer.seed();
  const server = createServer((req, res) => void serve(req, res));
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, v: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    try {
      if (req.method !== 'POST' || req.url !== '/v1/authorize') return send(404, { error: 'POST /v1/authorize only' });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > MAX_BODY) return send(413, { error: `the message is above ${MAX_BODY} bytes` });
        chunks.push(c as Buffer);
      }
      let body: unknown;
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { return send(400, { error: 'the body is not JSON' }); }
      send(200, await answerUpstream(o.repo, o.hsm, issuer, body));
    } catch (e) {
      if (e instanceof UpstreamMessageError) return send(400, { error: e.message });
      send(500, { error: 'the issuer failed to decide' }); // the acquirer declines ISSUER_UNAVAILABLE
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}/v1/authorize`, issuer,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
