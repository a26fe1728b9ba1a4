// Issue 17 §10: TA anti-rollback. The runtime keeps the highest version of each TA it has loaded
// in the RPMB (tee/ta-floor.ts); a correctly signed but older build does not load on that device.
import { test, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeRuntime, loadTaImages } from '../../tee/index.ts';
import { compareTaVersions, parseTaVersion } from '../../common/ta-version.ts';
import { LoadError } from '../../common/load-error.ts';

test('versions compare as SemVer precedence; a non-version is refused', () => {
  expect(compareTaVersions('0.2.0', '0.1.9')).toBeGreaterThan(0);
  expect(compareTaVersions('0.10.0', '0.9.0')).toBeGreaterThan(0);
  expect(compareTaVersions('1', '1.0.0')).toBe(0);
  expect(compareTaVersions('1.0.0-rc.1', '1.0.0')).toBeLessThan(0);
  expect(() => parseTaVersion('latest')).toThrow(LoadError);
});

test('an older build of a TA does not load where a newer one was loaded; the same or a newer one does', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-floor-'));
  const { images } = loadTaImages({ only: ['keystore', 'txsign'] });
  const keystore = images.find((i) => i.name === 'keystore')!;
  const at = (v: string) => images.map((i) => (i === keystore ? { ...i, version: v } : i));

  (await TeeRuntime.start({ tas: at('0.3.0'), dataDir })).shutdown();
  const older = await TeeRuntime.start({ tas: at('0.2.9'), dataDir }).then(() => null, (e) => e);
  expect(older).toBeInstanceOf(LoadError);
  expect((older as LoadError).code).toBe('TA_ROLLBACK');
  expect((older as LoadError).message).toMatch(/TA keystore version 0\.2\.9 is older than version 0\.3\.0 this device loaded before/);
  (await TeeRuntime.start({ tas: at('0.3.0'), dataDir })).shutdown();
  (await TeeRuntime.start({ tas: at('0.4.0'), dataDir })).shutdown();
  expect(await TeeRuntime.start({ tas: at('0.3.0'), dataDir }).then(() => 'loaded', (e) => (e as LoadError).code)).toBe('TA_ROLLBACK');
  // The floor is per device: another device (data directory) loads the older build.
  (await TeeRuntime.start({ tas: at('0.2.9'), dataDir: mkdtempSync(join(tmpdir(), 'tt-floor-')) })).shutdown();
});
