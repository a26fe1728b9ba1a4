// An NFC transport that times every APDU round trip with a monotonic clock and reports it: a
// card in the field answers in milliseconds, a card relayed over a network in tens or hundreds
// (the relay malware pattern of issue 14). The kernel sees the inner transport unchanged.
import type { CardEvent, CardTransport } from './transport.ts';
import type { MonotonicClock } from '../emv/relay-resistance.ts';

export class TimedTransport implements CardTransport {
  constructor(private readonly inner: CardTransport, private readonly clock: MonotonicClock, private readonly onRoundTrip: (us: number) => void) {}

  async transceive(command: Uint8Array): Promise<Uint8Array> {
    const t0 = this.clock.nowUs();
    try {
      return await this.inner.transceive(command);
    } finally {
      this.onRoundTrip(Math.max(0, this.clock.nowUs() - t0));
    }
  }

  /** A reader that can say a card is already in the field (the Terminal asks before waiting). */
  isPresent(): boolean {
    return (this.inner as { isPresent?: () => boolean }).isPresent?.() ?? false;
  }

  onCardEvent(listener: (e: CardEvent) => void): () => void {
    return this.inner.onCardEvent(listener);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
