// The back-office API (/v1/admin/…, protobuf bodies; docs/backend-api.md) as one route table, so
// every route is known by name (test/backend/tenants.test.ts tries each one as the wrong tenant).
// Issue 16 §1: a request carries either the scheme's admin token (scope ALL_ACQUIRERS: every
// acquirer; `?acquirer=ID` picks the one a terminal or policy is for, default `default`) or one
// acquirer's back-office token (scope: that acquirer only). Devices are read with the scope in the
// query (another acquirer's device is "not found"); routes marked `scheme` refuse acquirer tokens.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { BackendService } from '../service.ts';
import { BackendService as Service } from '../service.ts';
import { ALL_ACQUIRERS, DEFAULT_ACQUIRER, type Scope, type ClientReleaseRow } from '../store/repository.ts';
import { ApiError, ErrorCode } from '../errors.ts';

const a = trusttap.attest.v1;
const pay = trusttap.payment.v1;

export interface AdminRequest {
  scope: Scope;
  /** Values of the path template's :names. */
  p: Record<string, string>;
  q: URLSearchParams;
  body: Uint8Array;
}
export interface AdminAnswer { status: number; message: string; body: Uint8Array }
export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT';
  /** Under /v1/admin/, with :deviceId for a path parameter. */
  path: string;
  /** Only the scheme's admin token (the simulated issuer's wallet provisioning, the monitoring sweep). */
  scheme?: boolean;
  run(r: AdminRequest): Promise<AdminAnswer>;
}

function decode<T>(type: { decode(b: Uint8Array): T }, body: Uint8Array, name: string): T {
  try {
    return type.decode(body);
  } catch (e) {
    throw new ApiError(400, ErrorCode.ERROR_MALFORMED, `body is not a ${name}: ${(e as Error).message}`);
  }
}

/** The one acquirer a request acts on: its own for an acquirer token (naming another is "not
 * found"), `?acquirer=` or the default one for the scheme's token. */
