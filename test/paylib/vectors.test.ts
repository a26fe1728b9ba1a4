// The four published vector files of issue 3, through ta/lib (AssemblyScript) via the runner.
import { describe, expect, test } from 'vitest';
import { loadOps, readVectorFile, runVectors } from '../vectors/runner.ts';
import { PUBLISHED_DIR } from '../vectors/published.ts';

const dir = PUBLISHED_DIR;

describe('published vectors through ta/lib', () => {
  for (const f of ['mac', 'dukpt-tdes', 'dukpt-aes', 'tr31']) {
    test(`${f}.json: every vector passes, none skipped`, async () => {
      const file = readVectorFile(`${dir}${f}.json`);
      const r = await runVectors(file, await loadOps());
      // Failures name vector id and field only (expected values are in the published file).
      expect(r.failures.map((x) => `${x.id}.${x.field}`)).toEqual([]);
      expect(r.skippedOps).toEqual([]);
      expect(r.passed).toBe(file.vectors.length);
    });
  }
});
