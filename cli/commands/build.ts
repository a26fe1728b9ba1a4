// `trusttap build [--debug] [--key PATH] [--signer NAME] [--out DIR] [--no-cache]`: compiles every
// ta/*/ta.json to build/<name>.wasm and writes the signed build/manifest.json (build/build.ts),
// then the conformance kit's test TAs and Wycheproof files into build/conformance/
// (build/conformance.ts), then the operators' console page into build/console/ (build/console.ts). All of its output is progress, so it goes to stderr: `npm run -s demo
// -- --json` (whose predemo step is this build) then writes only the demo's JSON line to stdout.
import { join } from 'node:path';
import { buildTas } from '../../build/build.ts';
import { buildConformanceKit } from '../../build/conformance.ts';
import { buildConsole } from '../../build/console.ts';
import { defineCommand, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'build', summary: 'compile every TA (ta/*/ta.json) and write the signed build/manifest.json [--debug] [--key PEM]',
  options: [
    { name: 'debug', help: 'debug TAs (may import the debug-only host functions)' },
    { name: 'key', value: 'PRIVATE.pem', help: 'Ed25519 signing key of the manifest', default: '$TRUSTTAP_SIGNING_KEY, else the DEVELOPMENT key' },
    { name: 'signer', value: 'NAME', help: 'signer name written into the manifest' },
    { name: 'out', value: 'DIR', help: 'output directory', default: 'build/' },
    { name: 'no-cache', help: 'recompile even when the sources have not changed' },
  ],
  exitCodes: [[0, 'built and signed, conformance kit and console built'], [1, 'a TA failed to compile or check (no manifest was signed), or the conformance kit or the console did not build'], [2, 'usage error']],
  notes: 'Progress and the summary go to stderr.',
};
export const summary = spec.summary;

export const run = defineCommand(spec, async ({ opts, flags }) => {
  const r = await buildTas({
    debug: flags.has('debug'), cache: !flags.has('no-cache'), keyPath: opts.key, signer: opts.signer, outDir: opts.out,
    log: (l) => console.error(l),
  });
  if (!r.ok) {
    console.error(`\ntrusttap build FAILED — no manifest was signed:\n${r.errors.map((e) => `  ✗ ${e.replace(/\n/g, '\n    ')}`).join('\n')}`);
    return 1;
  }
  try {
    await buildConformanceKit({ outDir: opts.out ? join(opts.out, 'conformance') : undefined, cache: !flags.has('no-cache'), log: (l) => console.error(l) });
  } catch (e) {
    console.error(`\ntrusttap build FAILED (conformance kit): ${(e as Error).message}`);
    return 1;
  }
  try {
    await buildConsole({ outDir: opts.out ? join(opts.out, 'console') : undefined, log: (l) => console.error(l) });
  } catch (e) {
    console.error(`\ntrusttap build FAILED (operators' console): ${(e as Error).message}`);
    return 1;
  }
  console.error(`built ${r.outputs.length} TA file(s), the conformance kit and the console in ${(r.ms / 1000).toFixed(2)} s`);
  return 0;
});
