// SIMULATOR ONLY. A monotonic clock that moves only when told to: the kernel reads it to time
// EXCHANGE RELAY RESISTANCE DATA (Book C-2 §3.10) and the simulated card advances it by the time
// a real exchange would take, so relay tests are exact and never sleep.
export class SimulatedClock {
  private us = 0;
  constructor(startUs = 0) { this.us = startUs; }
  nowUs(): number { return this.us; }
  advance(us: number): void {
    if (!(us >= 0) || !Number.isFinite(us)) throw new RangeError(`a monotonic clock cannot move by ${us} µs`);
    this.us += us;
  }
}
