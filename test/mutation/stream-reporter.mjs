// A Stryker reporter (npm run mutation): appends each mutant's result to
// .data/mutation/results.jsonl as soon as it is known, so that the scores of a run cut short
// can still be read (`npm run mutation:report -- --partial`).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { declareClassPlugin, PluginKind } from '@stryker-mutator/api/plugin';

// STRYKER_STREAM_FILE: another file, for a second run on some of the modules.
const FILE = process.env.STRYKER_STREAM_FILE ?? '.data/mutation/results.jsonl';

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
