// A Stryker reporter (npm run mutation): appends each mutant's result to
// .data/mutation/results.jsonl as soon as it is known, so that the scores of a run cut short
// can still be read (`npm run mutation:report -- --partial`).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';

const FILE = '.data/mutation/results.jsonl';

class StreamReporter {
  constructor() {
    mkdirSync(dirname(FILE), { recursive: true });
    writeFileSync(FILE, '');
  }
  onMutantTested(r) {
    appendFileSync(FILE, JSON.stringify({ file: r.fileName, status: r.status, mutator: r.mutatorName, line: r.location.start.line, replacement: r.replacement }) + '\n');
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'stream', StreamReporter)];
