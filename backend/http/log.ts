// Structured request logs: one JSON line per request (pino), each with a request id taken from
// the client's x-request-id or made here, and returned in the answer's x-request-id so a client's
// report, the log and a trace meet. What a line holds is chosen field by field (route, status,
// time, device id, the decision and its reason): never a body, a header value other than the
// request id, a PAN, a PIN block or a key. The redaction list is the second line of defence, for
// an object logged by mistake: any of these fields is replaced before the line is written, at
// any depth up to MAX_DEPTH. (pino's own `redact` with wildcard paths cost ~140 µs a line here,
// more than an authorization's ECDSA checks; this walk costs about a microsecond.)
import { pino, type Logger, type DestinationStream, type Level } from 'pino';
import { randomUUID } from 'node:crypto';

export type { Logger };

/** Field names whose values never reach a log line, at the top level or one object down. */
export const REDACTED_FIELDS = [
  'pan', 'track2', 'track2Equivalent', 'sensitiveCardData', 'encryptedCardData', 'expiry',
  'pin', 'pinBlock', 'encryptedPinBlock', 'clearPinBlock',
  'key', 'keys', 'bdk', 'ipek', 'kek', 'masterKey', 'privateKey', 'secret', 'wrapped', 'tr31',
  'authorization', 'adminToken', 'metricsToken', 'token', 'activationCode', 'body',
] as const;

const REDACTED = new Set<string>(REDACTED_FIELDS);
export const CENSOR = '[redacted]';
const MAX_DEPTH = 6;

/** A copy of `o` with every field named in REDACTED_FIELDS replaced by CENSOR (objects and arrays
 * walked to MAX_DEPTH; deeper values are dropped rather than written unchecked). */
export function redactFields(o: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) out[k] = REDACTED.has(k) ? CENSOR : redactValue(o[k], depth + 1);
  return out;
}

function redactValue(v: unknown, depth: number): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1));
  if (v instanceof Uint8Array) return CENSOR; // raw bytes in a log line are key or card material until shown otherwise
  return redactFields(v as Record<string, unknown>, depth);
}

/** A logger writing JSON lines to `dest` (default stdout), with the redaction list applied. */
export function createLogger(opts: { dest?: DestinationStream; level?: Level | 'silent' } = {}): Logger {
  return pino({
    level: opts.level ?? 'info',
    base: { service: 'trusttap-backend' },
    formatters: { log: (o) => redactFields(o) },
  }, opts.dest);
}

/** A logger that writes nothing (the server's default: a library does not print on its own). */
export const silentLogger = (): Logger => pino({ level: 'silent' });

/** What a client may send as its request id: printable, short, no spaces (it is echoed in a header). */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The client's x-request-id if it is well formed, else a new UUID. */
export function requestId(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v !== undefined && REQUEST_ID.test(v) ? v : randomUUID();
}
