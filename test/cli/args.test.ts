// cli/args.ts: the one parser every command uses — what it accepts, what it refuses and how it
// says so, and the --help text it prints from the same declaration.
import { test, expect } from 'vitest';
import { parseArgs, usage, defineCommand, UsageError, UserError, type CommandSpec } from '../../cli/args.ts';
import { runCaptured } from './cli.ts';

const spec: CommandSpec = {
  name: 'try', summary: 'a command to try the parser',
  positionals: { max: 1, help: [['FILE', 'a file']] },
  options: [
    { name: 'amount', value: '12.34', help: 'an amount', default: '1.00' },
    { name: 'mode', value: 'M', choices: ['a', 'b'], help: 'a mode' },
    { name: 'json', help: 'JSON' },
  ],
  exitCodes: [[0, 'fine'], [1, 'not fine'], [2, 'usage error']],
};

test('values, flags, --name=value, positionals', () => {
  const p = parseArgs(spec, ['f.json', '--amount', '3.50', '--json', '--mode=b']);
  expect(p.opts).toEqual({ amount: '3.50', json: 'true', mode: 'b' });
  expect([...p.flags]).toEqual(['json']);
  expect(p.positionals).toEqual(['f.json']);
  expect(parseArgs(spec, ['--amount', '-5']).opts.amount).toBe('-5'); // a negative number is a value, refused by the command
});

test.each([
  [['--amount'], '--amount needs a value (12.34)'],
  [['--amount', '--json'], '--amount needs a value (12.34)'],
  [['--amount='], '--amount needs a value (12.34)'],
  [['--colour', 'red'], 'unknown option --colour'],
  [['-x'], 'unknown option -x'],
  [['--mode', 'c'], "--mode must be a or b (got 'c')"],
  [['--json=yes'], '--json takes no value'],
  [['--amount', '1', '--amount', '2'], '--amount given twice'],
  [['a', 'b'], "unexpected argument 'b'"],
])('%j is refused: %s', (argv, message) => {
  expect(() => parseArgs(spec, argv)).toThrow(new UsageError(message));
});

test('usage names every option with its default, the exit codes and --help', () => {
  const u = usage(spec);
  expect(u).toMatch(/^usage: trusttap try \[options\]/);
  expect(u).toMatch(/--amount 12\.34\s+an amount \(default 1\.00\)/);
  expect(u).toMatch(/--mode a\|b/);
  expect(u).toMatch(/--help, -h/);
  expect(u).toMatch(/exit codes:\n {2}0 {2}fine\n {2}1 {2}not fine\n {2}2 {2}usage error/);
});

test('defineCommand: --help and -h print usage (exit 0); usage errors exit 2, user errors their code, one line each', async () => {
  const run = defineCommand(spec, async ({ opts }) => {
    if (opts.amount === 'missing') throw new UserError('file x does not exist', 2);
    if (opts.amount === 'busy') throw new UserError('port 1 is in use');
    return 0;
  });
  for (const h of ['--help', '-h']) {
    const r = await runCaptured(run, ['--amount', '1', h]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(usage(spec));
  }
  expect(await runCaptured(run, ['--nope'])).toEqual({ code: 2, stdout: '', stderr: 'trusttap try: unknown option --nope\n(see trusttap try --help)' });
  expect(await runCaptured(run, ['--amount', 'missing'])).toEqual({ code: 2, stdout: '', stderr: 'trusttap try: file x does not exist' });
  expect(await runCaptured(run, ['--amount', 'busy'])).toEqual({ code: 1, stdout: '', stderr: 'trusttap try: port 1 is in use' });
  expect((await runCaptured(run, [])).code).toBe(0);
});
