// `trusttap gen [--check]`: regenerates the committed generated code.
//   proto/*.proto                → proto/gen/as/<name>.ts + proto/gen/ts/trusttap.{js,d.ts}
//   test/proto/fixtures/*.proto  → test/proto/gen/as/<name>.ts + test/proto/gen/ts/codec_test.{js,d.ts}
//   common/aes/as/aes.ts         → common/aes/aes-wasm.gen.ts (the host AES module's bytes)
// With --check nothing is written; it exits 1 if any generated file differs or is stale.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAll, type GenOptions } from '../../proto/gen-as.ts';
import { aesWasmModule } from '../../build/aes-wasm.ts';
import { defineCommand, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'gen', summary: 'regenerate protobuf code (AS codec + TS static module) from proto/*.proto and the host AES module from common/aes/as: gen [--check]',
  options: [{ name: 'check', help: 'write nothing; exit 1 if any generated file differs or is stale' }],
  exitCodes: [[0, 'generated (or, with --check, up to date)'], [1, 'out of date (--check) or a .proto does not compile'], [2, 'usage error']],
};
export const summary = spec.summary;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface GenJob extends GenOptions {
  protoDir: string;
}

export function jobs(rootDir = ROOT): GenJob[] {
  const r = (p: string) => path.join(rootDir, p);
  return [
    { protoDir: r('proto'), rootDir, asOutDir: r('proto/gen/as'), runtime: r('proto/as/pb.ts'), tsOut: r('proto/gen/ts/trusttap.js'), tsRootName: 'trusttap' },
    { protoDir: r('test/proto/fixtures'), rootDir, asOutDir: r('test/proto/gen/as'), runtime: r('proto/as/pb.ts'), tsOut: r('test/proto/gen/ts/codec_test.js'), tsRootName: 'trusttap_test' },
  ];
}

export function protoFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.proto')).sort().map((f) => path.join(dir, f));
}

/** Every file the generator would write, as absolute path → content. */
export async function expected(rootDir = ROOT): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const j of jobs(rootDir)) for (const [p, c] of await generateAll(protoFiles(j.protoDir), j)) all.set(p, c);
  const aes = await aesWasmModule(rootDir);
  all.set(aes.path, aes.content);
  return all;
}

/** Generated files on disk that the generator would no longer produce. */
export function stale(want: Map<string, string>, rootDir = ROOT): string[] {
  const out: string[] = [];
  for (const j of jobs(rootDir)) {
    for (const dir of [j.asOutDir, path.dirname(j.tsOut)]) {
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir)) {
        const p = path.join(dir, f);
        if (/\.(ts|js)$/.test(f) && !want.has(p)) out.push(p);
      }
    }
  }
  return out.sort();
}

export const run = defineCommand(spec, async ({ flags }) => {
  const check = flags.has('check');
  let want: Map<string, string>;
  try {
    want = await expected();
  } catch (e) {
    console.error(`gen: ${(e as Error).message}`);
    return 1;
  }
  const rel = (p: string) => path.relative(ROOT, p);
  let differ = 0;
  for (const [p, content] of want) {
    const cur = existsSync(p) ? readFileSync(p, 'utf8') : null;
    if (cur === content) continue;
    differ++;
    if (check) console.log(`out of date: ${rel(p)}`);
    else {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, content);
      console.log(`wrote ${rel(p)}`);
    }
  }
  for (const p of stale(want)) {
    differ++;
    if (check) console.log(`stale: ${rel(p)}`);
    else {
      rmSync(p);
      console.log(`removed ${rel(p)}`);
    }
  }
  if (check) {
    console.log(differ ? `${differ} generated file(s) out of date; run 'trusttap gen'` : `${want.size} generated files up to date`);
    return differ ? 1 : 0;
  }
  console.log(`${want.size} generated files, ${differ} changed`);
  return 0;
});
