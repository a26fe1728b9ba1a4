// What the REE side of a terminal remembers between runs: its enrolment and the pinned
// back-end keys (public data only; every secret is in the TEE).
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';

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

/** A JSON file, replaced atomically. */
export class FileStateStore implements StateStore {
  constructor(readonly path: string) {}
  load(): TerminalState | null {
    return existsSync(this.path) ? (JSON.parse(readFileSync(this.path, 'utf8')) as TerminalState) : null;
  }
  save(s: TerminalState): void {
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(`${this.path}.tmp`, JSON.stringify(s, null, 2));
    renameSync(`${this.path}.tmp`, this.path);
  }
}
