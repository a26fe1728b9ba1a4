// The Node-only part of the client library: what exists only where there is a file system or
// a PC/SC daemon. Nothing else in ree/ imports this folder, so the client's browser entry
// points (ree/terminal, ree/tee-client, the kernel) never reach a Node built-in.
export { FileStateStore } from './state.ts';
export { PcscTransport, loadPcsclite } from './pcsc.ts';
export { loadCapture, replayFromFile, saveCapture } from './replay-file.ts';
export { healthFromFile } from './health-file.ts';
export { measureClientFile } from './client-bundle.ts';
