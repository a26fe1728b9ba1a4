// The terminal's state (ree/terminal/state.ts) in a JSON file: Node only (node:fs).
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StateStore, TerminalState } from '../terminal/state.ts';

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
