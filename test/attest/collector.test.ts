// The REE health-signal collector: a JSON file through ree/node healthFromFile (re-read on every
// collect, so a test or the demo can raise a signal while the app runs) or an object; malformed
// sources are refused by name.
import { test, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthCollector, HealthCollectorError } from '../../ree/attestation/collector.ts';
import { healthFromFile } from '../../ree/node/index.ts';

test('a JSON file source is read on every collect; coordinates become fixed point', () => {
  const f = join(mkdtempSync(join(tmpdir(), 'tt-health-')), 'health.json');
  writeFileSync(f, JSON.stringify({ deviceId: 'a1', ipAddress: '192.0.2.1', location: { latitude: 31.2304, longitude: -121.4737, accuracyM: 12.6 } }));
  const c = new HealthCollector(healthFromFile(f), () => 42);
  const s = c.collect();
  expect(s).toMatchObject({ rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false, deviceId: 'a1', ipAddress: '192.0.2.1', collectedMs: 42 });
  expect(s.location).toEqual({ latitudeE6: 31230400, longitudeE6: -121473700, accuracyM: 13 });
  for (const k of ['rooted', 'debuggerAttached', 'hookingFramework', 'emulator', 'developerOptions'] as const) {
    writeFileSync(f, JSON.stringify({ [k]: true }));
    expect(c.collect()[k]).toBe(true);
  }
});

test.each([
  [{ rooted: 'yes' }, /rooted must be a boolean/],
  [{ deviceId: 7 }, /deviceId must be a string/],
  [{ location: { latitude: 91, longitude: 0 } }, /latitude must be a number in \[-90, 90\]/],
  [[1, 2], /not a JSON object/],
])('a malformed source %j is refused with the field named', (src, why) => {
  expect(() => new HealthCollector(src as any).collect()).toThrow(HealthCollectorError);
  expect(() => new HealthCollector(src as any).collect()).toThrow(why);
});

test('an unreadable file is a HealthCollectorError naming it', () => {
  expect(() => new HealthCollector(healthFromFile('/nonexistent/health.json')).collect()).toThrow(/\/nonexistent\/health.json/);
});
