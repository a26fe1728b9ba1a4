// `trusttap operator add NAME --role viewer|operator --data DIR` / `operator disable NAME --data
// DIR` / `trusttap operator list --data DIR`: the operators' console accounts (backend/console/accounts.ts), written straight into the
// back end's database in DIR (the one `trusttap serve --data DIR` uses; it may be running).
// The password is read from standard input (one line) or $TRUSTTAP_OPERATOR_PASSWORD — never
// from the command line, where `ps` and the shell history would keep it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteRepository } from '../../backend/store/sqlite.ts';
import { addOperator, checkNewOperator, ROLES } from '../../backend/console/accounts.ts';
import { ApiError } from '../../backend/errors.ts';
import { DEFAULT_ACQUIRER } from '../../backend/store/repository.ts';
import { defineCommand, UsageError, UserError, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'operator', summary: "the console's operator accounts: operator add NAME --role viewer|operator --data DIR; operator list --data DIR",
  synopsis: 'add NAME --role ROLE --data DIR | list --data DIR',
  positionals: { max: 2, help: [['add NAME', 'add the operator NAME, or replace its role and password'], ['list', 'the operators, their roles and whether disabled']] },
  options: [
    { name: 'role', value: 'ROLE', choices: ROLES, help: 'viewer: reads everything; operator: also suspends, resumes, retires, reverses, rolls out policy' },
    { name: 'acquirer', value: 'ID', help: 'the acquirer whose devices, journal and policy the operator sees and changes;\n\'*\' = the scheme\'s operator, who sees every acquirer\'s', default: 'default' },
    { name: 'data', value: 'DIR', help: 'the back end\'s state directory (trusttap serve --data DIR)' },
  ],
  exitCodes: [[0, 'done'], [1, 'refused (a bad name or a short password, no database in DIR)'], [2, 'usage error']],
  notes: `The password (at least 12 characters) is read from standard input or $TRUSTTAP_OPERATOR_PASSWORD.\n\nexample:  printf '%s\\n' "$PASSWORD" | trusttap operator add alice --role operator --data /var/lib/trusttap`,
};
export const summary = spec.summary;

function readPassword(): string {
  const env = process.env.TRUSTTAP_OPERATOR_PASSWORD;
  if (env) return env;
  if (process.stdin.isTTY) throw new UserError('give the password on standard input (printf \'%s\\n\' "$PASSWORD" | trusttap operator add …) or in $TRUSTTAP_OPERATOR_PASSWORD');
  return readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
}

export const run = defineCommand(spec, async ({ opts, positionals }) => {
  const [action, name] = positionals;
  if (action !== 'add' && action !== 'list' && action !== 'disable') throw new UsageError('which action? (trusttap operator add NAME --role ROLE --data DIR, operator disable NAME --data DIR, or operator list --data DIR)');
  if (!opts.data) throw new UsageError('--data DIR is required (the back end\'s state directory)');
  const db = join(opts.data, 'backend.db');
  if (!existsSync(db)) throw new UserError(`no back-end database in ${opts.data} (start trusttap serve --data ${opts.data} once first)`);
  if (action === 'add') {
    if (!name) throw new UsageError('operator add needs a NAME');
    if (!opts.role) throw new UsageError(`--role is required (${ROLES.join(' or ')})`);
    const password = readPassword();
    const repo = new SqliteRepository(db);
    try {
      checkNewOperator(name, opts.role, password);
      const row = await addOperator(repo, name, opts.role, password, Date.now(), opts.acquirer ?? DEFAULT_ACQUIRER);
      console.log(`operator ${row.username} (${row.role}, acquirer ${row.acquirerId}) saved`);
    } catch (e) {
      if (e instanceof ApiError) throw new UserError(e.message);
      throw e;
    } finally {
      await repo.close();
    }
    return 0;
  }
  if (action === 'disable') {
    if (!name) throw new UsageError('operator disable needs a NAME');
    const repo = new SqliteRepository(db);
    try {
      const op = await repo.getOperator(name);
      if (!op) throw new UserError(`no operator ${name}`);
      await repo.putOperator({ ...op, disabled: true });
      console.log(`operator ${name} disabled`);
    } finally {
      await repo.close();
    }
    return 0;
  }
  if (name) throw new UsageError('operator list takes no NAME');
  const repo = new SqliteRepository(db);
  try {
    for (const o of await repo.listOperators()) console.log(`${o.username.padEnd(24)} ${o.role.padEnd(9)} ${o.acquirerId.padEnd(16)} ${o.disabled ? 'disabled' : 'active'}  since ${new Date(o.createdMs).toISOString()}`);
  } finally {
    await repo.close();
  }
  return 0;
});
