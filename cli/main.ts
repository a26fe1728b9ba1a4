// The trusttap CLI: `trusttap <command> [args]`. Each command is one module in cli/commands/
// exporting its `spec` (options, exit codes: cli/args.ts), a one-line `summary` and
// `run(args): Promise<number>` (the exit code).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HELP_FLAGS, usage, type CommandSpec } from './args.ts';

export interface Command {
  spec: CommandSpec;
  summary: string;
  run(args: string[]): Promise<number>;
}

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));
// Sources run as .ts through tsx; a compiled copy has .js files beside it.
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -ext.length))
    .sort();
}

async function load(name: string): Promise<Command> {
  const url = new URL(`./commands/${name}${ext}`, import.meta.url).href;
  return (await import(url)) as Command;
}

export function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function overview(): Promise<string> {
  const lines = ['usage: trusttap <command> [options]   (trusttap <command> --help for its options)', '', 'commands:'];
  for (const n of commandNames()) lines.push(`  ${n.padEnd(16)} ${(await load(n)).summary}`);
  lines.push('', `trusttap ${version()}; --version prints it`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const names = commandNames();
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(version());
    return 0;
  }
  if (!name || name === 'help' || HELP_FLAGS.includes(name)) {
    const topic = name === 'help' ? args[0] : undefined;
    if (topic) {
      if (!names.includes(topic)) { console.error(`trusttap: unknown command '${topic}' (try 'trusttap help')`); return 2; }
      console.log(usage((await load(topic)).spec));
      return 0;
    }
    // No command at all is a usage error; asking for help is not.
    (name ? console.log : console.error)(await overview());
    return name ? 0 : 2;
  }
  if (!names.includes(name)) {
    console.error(`trusttap: unknown command '${name}' (try 'trusttap help')`);
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
