// PC/SC transport for desktop contactless readers, through pcscd and the @pokusew/pcsclite
// binding. The binding is native and optional: it is loaded only when a PcscTransport opens,
// so everything else runs where it cannot be built. T=0 cards' 61xx / 6Cxx are resolved here
// (GET RESPONSE / repeat with Le), so the kernel sees whole responses as over ISO 14443-4.
import { createRequire } from 'node:module';
import { CardEvents, CardRemovedError, TransportError, type CardEvent, type CardTransport } from '../nfc/transport.ts';

/* The slice of the binding's API used here (it ships no types). */
interface PcscReader {
  name: string; state: number;
  SCARD_STATE_EMPTY: number; SCARD_STATE_PRESENT: number; SCARD_SHARE_SHARED: number; SCARD_LEAVE_CARD: number;
  on(ev: 'status', cb: (s: { state: number; atr?: Buffer }) => void): void;
  on(ev: 'end' | 'error', cb: (e?: Error) => void): void;
  connect(opts: { share_mode: number }, cb: (err: Error | null, protocol: number) => void): void;
  disconnect(disposition: number, cb: (err: Error | null) => void): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: (err: Error | null, data: Buffer) => void): void;
  close(): void;
}
interface Pcsc { on(ev: 'reader', cb: (r: PcscReader) => void): void; on(ev: 'error', cb: (e: Error) => void): void; close(): void }

/** The binding from node_modules, else from .data/pcsc-binding where .ci/setup-pcsc.sh builds it. */
export function loadPcsclite(): (() => Pcsc) | undefined {
  const places = [import.meta.url, new URL('../../.data/pcsc-binding/', import.meta.url).href];
  for (const from of places) {
    try {
      return createRequire(from)('@pokusew/pcsclite') as () => Pcsc;
    } catch { /* try the next place */ }
  }
  return undefined;
}

export interface PcscOptions {
  /** reader name to use (substring match); first reader otherwise */
  reader?: string;
  /** how long open() waits for a reader and a card */
  timeoutMs?: number;
}

export class PcscTransport implements CardTransport {
  private readonly events = new CardEvents();
  private pcsc: Pcsc | undefined;
  private reader: PcscReader | undefined;
  private protocol: number | undefined;

  /** Connect to pcscd, wait for the reader and for a card in it. */
  static async open(opts: PcscOptions = {}): Promise<PcscTransport> {
    const t = new PcscTransport();
    await t.start(opts);
    return t;
  }

  private start(opts: PcscOptions): Promise<void> {
    const factory = loadPcsclite();
    if (!factory) throw new TransportError('NO_READER', 'PC/SC binding @pokusew/pcsclite is not installed');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new TransportError('TIMEOUT', `no card in a PC/SC reader${opts.reader ? ` matching '${opts.reader}'` : ''} within ${opts.timeoutMs ?? 5000} ms`)), opts.timeoutMs ?? 5000);
      const pcsc = factory();
      this.pcsc = pcsc;
      pcsc.on('error', (e) => { clearTimeout(timer); reject(new TransportError('NO_READER', `PC/SC: ${e.message}`)); });
      pcsc.on('reader', (reader) => {
        if (this.reader || (opts.reader && !reader.name.includes(opts.reader))) return;
        this.reader = reader;
        reader.on('error', () => {});
        reader.on('status', (status) => {
          const changes = reader.state ^ status.state;
          if (changes & reader.SCARD_STATE_EMPTY && status.state & reader.SCARD_STATE_EMPTY) {
            this.protocol = undefined;
            reader.disconnect(reader.SCARD_LEAVE_CARD, () => {});
            this.events.emit({ type: 'removed' });
          } else if (changes & reader.SCARD_STATE_PRESENT && status.state & reader.SCARD_STATE_PRESENT) {
            reader.connect({ share_mode: reader.SCARD_SHARE_SHARED }, (err, protocol) => {
              if (err) return;
              this.protocol = protocol;
              this.events.emit({ type: 'present', ...(status.atr ? { atr: new Uint8Array(status.atr) } : {}) });
              clearTimeout(timer);
              resolve();
            });
          }
        });
      });
    });
  }

  private raw(cmd: Uint8Array): Promise<Uint8Array> {
    const r = this.reader, p = this.protocol;
    if (!r || p === undefined) return Promise.reject(new CardRemovedError());
    return new Promise((resolve, reject) => {
      r.transmit(Buffer.from(cmd), 258, p, (err, data) => {
        if (err) reject(this.protocol === undefined ? new CardRemovedError() : new CardRemovedError(`PC/SC transmit failed: ${err.message}`));
        // No status word: the exchange did not complete, as when the card leaves mid-command.
        else if (data.length < 2) reject(new CardRemovedError('reader returned no status word (card lost)'));
        else resolve(new Uint8Array(data));
      });
    });
  }

  async transceive(command: Uint8Array): Promise<Uint8Array> {
    let r = await this.raw(command);
    const sw1 = () => r[r.length - 2];
    // 6Cxx: wrong Le, repeat with the Le the card gave (case 2 commands only).
    if (sw1() === 0x6c && command.length <= 5) r = await this.raw(Uint8Array.from([...command.subarray(0, 4), r[r.length - 1]!]));
    let data = r.subarray(0, r.length - 2);
    while (r.length >= 2 && sw1() === 0x61) {
      r = await this.raw(Uint8Array.of(command[0]! & 0x03, 0xc0, 0x00, 0x00, r[r.length - 1]!));
      data = Uint8Array.from([...data, ...r.subarray(0, r.length - 2)]);
    }
    return Uint8Array.from([...data, ...r.subarray(r.length - 2)]);
  }

  onCardEvent(listener: (e: CardEvent) => void): () => void { return this.events.on(listener); }

  async close(): Promise<void> {
    const r = this.reader;
    this.reader = undefined;
    if (r && this.protocol !== undefined) await new Promise<void>((res) => r.disconnect(r.SCARD_LEAVE_CARD, () => res()));
    this.protocol = undefined;
    this.pcsc?.close();
    this.pcsc = undefined;
  }
}
