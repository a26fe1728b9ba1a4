// `trusttap sbom [--dir build] [--out FILE | -]`: writes the CycloneDX 1.5 SBOM of a build
// (build/sbom.ts) for the signed manifest in DIR. The source list of each TA is what asc reads to
// compile it, so each TA is compiled again from the checkout (from the build cache when its
// sources are unchanged) and must give exactly the manifest's bytes: an SBOM is never written
// for sources that did not produce the build. `trusttap build` writes the same file itself.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT, compile, writeAtomic } from '../../build/build.ts';
import { BUILD_DIR } from '../../build/paths.ts';
import { SBOM_FILE, makeSbom, type TaSources } from '../../build/sbom.ts';
import { MANIFEST_FILE, parseManifest, sha256Hex } from '../../common/manifest.ts';
import { defineCommand, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'sbom', summary: 'write the build\'s CycloneDX 1.5 SBOM (npm dependencies, each TA\'s sources, compiler and .wasm hash) [--dir build] [--out FILE|-]',
  options: [
    { name: 'dir', value: 'DIR', help: 'the build directory holding manifest.json', default: 'build/' },
    { name: 'out', value: 'FILE', help: 'where to write it; - for standard output', default: `DIR/${SBOM_FILE}` },
  ],
  exitCodes: [[0, 'written'], [1, 'no manifest, or the checkout\'s sources do not reproduce a TA of it'], [2, 'usage error']],
  notes: 'Set SOURCE_DATE_EPOCH for a metadata timestamp; without it the document has none (same build, same bytes).',
};
export const summary = spec.summary;

export const run = defineCommand(spec, async ({ opts }) => {
  const dir = resolve(opts.dir ?? BUILD_DIR);
  const mpath = join(dir, MANIFEST_FILE);
  if (!existsSync(mpath)) {
    console.error(`trusttap sbom: no ${MANIFEST_FILE} in ${dir} (run trusttap build)`);
    return 1;
  }
  const manifestBytes = readFileSync(mpath);
  const manifest = parseManifest(manifestBytes);
  const sources: TaSources = new Map();
  for (const ta of manifest.tas) {
    const { bytes, sources: read } = await compile(PROJECT_ROOT, ta.asc_args, join(PROJECT_ROOT, 'build', 'out', 'cache'));
    if (sha256Hex(bytes) !== ta.sha256) {
      console.error(`trusttap sbom: the checkout's sources compile ${ta.file} to sha256 ${sha256Hex(bytes)}, the manifest has ${ta.sha256} (sources changed since the build? run trusttap build)`);
      return 1;
    }
    sources.set(ta.file, read);
  }
  const text = makeSbom({ root: PROJECT_ROOT, manifestBytes, sources });
  if (opts.out === '-') process.stdout.write(text);
  else {
    const out = opts.out ?? join(dir, SBOM_FILE);
    writeAtomic(out, text);
    console.error(`${out}: ${manifest.tas.length} TA file(s), sha256 ${sha256Hex(new TextEncoder().encode(text))}`);
  }
  return 0;
});
