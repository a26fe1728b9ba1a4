// Transport to a simulated card in the same process: no radio, no daemon. tap() puts the card
// in the field; a card torn away mid-command surfaces as CardRemovedError, as IsoDep's
// TagLostException would.
import { CardEvents, CardRemovedError, type CardEvent, type CardTransport } from './transport.ts';
import { CardTornError, type InProcessCard } from '../../common/emv/in-process-card.ts';

export { CardTornError, type InProcessCard } from '../../common/emv/in-process-card.ts';

export class InProcessTransport implements CardTransport {
  private readonly events = new CardEvents();
  private present = false;

  constructor(readonly card: InProcessCard) {}

  tap(): void {
    this.card.tap();
    this.present = true;
    this.events.emit({ type: 'present', atr: this.card.atr });
  }

  remove(): void {
    if (!this.present) return;
    this.present = false;
    this.events.emit({ type: 'removed' });
  }

  async transceive(command: Uint8Array): Promise<Uint8Array> {
    if (!this.present || !this.card.inField) throw new CardRemovedError();
    try {
      return this.card.process(command);
    } catch (e) {
      if (e instanceof CardTornError) { this.remove(); throw new CardRemovedError(e.message); }
      throw e;
    }
  }

  onCardEvent(listener: (e: CardEvent) => void): () => void {
    return this.events.on(listener);
  }
}
