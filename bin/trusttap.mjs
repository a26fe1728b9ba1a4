#!/usr/bin/env node
// The `trusttap` command. TypeScript sources run through tsx so the CLI needs no compile step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
