// Host services for one TA: its sealed storage, HUK derivation, crypto operation table, clock
// and random source, wired from the runtime's configuration. Randomness and time are
// injectable so tests and vectors are deterministic.
import { randomFillSync } from 'node:crypto';
import type { HostServices, TaIdentity, TaSessions } from './abi/context.ts';
import { CryptoOps } from './crypto/ops.ts';
import { SealedStorage } from './storage/sealed.ts';
import type { Huk } from './huk.ts';

export interface ServiceOptions {
  storageDir: string;
  huk: Huk;
  random?: (out: Uint8Array) => void;
  clockMs?: () => number;
  reeTimeMs?: () => number;
  log?: (ta: string, line: string) => void;
}

const noSessions: TaSessions = {
  open: () => 0xffff000a | 0, // ERROR_NOT_SUPPORTED: no runtime to route to
  invoke: () => ({ status: 0xffff000a, payload: new Uint8Array(0) }),
  close: () => {},
  closeAll: () => {},
};

const start = performance.now();

export function createServices(ta: TaIdentity, opts: ServiceOptions, sessions: TaSessions = noSessions): HostServices {
  return {
    ta,
    storage: new SealedStorage(opts.storageDir, ta.uuid, opts.huk),
    crypto: new CryptoOps(),
    hukDerive: (label, len) => opts.huk.derive(ta.uuid, label, len),
    random: opts.random ?? ((out) => randomFillSync(out)),
    clockMs: opts.clockMs ?? (() => performance.now() - start),
    reeTimeMs: opts.reeTimeMs ?? (() => Date.now()),
    sessions,
    log: (line) => opts.log?.(ta.name, line),
    abort: (message) => opts.log?.(ta.name, `abort: ${message}`),
  };
}
