#!/usr/bin/env node
// The `trusttap` command. In a checkout the TypeScript sources run through tsx, so the CLI needs
// no compile step; in the npm package (no sources, no tsx) it runs the compiled dist/.
import { existsSync } from 'node:fs';

const sources = new URL('../cli/main.ts', import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
