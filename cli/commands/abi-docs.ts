// `trusttap abi-docs > docs/host-abi.md`: prints the host ABI reference generated from tee/abi/table.ts.
import { hostAbiMarkdown } from '../../build/abi-docs.ts';
import { defineCommand, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'abi-docs', summary: 'print the host ABI reference generated from tee/abi/table.ts (> docs/host-abi.md)',
  options: [], exitCodes: [[0, 'printed'], [2, 'usage error']],
};
export const summary = spec.summary;

export const run = defineCommand(spec, async () => {
  process.stdout.write(hostAbiMarkdown());
  return 0;
});
