// Runs the examples from the checkout: `node --import tsx --import ./test/examples/source-alias.mjs
// examples/<name>/index.mjs` resolves the package's subpaths (`trusttap/conformance`, ...) to
// the TypeScript sources, so the examples are tested as written before there is a package.
// The packed-package test runs the same files against the installed package instead.
import { register } from 'node:module';

register('./source-alias-hooks.mjs', import.meta.url);