export function targetAcquirer(scope: Scope, named: string | null): string {
  if (scope === ALL_ACQUIRERS) return named || DEFAULT_ACQUIRER;
  if (named && named !== scope) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no acquirer ${named}`);
  return scope;
}

export function adminRoutes(service: BackendService): AdminRoute[] {
  const ok = (message: string, body: Uint8Array, status = 200): AdminAnswer => ({ status, message, body });
  const policy = (acq: string) => ok('Policy', a.Policy.encode(service.currentPolicy(acq)).finish());
  return [
    {
      method: 'POST', path: 'terminals',
      async run({ scope, q, body }) {
        const r = decode(a.CreateTerminalRequest, body, 'CreateTerminalRequest');
        const t = await service.createTerminal(r.merchantId, r.terminalId, undefined, targetAcquirer(scope, q.get('acquirer')));
        return ok('CreateTerminalResponse', a.CreateTerminalResponse.encode({ deviceId: t.deviceId, activationCode: t.activationCode, activationExpiresMs: t.expiresMs as any }).finish(), 201);
      },
    },
    { method: 'GET', path: 'devices/:deviceId', run: async ({ scope, p }) => ok('DeviceRecord', a.DeviceRecord.encode(await service.deviceRecord(p.deviceId, scope)).finish()) },
    { method: 'GET', path: 'devices/:deviceId/history', run: async ({ scope, p }) => ok('HistoryResponse', a.HistoryResponse.encode({ entries: await service.history(p.deviceId, scope) }).finish()) },
    {
      method: 'POST', path: 'devices/:deviceId/state',
      async run({ scope, p, body }) {
        const r = decode(a.SetDeviceStateRequest, body, 'SetDeviceStateRequest');
        const state = Service.stateName(r.state);
        if (!state) throw new ApiError(400, ErrorCode.ERROR_MALFORMED, 'state must be REGISTERED, ACTIVE, SUSPENDED or DISABLED');
        await service.setState(p.deviceId, state, r.reason, undefined, scope);
        return ok('DeviceRecord', a.DeviceRecord.encode(await service.deviceRecord(p.deviceId, scope)).finish());
      },
    },
    { method: 'GET', path: 'policy', run: async ({ scope, q }) => policy(await known(service, targetAcquirer(scope, q.get('acquirer')))) },
    {
      method: 'PUT', path: 'policy',
      async run({ scope, q, body }) {
        const acq = targetAcquirer(scope, q.get('acquirer'));
        await service.updatePolicy(decode(a.Policy, body, 'Policy'), undefined, acq);
        return policy(acq);
      },
    },
    {
      // The scheme's token without ?acquirer= allows the manifest for every acquirer (as at start).
      method: 'POST', path: 'manifests',
      async run({ scope, q, body }) {
        const r = decode(a.UploadManifestRequest, body, 'UploadManifestRequest');
        const target = scope === ALL_ACQUIRERS && !q.get('acquirer') ? ALL_ACQUIRERS : targetAcquirer(scope, q.get('acquirer'));
        await service.allowManifest({ bytes: r.manifest, signature: r.signature }, true, undefined, target);
        return policy(target === ALL_ACQUIRERS ? DEFAULT_ACQUIRER : target);
      },
    },
    // Issue 16 §2: the REE client releases an acquirer allows (its own with its token; the
    // scheme's token picks one with ?acquirer=, default `default`).
    {
      method: 'GET', path: 'clients',
      run: async ({ scope, q }) => {
        const acq = await known(service, targetAcquirer(scope, q.get('acquirer')));
        return ok('ClientReleaseList', a.ClientReleaseList.encode({ releases: (await service.clientReleases(acq)).map(clientReleaseMessage) }).finish());
      },
    },
    {
      method: 'POST', path: 'clients',
      async run({ scope, q, body }) {
        const acq = await known(service, targetAcquirer(scope, q.get('acquirer')));
        const r = await service.allowClient(decode(a.AllowClientRequest, body, 'AllowClientRequest'), undefined, acq);
        return ok('ClientRelease', a.ClientRelease.encode(clientReleaseMessage(r)).finish());
      },
    },
    {
      method: 'POST', path: 'clients/revoke',
      async run({ scope, q, body }) {
        const acq = await known(service, targetAcquirer(scope, q.get('acquirer')));
        const r = decode(a.RevokeClientRequest, body, 'RevokeClientRequest');
        return ok('ClientRelease', a.ClientRelease.encode(clientReleaseMessage(await service.revokeClient(r.name, r.version, r.reason, undefined, acq))).finish());
      },
    },
    {
      // The simulated issuer provisions its wallet app (a real wallet logs its holder in).
      method: 'POST', path: 'wallets/login', scheme: true,
      async run({ body }) {
        const r = decode(pay.WalletLoginRequest, body, 'WalletLoginRequest');
        const out = await service.repo.transaction(() => service.qr.walletLogin(r.accountId, service.now()));
        return ok('WalletLoginResponse', pay.WalletLoginResponse.encode(out).finish());
      },
    },
    {
      method: 'POST', path: 'sweep', scheme: true,
      async run() {
        await service.sweep();
        return ok('none', new Uint8Array(0), 204);
      },
    },
  ];
}

async function known(service: BackendService, acquirerId: string): Promise<string> {
  if (!await service.repo.getAcquirer(acquirerId)) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no acquirer ${acquirerId}`);
  await service.knowAcquirer(acquirerId);
  return acquirerId;
}

function clientReleaseMessage(r: ClientReleaseRow): trusttap.attest.v1.IClientRelease {
  return {
    acquirerId: r.acquirerId, name: r.name, version: r.version, sha256: Buffer.from(r.sha256, 'hex'), allowed: r.allowed,
    allowedMs: r.allowedMs as any, revokedMs: r.revokedMs as any, reason: r.reason,
  };
}

/** The route a method and path (the parts after /v1/admin/) name, with its parameters; null if none. */
export function matchAdminRoute(routes: AdminRoute[], method: string, parts: string[]): { route: AdminRoute; p: Record<string, string> } | null {
  for (const route of routes) {
    const t = route.path.split('/');
    if (t.length !== parts.length || route.method !== method) continue;
    const p: Record<string, string> = {};
    let match = true;
    t.forEach((seg, i) => {
      if (seg.startsWith(':')) p[seg.slice(1)] = parts[i];
      else if (seg !== parts[i]) match = false;
    });
    if (match) return { route, p };
  }
  return null;
}
