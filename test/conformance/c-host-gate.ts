// How a test file puts tests on the C host: registers them when the C runtime can be built here,
// else one skipped test whose name says what was skipped and why. Every C-host test goes through
// this gate, so one detection (c-host.ts cHostMissing) decides for the whole run, a skip always
// gives its reason, and under TRUSTTAP_REQUIRE_C_RUNTIME=1 a missing toolchain fails the file at
// collection instead of skipping it. (Kept apart from c-host.ts, which the CLI imports too.)
import { test } from 'vitest';
import { cHostMissing } from './c-host.ts';

/** Runs `register` (which declares the C-host tests) or declares `what` skipped, with the reason. */
export async function onCHost(what: string, register: () => unknown): Promise<void> {
  const why = cHostMissing();
  if (why) {
    test.skip(`${what} (skipped: ${why})`, () => {});
    return;
  }
  await register();
}
