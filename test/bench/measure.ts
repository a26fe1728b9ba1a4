// Measurement helpers for `npm run bench`: medians of batches, so one slow batch (GC, another
// process) does not move the figure. Benchmarks print ratios against a reference measured in
// the same run; tests never assert on time.
export interface Figure { name: string; value: number; unit: string; target?: string; ok?: boolean }
export interface Section { title: string; figures: Figure[]; notes?: string[] }

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median time per call in microseconds over `batches` batches of `n` calls. */
export function timeSync(fn: () => unknown, n = 2000, batches = 7): number {
  for (let i = 0; i < Math.min(n, 200); i++) fn(); // warm up
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    per.push(((performance.now() - t) * 1000) / n);
  }
  return median(per);
}

export async function timeAsync(fn: () => Promise<unknown>, n = 2000, batches = 7): Promise<number> {
  for (let i = 0; i < Math.min(n, 200); i++) await fn();
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) await fn();
    per.push(((performance.now() - t) * 1000) / n);
  }
  return median(per);
}

/** Two sync functions timed in alternating batches, so a change of machine load between them
 * does not bias their ratio: median µs per call of each. */
export function timePair(a: () => unknown, b: () => unknown, n = 200, batches = 15): [number, number] {
  for (let i = 0; i < Math.min(n, 100); i++) { a(); b(); }
  const ta: number[] = [], tb: number[] = [];
  for (let k = 0; k < batches; k++) {
    let t = performance.now();
    for (let i = 0; i < n; i++) a();
    ta.push(((performance.now() - t) * 1000) / n);
    t = performance.now();
    for (let i = 0; i < n; i++) b();
    tb.push(((performance.now() - t) * 1000) / n);
  }
  return [median(ta), median(tb)];
}

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/** timePair that also takes the process's CPU time per batch: medians in µs per call, wall
 * [a, b] then CPU [a, b]. On a machine shared with other work, wall time also counts the time
 * this process waited for a core; CPU time does not (it counts V8's helper threads, for both
 * sides alike), so its ratio moves less with the load. On an idle machine the two agree. */
export function timePairWithCpu(a: () => unknown, b: () => unknown, n = 200, batches = 15): [number, number, number, number] {
  for (let i = 0; i < Math.min(n, 100); i++) { a(); b(); }
  const ta: number[] = [], tb: number[] = [], ca: number[] = [], cb: number[] = [];
  for (let k = 0; k < batches; k++) {
    for (const [f, wall, cpu] of [[a, ta, ca], [b, tb, cb]] as const) {
      const t = performance.now(), c = cpuMs();
      for (let i = 0; i < n; i++) f();
      cpu.push(((cpuMs() - c) * 1000) / n);
      wall.push(((performance.now() - t) * 1000) / n);
    }
  }
  return [median(ta), median(tb), median(ca), median(cb)];
}
