// The TEE side of this example: a separate process standing in for the phone's TEE. It runs
// TrustTap's reference runtime (`trusttap/runtime`) — a phone maker runs its own Wasm runtime
// here — and serves TEE Client API envelopes over the frames of frames.mjs on stdin/stdout.
//
// The start frame (id 0) says what to load, and is answered {ok: true} or {ok: false, error}:
//   {dataDir, tas: [{name, uuid, version, wasm: base64}]}   test TAs given by the kit
//   {dataDir, buildDir, trustedKeyPem}                      a signed build (manifest + TAs)
import { TeeRuntime, InProcessTeeDriver, startRuntimeFromBuild } from 'trusttap/runtime';
import { START_ID, frame, readFrames, json, unjson } from './frames.mjs';

// One worker per TA with a 2 s budget per command: a runaway TA is stopped by the watchdog.
const runtimeOptions = { isolation: 'worker', timeBudgetMs: 2000 };
let runtime = null;
let driver = null;
const send = (id, payload) => process.stdout.write(frame(id, payload));

async function start(spec) {
  if (spec.buildDir) {
    return startRuntimeFromBuild({ ...runtimeOptions, buildDir: spec.buildDir, dataDir: spec.dataDir, trustedKeyPem: spec.trustedKeyPem });
  }
  const tas = spec.tas.map((t) => ({ name: t.name, uuid: t.uuid, version: t.version, wasm: new Uint8Array(Buffer.from(t.wasm, 'base64')) }));
  return TeeRuntime.start({ ...runtimeOptions, tas, dataDir: spec.dataDir });
}

readFrames(process.stdin, (id, payload) => {
  if (id === START_ID) {
    start(unjson(payload)).then(
      (rt) => { runtime = rt; driver = new InProcessTeeDriver(rt); send(START_ID, json({ ok: true })); },
      (e) => send(START_ID, json({ ok: false, error: e instanceof Error ? e.message : String(e) })),
    );
    return;
  }
  // The runtime answers every envelope, malformed ones included (a COMMS error), so one
  // request always gets one answer.
  driver.exchange(payload).then((answer) => send(id, answer));
});

// The REE closed the channel: stop the runtime and leave.
process.stdin.on('end', () => {
  runtime?.shutdown();
  process.exit(0);
});
