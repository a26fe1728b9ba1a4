// `trusttap issuer-serve --data DIR [--port P] [--host H]`: the simulated issuer as an acquirer's
// upstream (issue 16 §1, route 'upstream'; backend/issuer-sim/upstream-server.ts) until
// SIGINT/SIGTERM. It answers POST /v1/authorize (docs/backend-api.md "Upstream authorization
// message") with the simulated issuer's decision. TEST ONLY: it uses the HSM of the back end whose
// state directory DIR is (`trusttap serve --data DIR`), standing for both ends of the acquirer's
// zone PIN key; its card accounts are its own, in DIR/upstream-issuer.db.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteRepository } from '../../backend/store/sqlite.ts';
import { SoftwareHsm } from '../../backend/hsm/software-hsm.ts';
import { startUpstreamIssuer } from '../../backend/issuer-sim/upstream-server.ts';
import { defineCommand, UsageError, UserError, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'issuer-serve', summary: 'the simulated issuer as an acquirer\'s upstream (route upstream): issuer-serve --data DIR --port P',
  synopsis: '--data DIR [--port P] [--host H]',
  options: [
    { name: 'data', value: 'DIR', help: 'the back end\'s state directory (trusttap serve --data DIR): its HSM; the issuer\'s accounts go to DIR/upstream-issuer.db' },
    { name: 'port', value: 'P', help: 'the port to listen on (0 = any free one)', default: '8090' },
    { name: 'host', value: 'H', help: 'the address to listen on', default: '127.0.0.1' },
  ],
  exitCodes: [[0, 'stopped by SIGINT/SIGTERM'], [1, 'could not start (port in use, no back-end state)'], [2, 'usage error']],
  notes: 'Then: trusttap acquirer add bank-u --route upstream --upstream-url http://127.0.0.1:8090/v1/authorize --data DIR',
};
export const summary = spec.summary;

export const run = defineCommand(spec, async ({ opts }) => {
  if (!opts.data) throw new UsageError('--data DIR is required: the back end\'s state directory (its HSM)');
  const port = Number(opts.port ?? '8090');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535 (got '${opts.port}')`);
  if (!existsSync(join(opts.data, 'backend.db'))) throw new UserError(`no back-end database in ${opts.data} (start trusttap serve --data ${opts.data} once first)`);
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const hsmRepo = new SqliteRepository(join(opts.data, 'backend.db'));
  const repo = new SqliteRepository(join(opts.data, 'upstream-issuer.db'));
  try {
    const up = await startUpstreamIssuer({ repo, hsm: await SoftwareHsm.open(join(opts.data, 'hsm'), hsmRepo), port, host: opts.host }).catch((e: Error) => {
      throw new UserError(`cannot listen on ${opts.host ?? '127.0.0.1'}:${port}: ${e.message}`);
    });
    console.log(`trusttap simulated upstream issuer listening on ${up.url}`);
    await stopped;
    await up.close();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await repo.close();
    await hsmRepo.close();
  }
  return 0;
});
