// A contactless card that lives in the same process as its reader: what the card simulators
// (sim/cards) implement and the in-process transport (ree/nfc/in-process.ts) drives. Shared
// here because the simulators may not import ree/ and the client may not import sim/.

/** Thrown by an in-process card that leaves the field while processing a command. */
export class CardTornError extends Error {
  constructor() { super('card left the field during the command'); this.name = 'CardTornError'; }
}

/** A card living in this process (the simulators in sim/cards). */
export interface InProcessCard {
  readonly atr: Uint8Array;
  readonly inField: boolean;
  /** a new tap: power on, reset selection state */
  tap(): void;
  process(apdu: Uint8Array): Uint8Array;
}
