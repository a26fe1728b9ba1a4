// The one thing the kernel needs from NFC: send a command APDU, get the response APDU, and
// hear when a card arrives or leaves. An app implements it over its platform's NFC stack:
//
//   // Android (Kotlin side, bridged): IsoDep from NfcAdapter.enableReaderMode(FLAG_READER_NFC_A |
//   // FLAG_READER_NFC_B | FLAG_READER_SKIP_NDEF_CHECK); each transceive is isoDep.transceive(apdu);
//   // TagLostException → CardRemovedError; onTagDiscovered → { type: 'present' }.
//   const transport: CardTransport = {
//     transceive: (apdu) => bridge.isoDepTransceive(apdu).catch((e) => { throw e.tagLost ? new CardRemovedError() : e; }),
//     onCardEvent: (l) => bridge.subscribeTags(l),
//   };
//
// Implementations here: in-process (simulated cards), replay/record (captures), PC/SC.

export type CardEvent = { type: 'present'; atr?: Uint8Array } | { type: 'removed' };

export interface CardTransport {
  /** One command/response exchange; rejects with CardRemovedError if the card has gone. */
  transceive(command: Uint8Array): Promise<Uint8Array>;
  /** Card presence changes; returns the unsubscribe function. */
  onCardEvent(listener: (e: CardEvent) => void): () => void;
  close?(): Promise<void>;
}

export class CardRemovedError extends Error {
  readonly code = 'CARD_REMOVED';
  constructor(message = 'card removed from the field') { super(message); this.name = 'CardRemovedError'; }
}

export class TransportError extends Error {
  constructor(readonly code: 'NO_READER' | 'TIMEOUT' | 'PROTOCOL' | 'REPLAY_EXHAUSTED' | 'REPLAY_INVALID', message: string) {
    super(message); this.name = 'TransportError';
  }
}

/** Small listener set shared by the transports. */
export class CardEvents {
  private listeners = new Set<(e: CardEvent) => void>();
  on(l: (e: CardEvent) => void): () => void { this.listeners.add(l); return () => this.listeners.delete(l); }
  emit(e: CardEvent): void { for (const l of [...this.listeners]) l(e); }
}
