// The reference client measuring its own shipped bundle from disk (issue 16 §2): the bytes of
// the bundle file hashed here, under the name and version of the signed manifest's `client`
// entry beside it. The hash is computed from the file, never copied from the manifest, so an
// altered bundle reports an altered hash — unless the REE itself lies (docs/threat-model.md).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseManifest, CLIENT_FILE } from '../../common/manifest.ts';
import { measureClientBundle, ClientMeasurementError, type ClientMeasurement } from '../attestation/client-measurement.ts';

/** Measures the bundle at `bundlePath` (default: the one the manifest names) under the release
 * named by `manifestPath`'s client entry. */
export function measureClientFile(manifestPath: string, bundlePath?: string): ClientMeasurement {
  const manifest = parseManifest(readFileSync(manifestPath));
  if (!manifest.client) throw new ClientMeasurementError(`${manifestPath} has no client entry (a build of TAs only)`);
  return measureClientBundle(readFileSync(bundlePath ?? join(dirname(manifestPath), CLIENT_FILE)), manifest.client);
}
