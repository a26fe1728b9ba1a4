// `trusttap build [--debug] [--key PATH] [--signer NAME] [--out DIR] [--no-cache]`: compiles every
// ta/*/ta.json to build/<name>.wasm and writes the signed build/manifest.json (build/build.ts).
import { buildTas } from '../../build/build.ts';

export const summary = 'compile every TA (ta/*/ta.json) and write the signed build/manifest.json [--debug] [--key PEM]';

export async function run(args: string[]): Promise<number> {
  let debug = false, cache = true, keyPath: string | undefined, signer: string | undefined, outDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => { const v = args[++i]; if (v === undefined) throw new Error(`${a} needs a value`); return v; };
    try {
      if (a === '--debug') debug = true;
      else if (a === '--no-cache') cache = false;
      else if (a === '--key') keyPath = value();
      else if (a === '--signer') signer = value();
      else if (a === '--out') outDir = value();
      else throw new Error(`unknown option ${a}`);
    } catch (e) {
      console.error(`trusttap build: ${(e as Error).message}\nusage: trusttap build [--debug] [--key PRIVATE.pem] [--signer NAME] [--out DIR] [--no-cache]`);
      return 2;
    }
  }
  const r = await buildTas({ debug, cache, keyPath, signer, outDir, log: (l) => console.log(l) });
  if (!r.ok) {
    console.error(`\ntrusttap build FAILED — no manifest was signed:\n${r.errors.map((e) => `  ✗ ${e.replace(/\n/g, '\n    ')}`).join('\n')}`);
    return 1;
  }
  console.log(`built ${r.outputs.length} TA file(s) in ${(r.ms / 1000).toFixed(2)} s`);
  return 0;
}
