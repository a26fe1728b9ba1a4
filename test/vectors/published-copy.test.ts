// The repository carries its own copy of the published vectors (test/vectors/published/), so a
// clone needs nothing beside it. Where the project's shared vector folder sits beside the
// checkout (../shared/vectors, as in the project's CI), this test compares the two byte for byte
// and names every file that differs or exists on one side only, so an update there is noticed
// and copied in (cp -r ../shared/vectors/. test/vectors/published/). It is the one place in the
// repository that reads outside it; where the folder is absent it skips and says so.
import { test, expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PUBLISHED_DIR } from './published.ts';

const UPSTREAM = fileURLToPath(new URL('../../../shared/vectors/', import.meta.url));
const present = existsSync(UPSTREAM) && statSync(UPSTREAM).isDirectory();

/** Every file under dir, as paths relative to it with '/' separators, sorted. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** What differs between the upstream folder and the copy, one line per file. */
function compareCopy(upstream: string, copy: string): string[] {
  const up = files(upstream), ours = new Set(files(copy));
  const problems: string[] = [];
  for (const f of up) {
    if (!ours.has(f)) problems.push(`${f}: missing from test/vectors/published/`);
    else if (!readFileSync(join(upstream, f)).equals(readFileSync(join(copy, f)))) problems.push(`${f}: differs from ../shared/vectors/${f}`);
    ours.delete(f);
  }
  for (const f of ours) problems.push(`${f}: in test/vectors/published/ but not in ../shared/vectors/`);
  return problems;
}

test.skipIf(!present)(
  `test/vectors/published/ is identical to ../shared/vectors/${present ? '' : ' (skipped: no ../shared/vectors beside this checkout, nothing to compare)'}`,
  () => {
    expect(compareCopy(UPSTREAM, PUBLISHED_DIR)).toEqual([]);
  },
);

test('the comparison names a file that differs, one missing from the copy and one only in the copy', () => {
  const root = mkdtempSync(join(tmpdir(), 'tt-vcopy-'));
  const up = join(root, 'up'), copy = join(root, 'copy');
  for (const d of [up, copy]) mkdirSync(join(d, 'wycheproof'), { recursive: true });
  const put = (d: string, f: string, text: string) => writeFileSync(join(d, f), text);
  put(up, 'same.json', '{}'); put(copy, 'same.json', '{}');
  put(up, 'wycheproof/changed.json', '{"a":1}'); put(copy, 'wycheproof/changed.json', '{"a":2}');
  put(up, 'new.json', '{}');
  put(copy, 'old.json', '{}');
  expect(compareCopy(up, copy)).toEqual([
    'new.json: missing from test/vectors/published/',
    'wycheproof/changed.json: differs from ../shared/vectors/wycheproof/changed.json',
    'old.json: in test/vectors/published/ but not in ../shared/vectors/',
  ]);
});
