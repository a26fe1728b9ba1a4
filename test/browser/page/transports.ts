// The page's side of the reference HTTP bridge (../bridge.ts, docs/native-bridge.md): a
// TeeTransport and a CardTransport made of nothing but fetch and EventSource and what the
// package's main entry (`trusttap`, ree/index.ts) exports, as a WebView app's
// JavaScript would be over its native plugin. Bytes in, bytes out; failures become the errors the
// client library already knows (a TeeTransport failure → TeeError COMMS, a card gone →
// CardRemovedError, no answer → TransportError TIMEOUT).
import { CardRemovedError, TransportError, type CardEvent, type CardTransport, type TeeTransport } from '../../../ree/index.ts';

const OCTETS = { 'content-type': 'application/octet-stream' };

function unhex(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

async function bridgeError(r: Response): Promise<{ code: string; message: string }> {
  try {
    const e = (await r.json()) as { code?: string; message?: string };
    return { code: e.code ?? `HTTP_${r.status}`, message: e.message ?? '' };
  } catch {
    return { code: `HTTP_${r.status}`, message: r.statusText };
  }
}

/** ClientRequest bytes to the TEE, ClientResponse bytes back. No timeout of its own: a PIN entry
 * keeps its command pending while the person types, and the TEE times the entry out itself. */
export class BridgeTeeTransport implements TeeTransport {
  constructor(private readonly base: string) {}

  async exchange(request: Uint8Array): Promise<Uint8Array> {
    const r = await fetch(`${this.base}/tee`, { method: 'POST', headers: OCTETS, body: request as Uint8Array<ArrayBuffer> });
    if (r.status !== 200) {
      const e = await bridgeError(r);
      throw new Error(`TEE bridge: ${e.code} ${e.message}`);
    }
    return new Uint8Array(await r.arrayBuffer());
  }
}

/** APDUs to the card over the bridge; card arrival and removal as server-sent events. */
export class BridgeCardTransport implements CardTransport {
  private readonly listeners = new Set<(e: CardEvent) => void>();
  private readonly source: EventSource;
  private present = false;
  /** Resolves once the bridge's event stream is open (the reader is listening). */
  readonly ready: Promise<void>;

  constructor(private readonly base: string, private readonly apduTimeoutMs = 5_000) {
    this.source = new EventSource(`${base}/card/events`);
    this.ready = new Promise((resolve, reject) => {
      this.source.addEventListener('open', () => resolve(), { once: true });
      this.source.addEventListener('error', () => reject(new TransportError('NO_READER', 'the NFC bridge does not answer')), { once: true });
    });
    this.source.addEventListener('present', (m) => {
      this.present = true;
      this.emit({ type: 'present', atr: unhex((JSON.parse((m as MessageEvent<string>).data) as { atr: string }).atr) });
    });
    this.source.addEventListener('removed', () => {
      if (!this.present) return;
      this.present = false;
      this.emit({ type: 'removed' });
    });
  }

  /** The kernel's waitForCard asks this, so a card already in the field is not missed. */
  isPresent(): boolean {
    return this.present;
  }

  async transceive(command: Uint8Array): Promise<Uint8Array> {
    let r: Response;
    try {
      r = await fetch(`${this.base}/card/transceive`, { method: 'POST', headers: OCTETS, body: command as Uint8Array<ArrayBuffer>, signal: AbortSignal.timeout(this.apduTimeoutMs) });
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') throw new TransportError('TIMEOUT', `no answer from the card within ${this.apduTimeoutMs} ms`);
      throw new TransportError('PROTOCOL', `NFC bridge unreachable: ${(e as Error).message}`);
    }
    if (r.status === 200) return new Uint8Array(await r.arrayBuffer());
    const e = await bridgeError(r);
    if (e.code === 'CARD_REMOVED') throw new CardRemovedError(e.message || undefined);
    throw new TransportError('PROTOCOL', `NFC bridge: ${e.code} ${e.message}`);
  }

  onCardEvent(listener: (e: CardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private emit(e: CardEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  async close(): Promise<void> {
    this.source.close();
  }
}
