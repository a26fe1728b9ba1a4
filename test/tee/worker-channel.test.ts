// The worker isolation's call channel (tee/host/channel.ts) and the copies around it: a message's
// header words and bytes cross both ways; a side that sleeps in Atomics.wait is woken by the
// other's post (notify goes only to a sleeping side, so a lost wake-up would hang the call: the
// waits here end with a failure after 20 s instead); every reply the runtime hands out is its own
// copy, in both isolations.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Channel, State, CHANNEL_BYTES } from '../../tee/host/channel.ts';
import { TeeRuntime } from '../../tee/index.ts';
import { kitTaWasm } from '../../conformance/assets.ts';
import { Status } from '../../proto/status.ts';

const LIVENESS_MS = 20_000;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('channel between two threads', () => {
  let ch: Channel;
  let peer: Worker;
  beforeAll(() => {
    ch = Channel.create();
    peer = new Worker(new URL('./fixtures/channel-peer.mjs', import.meta.url), { workerData: { sab: ch.sab } });
    expect(ch.waitWhile(State.IDLE, 60_000)).toBe(State.READY);
  }, 120_000);
  afterAll(() => peer?.terminate());

  function call(op: number, a: number, b: number, c: number, data: Uint8Array): { state: number | null; a: number; b: number; c: number; data: Uint8Array } {
    ch.post(State.CALL, op, a, b, c, data);
    let state: number | null = State.CALL;
    while (state === State.CALL) state = ch.waitWhile(State.CALL, LIVENESS_MS);
    return { state, a: ch.a, b: ch.b, c: ch.c, data: ch.data() };
  }

  test.each([0, 1, 40, 64 * 1024])('a %i-byte message and its answer cross intact', (n) => {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
    const r = call(1, 41, -5, 0x7fffffff, data);
    expect(r).toEqual({ state: State.DONE, a: 42, b: 0x7fffffff, c: -5, data: data.slice().reverse() });
  });

  test('an answer read with data() is a copy: the next message does not change it', () => {
    const first = call(1, 0, 0, 0, Uint8Array.of(1, 2, 3)).data;
    call(1, 0, 0, 0, Uint8Array.of(9, 9, 9));
    expect([...first]).toEqual([3, 2, 1]);
  });

  test('a message larger than the channel is refused before anything is written', () => {
    expect(() => ch.post(State.CALL, 1, 0, 0, 0, new Uint8Array(CHANNEL_BYTES))).toThrow(RangeError);
    expect(ch.state).toBe(State.DONE);
  });

  test('a peer asleep in Atomics.wait is woken by the next call', async () => {
    call(1, 0, 0, 0, new Uint8Array(0));
    // After its answer the peer spins, then sleeps until the next CALL.
    for (let waited = 0; ch.sleepers === 0; waited += 5) {
      if (waited > LIVENESS_MS) throw new Error('the peer never went to sleep');
      await pause(5);
    }
    expect(call(1, 7, 0, 0, Uint8Array.of(5)).state).toBe(State.DONE);
  });

  test('a caller asleep in Atomics.wait is woken by the answer', () => {
    // The peer computes for 200 ms, far past the caller's spin: the caller sleeps, and the
    // answer must wake it (a missing notify would leave it asleep until LIVENESS_MS: null).
    const r = call(2, 200, 0, 0, Uint8Array.of(1, 2));
    expect(r.state).toBe(State.DONE);
    expect(r.a).toBe(201);
  });
});

describe.each(['in-process', 'worker'] as const)('replies are the runtime\'s own copies (%s)', (isolation) => {
  let rt: TeeRuntime;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tt-chan-'));
    rt = await TeeRuntime.start({ tas: [{ name: 'probe', uuid: '0c0fe7a0-0000-4000-8000-00000000c0de', version: '1', wasm: kitTaWasm('probe') }], dataDir: dir, isolation });
  }, 120_000);
  afterAll(() => { rt?.shutdown(); rmSync(dir, { recursive: true, force: true }); });

  test('an ECHO reply keeps its bytes across later commands, and a request changed after the call changes nothing', () => {
    const s = rt.openSession({ name: 'probe' }).session!;
    const request = Uint8Array.of(1, 2, 3, 4);
    const first = rt.invoke(s, 9, request);
    request.fill(0xee);
    const second = rt.invoke(s, 9, Uint8Array.of(7, 7, 7, 7, 7, 7));
    expect(first.status).toBe(Status.SUCCESS);
    expect(second.status).toBe(Status.SUCCESS);
    expect([...first.payload!]).toEqual([1, 2, 3, 4]);
    expect([...second.payload!]).toEqual([7, 7, 7, 7, 7, 7]);
    expect(rt.closeSession(s).status).toBe(Status.SUCCESS);
  });
});
