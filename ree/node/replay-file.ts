// Capture files of APDU exchanges (ree/nfc/replay.ts) on disk: Node only (node:fs).
import { readFileSync, writeFileSync } from 'node:fs';
import { ReplayTransport, parseCaptureDocument, type Capture, type RecordingTransport } from '../nfc/replay.ts';

/** The capture in `path`: {transaction, random, exchanges}, or a bare list of {command, response}. */
export function loadCapture(path: string): Capture {
  return parseCaptureDocument(JSON.parse(readFileSync(path, 'utf8')));
}

/** A replay transport over the exchanges of the capture in `path`. */
export function replayFromFile(path: string): ReplayTransport {
  return new ReplayTransport(loadCapture(path).exchanges);
}

/** Writes what a recording transport saw to `path`. */
export function saveCapture(recording: RecordingTransport, path: string): void {
  writeFileSync(path, recording.toJson());
}
