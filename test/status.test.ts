// The GP status table exists twice (TS for REE/runtime, AS for TAs): keep them equal.
import { test, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { Status, statusName } from '../proto/status.ts';

test('ta/lib/status.ts mirrors proto/status.ts exactly', () => {
  const as = readFileSync(new URL('../ta/lib/status.ts', import.meta.url), 'utf8');
  const asTable = Object.fromEntries([...as.matchAll(/export const (\w+): u32 = (0x[0-9a-f]+);/g)].map((m) => [m[1], Number(m[2])]));
  expect(asTable).toEqual({ ...Status });
});

test('GP values the issue names', () => {
  expect(Status.ERROR_BAD_PARAMETERS).toBe(0xffff0006);
  expect(Status.ERROR_SHORT_BUFFER).toBe(0xffff0010);
  expect(Status.ERROR_TARGET_DEAD).toBe(0xffff3024);
  expect(statusName(Status.ERROR_TARGET_DEAD | 0)).toBe('ERROR_TARGET_DEAD (0xFFFF3024)');
});
