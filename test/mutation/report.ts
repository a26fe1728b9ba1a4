// npm run mutation's summary: each mutated module's score and the overall score from Stryker's
// JSON report (mutation-testing-report-schema), with the goal of issue 18 — at least 85 %
// overall and 75 % per module. Score = detected (killed + timed out) / valid mutants (all but
// compile and runtime errors and ignored ones), as Stryker counts it. Exit 1 below the goal.
// --partial reads the mutants tested so far (.data/mutation/results.jsonl) of a run cut short.
// --mutate FILE[,FILE…] (as run.ts gave it to Stryker; globs and :line ranges allowed): only
// those modules are judged, the others were not mutated this run.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { matchesMutate, splitMutateArgs } from './args.ts';

const OVERALL_GOAL = 85, MODULE_GOAL = 75;
const root = join(import.meta.dirname, '../..');
const { modules: allModules } = JSON.parse(readFileSync(join(import.meta.dirname, 'modules.json'), 'utf8')) as { modules: string[] };

const { patterns, rest: args } = splitMutateArgs(process.argv.slice(2));
const selected = (file: string) => !patterns.length || patterns.some((p) => matchesMutate(p)(file));
const modules = allModules.filter(selected);

interface ModuleScore { module: string; mutants: number; killed: number; survived: number; noCoverage: number; timeout: number; score: number }

type Report = { files: Record<string, { mutants: Array<{ status: string }> }> };

function scores(report: Report): { modules: ModuleScore[]; overall: ModuleScore } {
  const out: ModuleScore[] = [];
  for (const [file, { mutants }] of Object.entries(report.files)) {
    if (!selected(file)) continue;
    const n = (s: string) => mutants.filter((m) => m.status === s).length;
    const killed = n('Killed'), timeout = n('Timeout'), survived = n('Survived'), noCoverage = n('NoCoverage');
    const valid = killed + timeout + survived + noCoverage;
    out.push({ module: file.replace(/\\/g, '/'), mutants: valid, killed, survived, noCoverage, timeout, score: valid ? (100 * (killed + timeout)) / valid : 100 });
  }
  out.sort((a, b) => modules.indexOf(a.module) - modules.indexOf(b.module));
  const sum = (k: 'mutants' | 'killed' | 'survived' | 'noCoverage' | 'timeout') => out.reduce((s, m) => s + m[k], 0);
  const total = { module: 'overall', mutants: sum('mutants'), killed: sum('killed'), survived: sum('survived'), noCoverage: sum('noCoverage'), timeout: sum('timeout'), score: 0 };
  total.score = total.mutants ? (100 * (total.killed + total.timeout)) / total.mutants : 100;
  return { modules: out, overall: total };
}

/** A run cut short: the mutants tested so far, from test/mutation/stream-reporter.mjs. */
function partialReport(paths: string[]): Report {
  const files: Report['files'] = {};
  for (const line of paths.flatMap((p) => readFileSync(p, 'utf8').split('\n'))) {
    if (!line) continue;
    const r = JSON.parse(line) as { file: string; status: string };
    const rel = relative(root, r.file).replace(/\\/g, '/');
    (files[rel] ??= { mutants: [] }).mutants.push({ status: r.status });
  }
  return { files };
}

{
  const partial = args.includes('--partial');
  const given = args.filter((a) => !a.startsWith('--'));
  const file = given[0] ?? join(root, partial ? '.data/mutation/results.jsonl' : '.data/mutation/mutation.json');
  const { modules: rows, overall } = scores(partial ? partialReport(given.length ? given : [file]) : JSON.parse(readFileSync(file, 'utf8')) as Report);
  if (partial) console.log('(partial: only the mutants tested so far)\n');
  const line = (m: ModuleScore) => `| \`${m.module}\` | ${m.mutants} | ${m.killed + m.timeout} | ${m.survived} | ${m.noCoverage} | ${m.score.toFixed(1)} % |`;
  console.log('| module | mutants | killed | survived | no coverage | score |\n|---|---|---|---|---|---|');
  for (const m of rows) console.log(line(m));
  console.log(line(overall).replace('`overall`', '**overall**'));
  const low = rows.filter((m) => m.score < MODULE_GOAL);
  const missing = modules.filter((m) => !rows.some((r) => r.module === m));
  if (missing.length) console.log(`\nnot in the report: ${missing.join(', ')}`);
  if (overall.score < OVERALL_GOAL || low.length || missing.length) {
    console.log(`\nbelow the goal (${OVERALL_GOAL} % overall, ${MODULE_GOAL} % per module)${low.length ? `: ${low.map((m) => m.module).join(', ')}` : ''}`);
    process.exitCode = 1;
  } else console.log(`\ngoal met: ≥ ${OVERALL_GOAL} % overall, ≥ ${MODULE_GOAL} % per module`);
}
