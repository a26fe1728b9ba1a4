// The trusttap CLI: `trusttap <command> [args]`. Each command is one module in cli/commands/
// exporting its `spec` (options, exit codes: cli/args.ts), a one-line `summary` and
// `run(args): Promise<number>` (the exit code).
//
// The commands are a static table, not a directory listing, so the same code runs from the
// sources (through tsx, in a checkout) and compiled (dist/ in the npm package). Commands that
// need the repository's sources — the AssemblyScript compiler, the .proto files, the test
// suites — are loaded through a computed specifier, so the package's compile does not pull
// them (and the test folder) in; from the package they say that they need a checkout.
import { readFileSync } from 'node:fs';
import { HELP_FLAGS, usage, type CommandSpec } from './args.ts';

export interface Command {
  spec: CommandSpec;
  summary: string;
  run(args: string[]): Promise<number>;
}

type Loader = () => Promise<Command>;

/** True when this file runs from the TypeScript sources (a checkout), false in the package. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');

const SHIPPED: Record<string, Loader> = {
  'abi-docs': () => import('./commands/abi-docs.ts'),
  acquirer: () => import('./commands/acquirer.ts'),
  audit: () => import('./commands/audit.ts'),
  client: () => import('./commands/client.ts'),
  demo: () => import('./commands/demo.ts'),
  operator: () => import('./commands/operator.ts'),
  qr: () => import('./commands/qr.ts'),
  'issuer-serve': () => import('./commands/issuer-serve.ts'),
  'read-card': () => import('./commands/read-card.ts'),
  serve: () => import('./commands/serve.ts'),
  'verify-evidence': () => import('./commands/verify-evidence.ts'),
};

/** Commands that read the repository's sources; what each needs, for the package's message. */
const CHECKOUT_ONLY: Record<string, string> = {
  bench: 'the benchmark suites under test/bench',
  build: 'the TA sources under ta/ and the AssemblyScript compiler; the package ships the built, signed TAs',
  gen: 'the .proto sources, common/aes/as and their compilers (protobufjs-cli, asc)',
  'proto-docs': 'the .proto sources',
  sbom: 'the TA sources under ta/ and the AssemblyScript compiler (it recompiles each TA); the package ships the build\'s SBOM, dist/build/sbom.cdx.json',
  vectors: 'the vector runner under test/',
};

/** Every command (test/package/cli-table.test.ts holds it equal to cli/commands/). */
export const COMMAND_NAMES: readonly string[] = [...Object.keys(SHIPPED), ...Object.keys(CHECKOUT_ONLY)].sort();

/** In the package, a command that needs a checkout; null where it can run. */
function needsCheckout(name: string): string | null {
  return !FROM_SOURCES && name in CHECKOUT_ONLY
    ? `trusttap ${name}: needs a checkout of the repository (${CHECKOUT_ONLY[name]}); git clone it and run npm ci there`
    : null;
}

function load(name: string): Promise<Command> {
  const shipped = SHIPPED[name];
  if (shipped) return shipped();
  // A computed specifier: resolved only in a checkout (see the header).
  const file = `./commands/${name}.ts`;
  return import(file) as Promise<Command>;
}

export function version(): string {
  // package.json is beside cli/ in a checkout, two levels above dist/cli/ in the package.
  const file = new URL(FROM_SOURCES ? '../package.json' : '../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

async function overview(): Promise<string> {
  const lines = ['usage: trusttap <command> [options]   (trusttap <command> --help for its options)', '', 'commands:'];
  for (const n of COMMAND_NAMES) {
    const summary = needsCheckout(n) ? `(needs a checkout of the repository: ${CHECKOUT_ONLY[n]})` : (await load(n)).summary;
    lines.push(`  ${n.padEnd(16)} ${summary}`);
  }
  lines.push('', `trusttap ${version()}; --version prints it`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(version());
    return 0;
  }
  if (!name || name === 'help' || HELP_FLAGS.includes(name)) {
    const topic = name === 'help' ? args[0] : undefined;
    if (topic) {
      if (!COMMAND_NAMES.includes(topic)) { console.error(`trusttap: unknown command '${topic}' (try 'trusttap help')`); return 2; }
      const checkout = needsCheckout(topic);
      console.log(checkout ?? usage((await load(topic)).spec));
      return 0;
    }
    // No command at all is a usage error; asking for help is not.
    (name ? console.log : console.error)(await overview());
    return name ? 0 : 2;
  }
  if (!COMMAND_NAMES.includes(name)) {
    console.error(`trusttap: unknown command '${name}' (try 'trusttap help')`);
    return 2;
  }
  const checkout = needsCheckout(name);
  if (checkout) {
    // Asking how to use it is answered; running it is a usage error.
    if (args.some((a) => HELP_FLAGS.includes(a))) { console.log(checkout); return 0; }
    console.error(checkout);
    return 2;
  }
  try {
    return await (await load(name)).run(args);
  } catch (e) {
    // A bug, not a user's mistake (those are typed in cli/args.ts): one line, the stack on request.
    console.error(`trusttap ${name}: internal error: ${(e as Error).message}`);
    if (process.env.TRUSTTAP_DEBUG) console.error((e as Error).stack);
    else console.error('(set TRUSTTAP_DEBUG=1 to see where)');
    return 1;
  }
}
