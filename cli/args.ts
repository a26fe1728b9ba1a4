// The one argument parser of the `trusttap` commands. Each command declares its options once (a
// CommandSpec); the same declaration parses argv, rejects what it does not name with a clear
// message (exit 2), and prints the command's --help (options, defaults, exit codes). Commands are
// wrapped by defineCommand, so --help/-h, usage errors and a user's errors (a missing file, a
// port in use) end in one line on stderr and an exit code — never a stack trace.
import { readFileSync } from 'node:fs';

export interface OptionSpec {
  /** Without the leading dashes: 'amount'. */
  name: string;
  /** Placeholder of its value ('12.34', 'FILE'); absent for a boolean flag. */
  value?: string;
  /** Allowed values: anything else is a usage error naming them. */
  choices?: readonly string[];
  /** Shown in --help. */
  default?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** One line, for `trusttap help`. */
  summary: string;
  /** What follows `trusttap <name>` in the synopsis, e.g. 'FILE --manifest FILE [options]'. */
  synopsis?: string;
  options: readonly OptionSpec[];
  /** Positional arguments: name and help; beyond `max` is a usage error. */
  positionals?: { max: number; help?: readonly [string, string][] };
  exitCodes: readonly [number, string][];
  /** Free text after the options (examples, notes). */
  notes?: string;
}

export interface Parsed {
  /** Value options by name; boolean flags as 'true'. */
  opts: Record<string, string>;
  flags: Set<string>;
  positionals: string[];
}

/** A mistake in how the command was called: exit 2, with a pointer to --help. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Something the user can fix that is not a usage mistake (a missing file, a port in use):
 * one line on stderr, the given exit code. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export const HELP_FLAGS = ['--help', '-h'];

export function parseArgs(spec: CommandSpec, argv: readonly string[]): Parsed {
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const opts: Record<string, string> = {};
  const flags = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') {
      if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
      if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) throw new UsageError(`unknown option ${a}`);
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const o = byName.get(name);
    if (!o) throw new UsageError(`unknown option --${name}`);
    if (!o.value) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
      opts[name] = 'true';
      continue;
    }
    let v: string | undefined;
    if (eq >= 0) v = a.slice(eq + 1);
    else {
      v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value (${o.value})`);
      i++;
    }
    if (v === '') throw new UsageError(`--${name} needs a value (${o.value})`);
    if (o.choices && !o.choices.includes(v)) throw new UsageError(`--${name} must be ${orList(o.choices)} (got '${v}')`);
    if (name in opts) throw new UsageError(`--${name} given twice`);
    opts[name] = v;
  }
  const max = spec.positionals?.max ?? 0;
  if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]}'`);
  return { opts, flags, positionals };
}

/** "a, b or c" */
export function orList(xs: readonly string[]): string {
  return xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}

/** The --help text: synopsis, options with defaults, exit codes. */
export function usage(spec: CommandSpec): string {
  const lines = [`usage: trusttap ${spec.name} ${spec.synopsis ?? (spec.options.length ? '[options]' : '')}`.trimEnd(), '', spec.summary];
  const rows: [string, string][] = [];
  for (const [p, h] of spec.positionals?.help ?? []) rows.push([p, h]);
  for (const o of spec.options) {
    const left = `--${o.name}${o.value ? ` ${o.choices ? o.choices.join('|') : o.value}` : ''}`;
    // The default goes on the first line of the help, where the eye looks for it.
    const [first, ...rest] = o.help.split('\n');
    rows.push([left, [`${first}${o.default !== undefined ? ` (default ${o.default})` : ''}`, ...rest].join('\n')]);
  }
  rows.push(['--help, -h', 'this help']);
  const w = Math.min(36, Math.max(...rows.map(([l]) => l.length)) + 2);
  lines.push('', 'options:');
  for (const [l, r] of rows) {
    const text = r.split('\n');
    lines.push(l.length + 2 > w ? `  ${l}\n  ${' '.repeat(w)}${text[0]}` : `  ${l.padEnd(w)}${text[0]}`);
    for (const t of text.slice(1)) lines.push(`  ${' '.repeat(w)}${t}`);
  }
  lines.push('', 'exit codes:');
  for (const [c, m] of spec.exitCodes) lines.push(`  ${c}  ${m}`);
  if (spec.notes) lines.push('', spec.notes);
  return lines.join('\n');
}

/** A command's run(args): --help/-h prints usage and exits 0; a UsageError prints the message and
 * a pointer to --help, exit 2; a UserError prints its one line and its exit code. Anything else
 * is a bug and keeps its stack. */
export function defineCommand(spec: CommandSpec, body: (p: Parsed) => Promise<number>): (args: string[]) => Promise<number> {
  return async (args: string[]) => {
    if (args.some((a) => HELP_FLAGS.includes(a))) {
      console.log(usage(spec));
      return 0;
    }
    try {
      return await body(parseArgs(spec, args));
    } catch (e) {
      if (e instanceof UsageError) {
        console.error(`trusttap ${spec.name}: ${e.message}\n(see trusttap ${spec.name} --help)`);
        return 2;
      }
      if (e instanceof UserError) {
        console.error(`trusttap ${spec.name}: ${e.message}`);
        return e.exitCode;
      }
      throw e;
    }
  };
}

/** Reads a file a user named, as a typed one-line error when it cannot be read. */
export async function readUserFile(path: string, what: string): Promise<Buffer> {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${what} ${path} does not exist` : code === 'EISDIR' ? `${what} ${path} is a directory` : `cannot read ${what} ${path}: ${(e as Error).message}`, 2);
  }
}
