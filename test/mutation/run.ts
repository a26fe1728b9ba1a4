// npm run mutation (issue 18): Stryker, then the summary (report.ts). `--mutate FILE[,FILE…]`
// goes to Stryker itself, so only those modules are mutated (minutes instead of the whole run),
// and to the report, which then judges only those. Other arguments go to Stryker as they are
// (e.g. --concurrency 1).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { splitMutateArgs } from './args.ts';

const root = join(import.meta.dirname, '../..');
const run = (bin: string, args: string[]) => spawnSync(join(root, 'node_modules/.bin', bin), args, { cwd: root, stdio: 'inherit' }).status ?? 1;

let parsed: ReturnType<typeof splitMutateArgs>;
try {
  parsed = splitMutateArgs(process.argv.slice(2));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
const only = parsed.patterns.length ? ['--mutate', parsed.patterns.join(',')] : [];
const status = run('stryker', ['run', 'test/mutation/stryker.config.mjs', ...only, ...parsed.rest]);
process.exit(status !== 0 ? status : run('tsx', ['test/mutation/report.ts', ...only]));
