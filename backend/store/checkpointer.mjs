// The WAL checkpointer of the embedded SQLite store (./sqlite.ts, deferred sync): a worker
// thread with a connection of its own that runs PRAGMA wal_checkpoint(PASSIVE) when the main
// thread asks, so that copying WAL frames into the database file and the two fsyncs around it
// (https://sqlite.org/wal.html#checkpointing) happen off the HTTP server's one event loop
// (issue 13 §4). PASSIVE never waits for the writer nor blocks it; the next commit on the main
// connection restarts the WAL once a checkpoint has caught up. Plain JavaScript so that the
// worker loads without a TypeScript loader (a worker does not inherit its parent's module hooks
// on Node 20), in a checkout and in the package alike.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.path, { fileMustExist: true });
// FULL: the checkpoint syncs the WAL before it copies frames and the database file after.
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 0'); // this connection never writes

parentPort.on('message', (m) => {
  if (m === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ frames: r.log, checkpointed: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
});
