// What one fuzz target found (issue 17 §8): every input is exactly one of ok (an answer, or a
// typed refusal), crash (the runtime, host or server failed: an untyped exception, a dead
// process, a 5xx, a refused connection), hang (no answer within the target's deadline) or trap
// (a TA died, TARGET_DEAD). Traps made on purpose are counted apart from the ones fuzz found.
export interface Counts {
  target: string;
  inputs: number;
  crashes: number;
  hangs: number;
  traps: number;
  /** Traps caused on purpose (each checked: TARGET_DEAD, then a new session that works). */
  trapsOnPurpose: number;
  /** Inputs that got a success answer (a TA's SUCCESS, an HTTP 2xx): the fuzz reaches past the decoders. */
  accepted: number;
  ms: number;
  /** TA targets: PIN entries in which the simulated person typed the canary PIN (pin-watch.ts). */
  pinsTyped?: number;
  /** TA targets: of those, the entries that ended in an (encrypted) PIN block. */
  pinBlocks?: number;
  /** The first few findings, to replay (never logged elsewhere). */
  findings: string[];
}

export const newCounts = (target: string): Counts => ({ target, inputs: 0, crashes: 0, hangs: 0, traps: 0, trapsOnPurpose: 0, accepted: 0, ms: 0, findings: [] });

export function finding(c: Counts, what: string): void {
  if (c.findings.length < 10) c.findings.push(what);
}

/** The closing line the issue asks for: `N inputs, C crashes, H hangs, T traps`. */
export const closingLine = (c: Counts): string => `${c.inputs} inputs, ${c.crashes} crashes, ${c.hangs} hangs, ${c.traps} traps`;

export const rate = (c: Counts): string => `${Math.round(c.inputs / Math.max(c.ms, 1) * 1000)} inputs/s`;

/** Rejects after `ms` with a Hang: the input counts as a hang. */
export class Hang extends Error {}
export function deadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Hang(`no answer in ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}
