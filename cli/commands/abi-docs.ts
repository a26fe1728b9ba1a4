// `trusttap abi-docs > docs/host-abi.md`: prints the host ABI reference generated from tee/abi/table.ts.
import { hostAbiMarkdown } from '../../build/abi-docs.ts';

export const summary = 'print the host ABI reference generated from tee/abi/table.ts (> docs/host-abi.md)';

export async function run(): Promise<number> {
  process.stdout.write(hostAbiMarkdown());
  return 0;
}
