// The trusttap CLI: `trusttap <command> [args]`. Each command is one module in cli/commands/
// exporting `run(args): Promise<number>` (the exit code) and a one-line `summary`.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));

function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function load(name: string): Promise<Command> {
  return (await import(`./commands/${name}.ts`)) as Command;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const names = commandNames();
  if (!name || name === 'help' || name === '--help') {
    console.log('usage: trusttap <command> [args]\n');
    for (const n of names) console.log(`  ${n.padEnd(12)} ${(await load(n)).summary}`);
    return name ? 0 : 2;
  }
  if (!names.includes(name)) {
    console.error(`trusttap: unknown command '${name}' (try 'trusttap help')`);
    return 2;
  }
  return (await load(name)).run(args);
}
