// `trusttap proto-docs > docs/ta-commands.md`: the TA command reference from proto/*.proto.
import { protoDocsMarkdown } from '../../build/proto-docs.ts';

export const summary = 'print the TA command and message reference generated from proto/*.proto (> docs/ta-commands.md)';

export async function run(): Promise<number> {
  process.stdout.write(protoDocsMarkdown());
  return 0;
}
