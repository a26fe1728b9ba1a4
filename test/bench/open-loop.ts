// An open-loop load generator (constant arrival rate, as wrk2 and k6's constant-arrival-rate
// executor drive a server): request k is due at start + k / rate whatever the server does, the
// devices take turns (request k belongs to device k mod D), and a device sends its next request
// only when its previous one is answered (a phone makes one payment at a time; its counters must
// arrive in order). Each latency runs from when the request was due, not from when it was sent,
// so a server that falls behind is charged for the queue it causes (no coordinated omission).
// The rate achieved is the answers over the time from the first due request to the last answer.
// The first `warmup` requests (in due order) run on the same schedule but are not counted: a
// server that has been idle meets the first ones with cold caches and an empty pipeline, a
// start-up transient, not its steady state.
import type { RawAnswer, RawHttpConnection } from './raw-http.ts';

export interface OpenLoopResult {
  /** ms from each counted request's due time to its answer, in the order answered. */
  latencies: number[];
  /** counted answers per second over [the first counted request's due time, the last answer]. */
  rate: number;
  /** counted requests that were sent 1 ms or more after they were due (their device still busy,
   * or this process late: it shares the machine with the server). */
  queued: number;
  /** ms from each counted request's due time to its sending whose device was free when it fell
   * due: the load generator's own lateness (its timers, its turn on a core). */
  lateness: number[];
}

/** `queues[i]`: device i's prepared requests, in order, on `conns[i]`. */
export async function openLoop(queues: Buffer[][], conns: RawHttpConnection[], ratePerS: number, onAnswer: (a: RawAnswer) => void, warmup = 0): Promise<OpenLoopResult> {
  const devices = queues.length;
  const total = queues.reduce((n, q) => n + q.length, 0);
  // The order of due times: device k mod D, skipping devices whose list has ended.
  const order: number[] = [];
  const next = new Array<number>(devices).fill(0);
  for (let k = 0; order.length < total; k++) {
    const i = k % devices;
    if (next[i]! < queues[i]!.length) { order.push(i); next[i]!++; }
  }
  const pending: { due: number; k: number }[][] = Array.from({ length: devices }, () => []); // waiting per device
  const busy = new Array<boolean>(devices).fill(false);
  const sent = new Array<number>(devices).fill(0);
  const latencies: number[] = [];
  const lateness: number[] = [];
  let queued = 0;
  let answered = 0;
  let lastAnswer = 0;
  const start = performance.now() + 5;
  const dueAt = (k: number) => start + (k * 1000) / ratePerS;
  let released = 0;

  return new Promise<OpenLoopResult>((resolve, reject) => {
    const send = (i: number, free: boolean) => {
      const { due, k } = pending[i]!.shift()!;
      busy[i] = true;
      const late = performance.now() - due;
      if (k >= warmup && late >= 1) queued++;
      if (k >= warmup && free) lateness.push(late);
      conns[i]!.send(queues[i]![sent[i]!++]!).then((a) => {
        const now = performance.now();
        if (k >= warmup) latencies.push(now - due);
        lastAnswer = now;
        onAnswer(a);
        busy[i] = false;
        if (pending[i]!.length) send(i, false);
        if (++answered === total) resolve({ latencies, rate: latencies.length / ((lastAnswer - dueAt(Math.min(warmup, total - 1))) / 1000), queued, lateness });
      }, reject);
    };
    // Release every request that is due, then sleep until the next one is (timers are ~1 ms
    // coarse, so at 1,000/s a tick releases one or two: the schedule, not the tick, sets the time).
    const tick = () => {
      const now = performance.now();
      while (released < total && dueAt(released) <= now) {
        const i = order[released]!;
        pending[i]!.push({ due: dueAt(released), k: released });
        released++;
        if (!busy[i]) send(i, true);
      }
      if (released < total) setTimeout(tick, Math.max(0, dueAt(released) - performance.now()));
    };
    setTimeout(tick, 5);
  });
}
