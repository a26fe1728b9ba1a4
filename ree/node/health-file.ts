// REE health signals from a JSON file (Node only: node:fs), re-read on every collect() so a
// test or the demo can change them between calls. The collector validates what it returns.
import { readFileSync } from 'node:fs';
import { HealthCollectorError, type HealthSnapshot } from '../attestation/collector.ts';

/** A HealthCollector source that reads `path`; a missing or unreadable file is a
 * HealthCollectorError naming it. */
export function healthFromFile(path: string): () => HealthSnapshot {
  return () => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as HealthSnapshot;
    } catch (e) {
      throw new HealthCollectorError(`${path}: ${(e as Error).message}`);
    }
  };
}
