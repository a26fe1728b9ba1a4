// What the REE side of a terminal remembers between runs: its enrolment and the pinned
// back-end keys (public data only; every secret is in the TEE). Where it is kept is the app's
// choice: a StateStore over the platform's storage (a file in Node: ree/node FileStateStore).

export interface TerminalState {
  deviceId: string;
  merchantId: string;
  terminalId: string;
  lastCounter: number;
  keys: { response: string; token: string; keyAgreement: string } | null;
  dukptKeyId: string;
}

export interface StateStore {
  load(): TerminalState | null;
  save(s: TerminalState): void;
}

export class MemoryStateStore implements StateStore {
  private s: TerminalState | null = null;
  load() { return this.s ? { ...this.s } : null; }
  save(s: TerminalState) { this.s = { ...s }; }
}
