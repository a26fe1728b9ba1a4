// The command line of npm run mutation (run.ts) and of its report (report.ts): `--mutate
// FILE[,FILE…]` (repeatable; Stryker's own syntax, so globs and FILE:line ranges are allowed) says
// which modules this run mutates; everything else is passed on as it is.

/** The --mutate patterns (each value split at commas) and every other argument, in order. */
export function splitMutateArgs(argv: readonly string[]): { patterns: string[]; rest: string[] } {
  const patterns: string[] = [], rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let value: string | undefined;
    if (a === '--mutate' || a === '-m') {
      value = argv[++i];
      if (value === undefined || value.startsWith('-')) throw new Error(`${a} needs a file list, e.g. --mutate backend/attestation/policy.ts,ree/emv/outcome.ts`);
    } else if (a.startsWith('--mutate=')) value = a.slice('--mutate='.length);
    if (value === undefined) rest.push(a);
    else patterns.push(...value.split(',').filter(Boolean));
  }
  return { patterns, rest };
}

/** A --mutate pattern (a path, or a glob with *, ** and ?, maybe with a :line range) as a test on
 *  a path relative to the repository. */
export function matchesMutate(pattern: string): (file: string) => boolean {
  const glob = pattern.replace(/:\d+(:\d+)?-\d+(:\d+)?$/, '').replace(/^\.\//, '');
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*\/?/g, '\u0000')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]')
    .replace(/\u0000/g, '(?:.*/)?');
  const re = new RegExp(`^${source}$`);
  return (file) => re.test(file.replace(/\\/g, '/'));
}
