// REE health signals (root, debugger, hooking framework, emulator, developer options, device
// id, IP, location) for the attest TA's evidence. A phone reads them from the platform (Play
// Integrity verdicts, /proc/self/status TracerPid, Frida/Xposed traces, Settings.Global ...);
// here they come from a configurable source — an object or a function (in Node, a JSON file:
// ree/node healthFromFile) — so tests and the demo can raise each one. They are self-reported
// by the REE: the back end scores them, but trusts only what the TEE runtime measured.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { RelayMonitor } from './relay-monitor.ts';

export type ReeSignals = trusttap.attest.v1.ReeSignals.$Properties;

/** The source format (object or JSON). Coordinates in degrees. */
export interface HealthSnapshot {
  rooted?: boolean;
  debuggerAttached?: boolean;
  hookingFramework?: boolean;
  emulator?: boolean;
  developerOptions?: boolean;
  deviceId?: string;
  ipAddress?: string;
  location?: { latitude: number; longitude: number; accuracyM?: number } | null;
  osVersion?: string;
  appVersion?: string;
  /** Another app is registered as an HCE payment service (Android: CardEmulation services for
   *  the payment category other than this app) — the NFC relay malware pattern. */
  hcePaymentService?: boolean;
  /** An enabled accessibility service that can read or drive this app (Android:
   *  AccessibilityManager's enabled services not from the platform). */
  accessibilityPaymentAccess?: boolean;
}

/** A snapshot, or a function read on every collect() (a platform probe, a file in Node). */
export type HealthSource = HealthSnapshot | (() => HealthSnapshot);

export class HealthCollectorError extends Error {
  constructor(message: string) { super(message); this.name = 'HealthCollectorError'; }
}

const BOOL_KEYS = ['rooted', 'debuggerAttached', 'hookingFramework', 'emulator', 'developerOptions', 'hcePaymentService', 'accessibilityPaymentAccess'] as const;
const STRING_KEYS = ['deviceId', 'ipAddress', 'osVersion', 'appVersion'] as const;

function check(s: unknown, where: string): HealthSnapshot {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new HealthCollectorError(`${where}: not a JSON object`);
  const o = s as Record<string, unknown>;
  for (const k of BOOL_KEYS) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new HealthCollectorError(`${where}: ${k} must be a boolean`);
  for (const k of STRING_KEYS) if (o[k] !== undefined && typeof o[k] !== 'string') throw new HealthCollectorError(`${where}: ${k} must be a string`);
  const loc = o.location as Record<string, unknown> | null | undefined;
  if (loc !== undefined && loc !== null) {
    if (typeof loc !== 'object') throw new HealthCollectorError(`${where}: location must be {latitude, longitude}`);
    if (typeof loc.latitude !== 'number' || Math.abs(loc.latitude) > 90) throw new HealthCollectorError(`${where}: location.latitude must be a number in [-90, 90]`);
    if (typeof loc.longitude !== 'number' || Math.abs(loc.longitude) > 180) throw new HealthCollectorError(`${where}: location.longitude must be a number in [-180, 180]`);
  }
  return o as HealthSnapshot;
}

/** Reads the signals from its source on every collect(), so a test can change them between calls. */
export class HealthCollector {
  /** relay: the card reads' relay evidence (the Terminal's RelayMonitor), drained on each collect. */
  constructor(private readonly source: HealthSource, private readonly now: () => number = Date.now, private readonly relay?: RelayMonitor) {}

  snapshot(): HealthSnapshot {
    const s = this.source;
    return check(typeof s === 'function' ? s() : s, 'health source');
  }

  collect(): ReeSignals {
    const s = this.snapshot();
    return {
      rooted: !!s.rooted,
      debuggerAttached: !!s.debuggerAttached,
      hookingFramework: !!s.hookingFramework,
      emulator: !!s.emulator,
      developerOptions: !!s.developerOptions,
      deviceId: s.deviceId ?? '',
      ipAddress: s.ipAddress ?? '',
      location: s.location ? {
        latitudeE6: Math.round(s.location.latitude * 1e6),
        longitudeE6: Math.round(s.location.longitude * 1e6),
        accuracyM: Math.max(0, Math.round(s.location.accuracyM ?? 0)),
      } : null,
      osVersion: s.osVersion ?? '',
      appVersion: s.appVersion ?? '',
      collectedMs: this.now() as any,
      hcePaymentService: !!s.hcePaymentService,
      accessibilityPaymentAccess: !!s.accessibilityPaymentAccess,
      relay: this.relay ? this.relay.collect() : null,
    };
  }
}
