// Replay and record of APDU exchanges. A capture is {transaction, random, exchanges}: the
// transaction the kernel ran (amount, currency, date, …), every random value it drew (the
// unpredictable number) in order, and the {command, response} hex pairs — so a replay runs the
// kernel exactly as it ran when the tap was recorded and the card's signed data (fDDA/CDA
// over the unpredictable number and date) verifies again. A bare list of pairs (the old form)
// is still read. Replay answers each command with the next unused recorded response whose
// command has the same CLA INS P1 P2, whatever the command data. Record wraps any transport.
// Files are Node's business: ree/node/replay-file.ts reads and writes captures.
import { fromHex, toHex } from '../../common/hex.ts';
import { headerOf } from '../../common/emv/apdu.ts';
import type { TransactionRequest } from '../emv/transaction.ts';
import { CardEvents, TransportError, type CardEvent, type CardTransport } from './transport.ts';

export interface Exchange { command: string; response: string }

/** A recorded tap: what the kernel was asked and drew, and what passed over the air. */
export interface Capture {
  transaction?: TransactionRequest;
  /** Hex of every random value the kernel drew, in order. */
  random?: string[];
  exchanges: Exchange[];
}

const HEXES = /^([0-9A-Fa-f]{2})+$/;

/** A capture document (either form) as a Capture. */
export function parseCaptureDocument(json: unknown): Capture {
  if (Array.isArray(json)) return { exchanges: parseCapture(json) };
  if (!json || typeof json !== 'object') throw new TransportError('REPLAY_INVALID', 'capture must be {transaction, random, exchanges} or a list of {command, response}');
  const d = json as Record<string, unknown>;
  const out: Capture = { exchanges: parseCapture(d.exchanges) };
  if (d.random !== undefined) {
    if (!Array.isArray(d.random) || !d.random.every((r) => typeof r === 'string' && HEXES.test(r))) throw new TransportError('REPLAY_INVALID', 'capture random must be a list of hex strings');
    out.random = d.random.map((r: string) => r.toUpperCase());
  }
  if (d.transaction !== undefined) {
    const t = d.transaction as Record<string, unknown>;
    const ok = t && typeof t === 'object' && Number.isInteger(t.amount) && typeof t.currency === 'string' && /^\d{4}$/.test(t.currency)
      && typeof t.date === 'string' && /^\d{6}$/.test(t.date) && (t.time === undefined || (typeof t.time === 'string' && /^\d{6}$/.test(t.time)))
      && (t.type === undefined || (typeof t.type === 'string' && /^\d{2}$/.test(t.type)));
    if (!ok) throw new TransportError('REPLAY_INVALID', 'capture transaction must be {amount: integer, currency: NNNN, date: YYMMDD, time?: HHMMSS, type?: NN}');
    out.transaction = t as unknown as TransactionRequest;
  }
  return out;
}

/** The random source of a replay: the capture's draws, in order, each of the recorded length. */
export function replayedRandom(draws: readonly string[]): (n: number) => Uint8Array {
  let next = 0;
  return (n) => {
    const d = draws[next++];
    if (d === undefined) throw new TransportError('REPLAY_EXHAUSTED', `the kernel drew more random values than the capture recorded (${draws.length})`);
    if (d.length !== 2 * n) throw new TransportError('REPLAY_INVALID', `the kernel drew ${n} random bytes where the capture recorded ${d.length / 2}`);
    return fromHex(d);
  };
}

/** The list of {command, response} pairs of a capture. */
export function parseCapture(json: unknown): Exchange[] {
  if (json && typeof json === 'object' && !Array.isArray(json) && 'exchanges' in json) return parseCapture((json as { exchanges: unknown }).exchanges);
  if (!Array.isArray(json)) throw new TransportError('REPLAY_INVALID', 'capture must be a JSON list of {command, response}');
  return json.map((x, i) => {
    const ok = x && typeof x === 'object' && typeof x.command === 'string' && typeof x.response === 'string'
      && /^([0-9A-Fa-f]{2}){4,}$/.test(x.command) && /^([0-9A-Fa-f]{2}){2,}$/.test(x.response);
    if (!ok) throw new TransportError('REPLAY_INVALID', `capture entry ${i} is not {command: hex (>= 4 bytes), response: hex (>= 2 bytes)}`);
    return { command: x.command.toUpperCase(), response: x.response.toUpperCase() };
  });
}

export class ReplayTransport implements CardTransport {
  private readonly events = new CardEvents();
  private readonly used: boolean[];

  constructor(readonly exchanges: Exchange[]) {
    this.used = exchanges.map(() => false);
  }

  tap(): void { this.events.emit({ type: 'present' }); }

  async transceive(command: Uint8Array): Promise<Uint8Array> {
    const header = headerOf(command);
    const i = this.exchanges.findIndex((x, k) => !this.used[k] && x.command.slice(0, 8) === header);
    if (i < 0) throw new TransportError('REPLAY_EXHAUSTED', `no recorded response left for a command with header ${header}`);
    this.used[i] = true;
    return fromHex(this.exchanges[i]!.response);
  }

  onCardEvent(listener: (e: CardEvent) => void): () => void { return this.events.on(listener); }
}

export class RecordingTransport implements CardTransport {
  readonly exchanges: Exchange[] = [];
  /** Hex of each random value drawn through recordRandom, in order. */
  readonly random: string[] = [];
  transaction: TransactionRequest | undefined;
  constructor(readonly inner: CardTransport) {}

  /** Wraps the kernel's random source so its draws are saved with the capture. */
  recordRandom(source: (n: number) => Uint8Array): (n: number) => Uint8Array {
    return (n) => {
      const r = source(n);
      this.random.push(toHex(r));
      return r;
    };
  }

  async transceive(command: Uint8Array): Promise<Uint8Array> {
    const response = await this.inner.transceive(command);
    this.exchanges.push({ command: toHex(command), response: toHex(response) });
    return response;
  }

  onCardEvent(listener: (e: CardEvent) => void): () => void { return this.inner.onCardEvent(listener); }

  /** The capture as JSON text (what a capture file holds): the transaction, the random draws
   * and the exchanges. */
  toJson(): string {
    const doc: Capture = { ...(this.transaction ? { transaction: this.transaction } : {}), random: this.random, exchanges: this.exchanges };
    return JSON.stringify(doc, null, 1) + '\n';
  }
}
