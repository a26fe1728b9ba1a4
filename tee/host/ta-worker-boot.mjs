// Worker entry: plain JS so it loads without a TypeScript loader. Beside the sources (a checkout)
// it registers tsx for the TypeScript worker body (a worker does not inherit its parent's module
// hooks on Node 20); in the package it sits beside the compiled ta-worker.js and loads that.
import { existsSync } from 'node:fs';

const sources = new URL('./ta-worker.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('./ta-worker.js');
}
