// `trusttap client allow|revoke|list --backend URL`: the REE client releases the acquirer allows
// (issue 16 §2), through a running back end's back-office API (/v1/admin/clients, bearer admin
// token, or an acquirer's own back-office token). `--acquirer ID` (default `default`) names whose
// releases (issue 16 §1: each acquirer keeps its own; its token reaches only its own).
// `allow --manifest build/manifest.json` allows the release the signed manifest names
// (the back end checks its signature); `allow --name N --version V --sha256 HEX` one given by
// hand (e.g. a platform-measured app: package name, version code, SHA-256 of its
// AttestationApplicationId). `revoke NAME VERSION --reason R`: its devices are refused at their
// next attestation and suspended.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { checkAcquirerId } from '../../backend/tenants.ts';
import { defineCommand, UsageError, UserError, type CommandSpec } from '../args.ts';

const a = trusttap.attest.v1;

export const spec: CommandSpec = {
  name: 'client', summary: 'the REE client releases the acquirer allows: client allow --manifest FILE | revoke NAME VERSION --reason R | list (--backend URL)',
  synopsis: 'allow (--manifest FILE | --name N --version V --sha256 HEX) | revoke NAME VERSION --reason R | list  --backend URL',
  positionals: { max: 3, help: [['allow', 'allow a release'], ['revoke NAME VERSION', 'revoke an allowed release'], ['list', 'the releases, allowed and revoked']] },
  options: [
    { name: 'backend', value: 'URL', help: 'the running back end (trusttap serve)' },
    { name: 'admin-token', value: 'TOKEN', help: 'its back office token (the scheme\'s admin token or the acquirer\'s own)', default: '$TRUSTTAP_ADMIN_TOKEN' },
    { name: 'acquirer', value: 'ID', help: 'whose client releases (an acquirer\'s token reaches only its own)', default: 'default' },
    { name: 'manifest', value: 'FILE', help: 'allow: the signed build manifest whose client entry to allow (manifest.sig beside it)' },
    { name: 'name', value: 'NAME', help: 'allow: the client\'s name (bundle name or app package name)' },
    { name: 'version', value: 'VERSION', help: 'allow: its version' },
    { name: 'sha256', value: 'HEX', help: 'allow: its SHA-256 (64 hex digits)' },
    { name: 'reason', value: 'TEXT', help: 'why (kept with the release; required for revoke)' },
  ],
  exitCodes: [[0, 'done'], [1, 'refused by the back end (a bad signature, a conflicting or revoked release, an unknown one) or unreachable'], [2, 'usage error']],
  notes: 'example:  trusttap client allow --manifest build/manifest.json --backend http://127.0.0.1:8443\n          trusttap client revoke trusttap-client 0.1.0 --reason "card screen flaw" --backend http://127.0.0.1:8443\n          trusttap client list --acquirer bank-b --backend http://127.0.0.1:8443',
};
export const summary = spec.summary;

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const describe = (r: trusttap.attest.v1.IClientRelease) =>
  `${r.name} ${r.version}  sha256 ${hexOf(r.sha256 ?? new Uint8Array(0))}  ${r.allowed ? 'allowed' : `REVOKED ${new Date(Number(r.revokedMs)).toISOString()}`}${r.reason ? `  (${r.reason})` : ''}`;

export const run = defineCommand(spec, async ({ opts, positionals }) => {
  const [action, name, version] = positionals;
  if (action !== 'allow' && action !== 'revoke' && action !== 'list') throw new UsageError('which action? (client allow, client revoke NAME VERSION, or client list)');
  if (!opts.backend) throw new UsageError('--backend URL is required (a running trusttap serve)');
  const token = opts['admin-token'] ?? process.env.TRUSTTAP_ADMIN_TOKEN ?? '';
  if (!token) throw new UsageError('--admin-token or $TRUSTTAP_ADMIN_TOKEN is required');
  const acquirer = opts.acquirer ?? 'default';
  try { checkAcquirerId(acquirer); } catch (e) { throw new UsageError(`--acquirer: ${(e as Error).message}`); }
  const call = async (method: string, path: string, body?: Uint8Array) => {
    let r: Response;
    try {
      r = await fetch(`${opts.backend!.replace(/\/$/, '')}/v1/admin/${path}?acquirer=${encodeURIComponent(acquirer)}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' }, body: body ? Buffer.from(body) : undefined });
    } catch (e) {
      throw new UserError(`the back end at ${opts.backend} is unreachable (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`);
    }
    const bytes = new Uint8Array(await r.arrayBuffer());
    if (r.status >= 300) {
      let why = r.headers.get('x-trusttap-error') ?? r.statusText;
      try { why = `${why}: ${a.ErrorResponse.decode(bytes).message}`; } catch { /* keep the header */ }
      throw new UserError(`refused (HTTP ${r.status}) ${why}${r.status === 401 ? ' (wrong or missing --admin-token)' : ''}`);
    }
    return bytes;
  };
  if (action === 'list') {
    if (name) throw new UsageError('client list takes no arguments');
    const list = a.ClientReleaseList.decode(await call('GET', 'clients')).releases;
    if (!list.length) console.log('no client release allowed: this acquirer does not check clients');
    for (const r of list) console.log(describe(r));
    return 0;
  }
  if (action === 'revoke') {
    if (!name || !version) throw new UsageError('client revoke needs NAME and VERSION');
    if (!opts.reason) throw new UsageError('client revoke needs --reason');
    console.log(describe(a.ClientRelease.decode(await call('POST', 'clients/revoke', a.RevokeClientRequest.encode({ name, version, reason: opts.reason }).finish()))));
    return 0;
  }
  if (name) throw new UsageError('client allow takes --manifest, or --name, --version and --sha256');
  let req: trusttap.attest.v1.IAllowClientRequest;
  if (opts.manifest) {
    if (opts.name || opts.version || opts.sha256) throw new UsageError('give either --manifest or --name/--version/--sha256, not both');
    const sig = join(dirname(opts.manifest), 'manifest.sig');
    if (!existsSync(opts.manifest)) throw new UserError(`no manifest ${opts.manifest}`);
    if (!existsSync(sig)) throw new UserError(`no signature ${sig} beside the manifest`);
    req = { manifest: new Uint8Array(readFileSync(opts.manifest)), manifestSignature: readFileSync(sig, 'utf8'), reason: opts.reason ?? '' };
  } else {
    if (!opts.name || !opts.version || !opts.sha256) throw new UsageError('client allow needs --manifest FILE, or all of --name, --version and --sha256');
    if (!/^[0-9a-fA-F]{64}$/.test(opts.sha256)) throw new UsageError('--sha256 must be 64 hex digits');
    req = { name: opts.name, version: opts.version, sha256: Buffer.from(opts.sha256, 'hex'), reason: opts.reason ?? '' };
  }
  console.log(describe(a.ClientRelease.decode(await call('POST', 'clients', a.AllowClientRequest.encode(req).finish()))));
  return 0;
});
