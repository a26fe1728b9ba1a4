// The CLI's command table (cli/main.ts) is static so it runs compiled in the package; this keeps
// it equal to the command modules in cli/commands/, so a new command cannot be left out of it.
import { test, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { COMMAND_NAMES } from '../../cli/main.ts';

test('cli/main.ts names every module of cli/commands/, and nothing else', () => {
  const modules = readdirSync(new URL('../../cli/commands/', import.meta.url)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
  expect(COMMAND_NAMES).toEqual(modules);
});
