// `trusttap proto-docs > docs/ta-commands.md`: the TA command reference from proto/*.proto.
import { protoDocsMarkdown } from '../../build/proto-docs.ts';
import { defineCommand, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'proto-docs', summary: 'print the TA command and message reference generated from proto/*.proto (> docs/ta-commands.md)',
  options: [], exitCodes: [[0, 'printed'], [2, 'usage error']],
};
export const summary = spec.summary;

export const run = defineCommand(spec, async () => {
  process.stdout.write(protoDocsMarkdown());
  return 0;
});
