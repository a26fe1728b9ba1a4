// The C host behind the pinpad and attest fixtures' runtime hooks (test/pinpad/fixture.ts
// setPhoneRuntime, test/attest/device.ts setDeviceRuntime), as c-host-bench.ts is for the keystore
// fixture: the same TA bytes on tt-host, the trusted UI through its secure display channel
// (CHostTransport `ui`), injected clocks through the test build's clock files, boot state and
// manifest hash on its command line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PhoneRuntimeFactory } from '../pinpad/fixture.ts';
import type { DeviceRuntimeFactory, BootState } from '../attest/device.ts';
import { startCHost } from './c-host.ts';
import { cBenchRuntime } from './c-host-bench.ts';

/** The runtime version the C host's measurements carry (tee-c names itself). */
export const C_RUNTIME_VERSION = '0.1.0-c';

/** Backs now[key] by a file the C host's test build reads as its clock. */
function clockFile(now: Record<string, number>, key: string, file: string): void {
  let v = now[key];
  writeFileSync(file, String(v));
  Object.defineProperty(now, key, { get: () => v, set: (x: number) => { v = x; writeFileSync(file, String(x)); }, enumerable: true, configurable: true });
}

/** The clock arguments for a phone's clocks, made once per clocks object (restarts reuse them). */
const clockArgs = new WeakMap<object, string[]>();
function clocks(now: { ree: number; mono: number }): string[] {
  let args = clockArgs.get(now);
  if (!args) {
    const side = mkdtempSync(join(tmpdir(), 'tt-cpin-clock-'));
    clockFile(now as unknown as Record<string, number>, 'ree', join(side, 'ree'));
    clockFile(now as unknown as Record<string, number>, 'mono', join(side, 'mono'));
    args = ['--test-ree-time-file', join(side, 'ree'), '--test-mono-time-file', join(side, 'mono')];
    clockArgs.set(now, args);
  }
  return args;
}

export const cPhoneRuntime: PhoneRuntimeFactory = {
  name: 'C host',
  caps: { workerIsolation: false, syncDriver: false },
  bench: cBenchRuntime, // the key-import template is made on the C host too
  async start(tas, dataDir, o) {
    if (o.isolation !== 'in-process') throw new Error(`the C host has no ${o.isolation} isolation`);
    const t = await startCHost(tas, dataDir, { ui: o.ui, extraArgs: o.now ? clocks(o.now) : [] });
    return { transport: t, close: () => t.close() };
  },
};

const BOOT: Record<BootState, number> = { unspecified: 0, verified: 1, 'self-signed': 2, unlocked: 3, failed: 4 };

export const cDeviceRuntime: DeviceRuntimeFactory = {
  name: 'C host',
  caps: { runtimeVersion: C_RUNTIME_VERSION, workerIsolation: false },
  async start(tas, dataDir, o) {
    if ((o.isolation ?? 'in-process') !== 'in-process') throw new Error(`the C host has no ${o.isolation} isolation`);
    const t = await startCHost(tas, dataDir, { extraArgs: ['--boot-state', String(BOOT[o.bootState]), '--manifest-sha256', o.manifestSha256] });
    return { transport: t, close: () => t.close() };
  },
};
