// Crash-safe file replacement: write a temp file, fsync it, rename over the target, fsync the
// directory. After a crash at any point the target holds either the old or the new content.
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Test hook: called between fsync of the temp file and the rename (a crash point). */
export const atomicFaults: { beforeRename?: (path: string) => void } = {};

export function writeFileAtomic(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // A throwing hook simulates a crash here: the temp file stays behind, the target is untouched.
  atomicFaults.beforeRename?.(path);
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}
