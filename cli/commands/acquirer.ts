// `trusttap acquirer add ID [--name TEXT] [--route issuer-sim|upstream --upstream-url URL] [--limits JSON] [--new-token]
// --data DIR | --db URL` / `trusttap acquirer list …`: the acquirers (tenants, issue 16 §1) the back
// end hosts, written straight into its database (the one `trusttap serve --data DIR` or `--db
// URL` uses; it may be running: it reads a new acquirer when first asked for it, and makes the
// acquirer's BDK in its HSM namespace then). The back-office token is printed once; only its
// SHA-256 is stored.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteRepository } from '../../backend/store/sqlite.ts';
import { PostgresRepository, PostgresConfigError } from '../../backend/store/postgres.ts';
import type { Repository } from '../../backend/store/repository.ts';
import { putAcquirer, ROUTES } from '../../backend/tenants.ts';
import { ApiError } from '../../backend/errors.ts';
import { defineCommand, UsageError, UserError, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'acquirer', summary: 'the acquirers (tenants) the back end hosts: acquirer add ID [--new-token] --data DIR; acquirer list --data DIR',
  synopsis: 'add ID [--name TEXT] [--route ROUTE [--upstream-url URL]] [--limits JSON] [--new-token] (--data DIR | --db URL) | list (--data DIR | --db URL)',
  positionals: { max: 2, help: [['add ID', 'add the acquirer ID (2..32 of [a-z0-9-]), or change its name, route, limits or token'], ['list', 'the acquirers, their routes and whether they have a back-office token']] },
  options: [
    { name: 'name', value: 'TEXT', help: 'the acquirer\'s name as operators see it', default: 'the id' },
    { name: 'route', value: 'ROUTE', choices: ROUTES, help: 'where its authorizations go: issuer-sim = the simulated issuer,\nupstream = POSTed to its issuer at --upstream-url (docs/backend-api.md)', default: 'issuer-sim' },
    { name: 'upstream-url', value: 'URL', help: 'the upstream issuer\'s authorization URL (with --route upstream)' },
    { name: 'limits', value: 'JSON', help: 'its contactless limits per currency, minor units:\n[{"currency":"156","transactionLimit":500000,"cvmRequiredLimit":100001}]', default: 'the back end\'s' },
    { name: 'new-token', help: 'issue a new back-office token (printed once; the old one stops working)' },
    { name: 'data', value: 'DIR', help: 'the back end\'s state directory (trusttap serve --data DIR)' },
    { name: 'db', value: 'URL', help: 'or its PostgreSQL database (trusttap serve --db URL)' },
  ],
  exitCodes: [[0, 'done'], [1, 'refused (a bad id, route or limits; no database)'], [2, 'usage error']],
  notes: 'The acquirer that existed before tenants is `default`. Terminals are created for an acquirer with its own\nback-office token (or the admin token and ?acquirer=ID); its operators: trusttap operator add NAME --acquirer ID.\n\nexample:  trusttap acquirer add bank-b --name "Bank B" --new-token --data /var/lib/trusttap',
};
export const summary = spec.summary;

async function open(opts: Record<string, string | undefined>): Promise<Repository> {
  if (opts.db) {
    if (!/^postgres(ql)?:\/\//.test(opts.db)) throw new UsageError(`--db must be a postgres:// URL (got '${opts.db}')`);
    try { return await PostgresRepository.open(opts.db); } catch (e) { if (e instanceof PostgresConfigError) throw new UserError(e.message); throw new UserError(`cannot reach ${opts.db.replace(/\/\/[^@]*@/, '//')}: ${(e as Error).message}`); }
  }
  if (!opts.data) throw new UsageError('--data DIR (or --db URL) is required: the back end\'s state');
  const db = join(opts.data, 'backend.db');
  if (!existsSync(db)) throw new UserError(`no back-end database in ${opts.data} (start trusttap serve --data ${opts.data} once first)`);
  return new SqliteRepository(db);
}

export const run = defineCommand(spec, async ({ opts, flags, positionals }) => {
  const [action, id] = positionals;
  if (action !== 'add' && action !== 'list') throw new UsageError('which action? (trusttap acquirer add ID --data DIR, or acquirer list --data DIR)');
  if (action === 'add' && !id) throw new UsageError('acquirer add needs an ID');
  if (action === 'list' && id) throw new UsageError('acquirer list takes no ID');
  const repo = await open(opts);
  try {
    if (action === 'add') {
      const { acquirer, token } = await putAcquirer(repo, { acquirerId: id!, name: opts.name, route: opts.route, upstreamUrl: opts['upstream-url'], limits: opts.limits, newToken: flags.has('new-token') }, Date.now());
      console.log(`acquirer ${acquirer.acquirerId} (${acquirer.name}) saved: route ${acquirer.route}${acquirer.upstreamUrl ? ` ${acquirer.upstreamUrl}` : ''}, limits ${acquirer.limits ? 'its own' : 'the back end\'s'}`);
      if (token) console.log(`back-office token (shown once): ${token}`);
    } else {
      for (const x of await repo.listAcquirers()) {
        console.log(`${x.acquirerId.padEnd(32)} ${x.route.padEnd(11)} ${x.adminTokenHash ? 'token' : 'no token'}  ${x.name}`);
      }
    }
  } catch (e) {
    if (e instanceof ApiError) throw new UserError(e.message);
    throw e;
  } finally {
    await repo.close();
  }
  return 0;
});
