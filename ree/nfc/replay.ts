// Replay and record of APDU exchanges. A capture is a JSON list of {command, response} hex
// pairs. Replay answers each command with the next unused recorded response whose command has
// the same CLA INS P1 P2, whatever the command data (so a kernel with a fresh unpredictable
// number still follows a recorded tap). Record wraps any transport and keeps what passed.
// Files are Node's business: ree/node/replay-file.ts reads and writes captures.
import { fromHex, toHex } from '../../common/hex.ts';
import { headerOf } from '../../common/emv/apdu.ts';
import { CardEvents, TransportError, type CardEvent, type CardTransport } from './transport.ts';

export interface Exchange { command: string; response: string }

export function parseCapture(json: unknown): Exchange[] {
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
  constructor(readonly inner: CardTransport) {}

  async transceive(command: Uint8Array): Promise<Uint8Array> {
    const response = await this.inner.transceive(command);
    this.exchanges.push({ command: toHex(command), response: toHex(response) });
    return response;
  }

  onCardEvent(listener: (e: CardEvent) => void): () => void { return this.inner.onCardEvent(listener); }

  /** The capture as JSON text (what a capture file holds). */
  toJson(): string {
    return JSON.stringify(this.exchanges, null, 1) + '\n';
  }
}
