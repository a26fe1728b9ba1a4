// Capture files of APDU exchanges (ree/nfc/replay.ts) on disk: Node only (node:fs).
import { readFileSync, writeFileSync } from 'node:fs';
import { ReplayTransport, parseCapture, type RecordingTransport } from '../nfc/replay.ts';

/** A replay transport over the capture in `path` (a JSON list of {command, response} hex). */
export function replayFromFile(path: string): ReplayTransport {
  return new ReplayTransport(parseCapture(JSON.parse(readFileSync(path, 'utf8'))));
}

/** Writes what a recording transport saw to `path`. */
export function saveCapture(recording: RecordingTransport, path: string): void {
  writeFileSync(path, recording.toJson());
}
