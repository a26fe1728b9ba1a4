// SIMULATOR ONLY. What every simulated contactless card offers to a transport: an ATR, an APDU
// processor, and the physical state of being in the field. A card "torn" away mid-command
// throws CardTornError from process(), as a reader sees a card vanish during an exchange.
import type { InProcessCard } from '../../common/emv/in-process-card.ts';

export { CardTornError } from '../../common/emv/in-process-card.ts';

export interface SimulatedCard extends InProcessCard {
  readonly name: string;
}

/** ISO 14443-4 card ATR as PC/SC reports it (byte 5 != 4F: not a storage card) */
export const CONTACTLESS_ATR = Uint8Array.from(Buffer.from('3B8880010000000000718100F9', 'hex'));
