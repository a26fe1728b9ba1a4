#!/usr/bin/env node
// The `trusttap` command. In a checkout the TypeScript sources run through tsx, so the CLI needs
// no compile step; in the npm package (no sources, no tsx) it runs the compiled dist/.
import { existsSync } from 'node:fs';

const sources = new URL('../cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url); // the same cli/, compiled by build/package.ts
let main;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import(compiled.href));
}
process.exitCode = await main(process.argv.slice(2));
