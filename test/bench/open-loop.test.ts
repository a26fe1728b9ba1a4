// The open-loop load generator (test/bench/open-loop.ts) against fake connections: every request
// is sent once, each device's in its order and never two at once on a connection, every answer
// is counted, and a latency runs from the due time (so it is never shorter than the server's own
// delay). No assertion on time itself.
import { expect, test } from 'vitest';
import { openLoop } from './open-loop.ts';
import type { RawAnswer, RawHttpConnection } from './raw-http.ts';

function fakeConnection(log: string[], name: string, delayMs: number) {
  let busy = false;
  return {
    send(request: Buffer): Promise<RawAnswer> {
      expect(busy, `${name}: a second request while one is in flight`).toBe(false);
      busy = true;
      log.push(request.toString());
      return new Promise((resolve) => setTimeout(() => { busy = false; resolve({ status: 200, body: Buffer.from(request) }); }, delayMs));
    },
  } as unknown as RawHttpConnection;
}

test('sends each device\'s requests in order, one at a time, and answers all of them', async () => {
  const log: string[] = [];
  const queues = [0, 1, 2].map((d) => Array.from({ length: d === 2 ? 3 : 6 }, (_, j) => Buffer.from(`d${d}-${j}`)));
  const conns = [0, 1, 2].map((d) => fakeConnection(log, `d${d}`, 3));
  const answered: string[] = [];
  const r = await openLoop(queues, conns, 2000, (a) => answered.push(a.body.toString()));
  expect(r.latencies).toHaveLength(15);
  expect(answered.sort()).toEqual(queues.flat().map(String).sort());
  for (const d of [0, 1, 2]) {
    const mine = log.filter((l) => l.startsWith(`d${d}-`));
    expect(mine).toEqual(queues[d]!.map(String));
  }
  // Each answer takes the fake server a 3 ms timer after sending (libuv's millisecond clock may
  // make that as little as 2 ms), and sending is never before the due time.
  expect(Math.min(...r.latencies)).toBeGreaterThanOrEqual(1.9);
  expect(r.rate).toBeGreaterThan(0);
});

test('a device that is still busy makes its next request wait, and that wait is in the latency', async () => {
  // 2,000/s offered to one device whose every answer takes 10 ms: its requests queue.
  const log: string[] = [];
  const queues = [Array.from({ length: 5 }, (_, j) => Buffer.from(`d0-${j}`))];
  const r = await openLoop(queues, [fakeConnection(log, 'd0', 10)], 2000, () => {});
  expect(log).toEqual(queues[0]!.map(String));
  expect(r.queued).toBeGreaterThanOrEqual(4); // all but the first were due while it was busy
  // The last was due 2 ms after the first but answered after five 10 ms timers (each ≥ 9 ms on libuv's clock).
  expect(r.latencies[4]).toBeGreaterThanOrEqual(35);
});

test('the warm-up requests are sent on the schedule but not counted', async () => {
  const log: string[] = [];
  const queues = [0, 1].map((d) => Array.from({ length: 4 }, (_, j) => Buffer.from(`d${d}-${j}`)));
  let answers = 0;
  const r = await openLoop(queues, [0, 1].map((d) => fakeConnection(log, `d${d}`, 2)), 1000, () => answers++, 3);
  expect(log).toHaveLength(8);
  expect(answers).toBe(8);
  expect(r.latencies).toHaveLength(5);
});
