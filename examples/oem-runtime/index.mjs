// A phone maker's side of the conformance kit: a RuntimeFactory that starts "our TEE" (here a
// child process running tee-process.mjs) and reaches it over our own transport (length-prefixed
// frames on its stdin/stdout, frames.mjs), then runConformance from trusttap/conformance.
//
//   node index.mjs        # one line per case, then "N passed, N failed, N skipped"; exit 1 on a failure
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformance } from 'trusttap/conformance';
import { START_ID, frame, readFrames, json, unjson } from './frames.mjs';

const teeProcess = fileURLToPath(new URL('./tee-process.mjs', import.meta.url));

/** Starts the TEE process with a start request; resolves to a RuntimeUnderTest's transport and
 * close, or rejects with the TEE's own refusal (the kit checks e.g. UNKNOWN_IMPORT, HASH_MISMATCH). */
function startTee(spec) {
  // Same node and the same flags as ours, so the TEE process resolves trusttap as we do.
  const child = spawn(process.execPath, [...process.execArgv, teeProcess], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pending = new Map();
  let nextId = 1;
  let started;
  const ready = new Promise((resolve, reject) => { started = { resolve, reject }; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  readFrames(child.stdout, (id, payload) => {
    if (id === START_ID) {
      const r = unjson(payload);
      if (r.ok) started.resolve();
      else started.reject(new Error(r.error));
      return;
    }
    pending.get(id)?.resolve(payload);
    pending.delete(id);
  });
  child.on('exit', (code, signal) => {
    const err = new Error(`TEE process exited (${signal ?? code})`);
    started.reject(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  child.stdin.write(frame(START_ID, json(spec)));

  const transport = {
    exchange(request) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin.write(frame(id, request));
      });
    },
  };
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.stdin.end();
    await exited;
  };
  return ready.then(() => ({ transport, close }), async (e) => { await close(); throw e; });
}

/** Where the reference runtime keeps a TA's sealed objects (the kit tampers with them). */
function sealedObjectFiles(dataDir, taUuid) {
  const dir = join(dataDir, 'storage', taUuid.replace(/-/g, ''), 'objects');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.blob')).map((f) => join(dir, f)) : [];
}

/** What a phone maker implements: start its runtime on TAs or on a signed build, restart it on
 * the same device state, and say where sealed objects live. */
const factory = {
  name: 'OEM runtime (child process, framed stdio)',
  watchdog: true,
  async start(tas, dataDir) {
    const spec = { dataDir, tas: tas.map((t) => ({ name: t.name, uuid: t.uuid, version: t.version, wasm: Buffer.from(t.wasm).toString('base64') })) };
    let tee = await startTee(spec);
    return {
      transport: { exchange: (b) => tee.transport.exchange(b) },
      async restart() { await tee.close(); tee = await startTee(spec); },
      async close() { await tee.close(); },
    };
  },
  async startFromBuild(buildDir, dataDir) {
    const trustedKeyPem = readFileSync(join(buildDir, 'keys', 'dev-signing-key.pub.pem'), 'utf8');
    const tee = await startTee({ dataDir, buildDir, trustedKeyPem });
    return { transport: tee.transport, async restart() {}, async close() { await tee.close(); } };
  },
  sealedObjectFiles,
};

const result = await runConformance(factory);
process.exitCode = result.failed ? 1 : 0;
