// Acquirers as tenants (issue 16 §1). One back end hosts several acquirers; each has its own
// merchants and terminals (a merchant id belongs to the first acquirer that registers it), its own
// keys in its own namespace of the HSM (its BDK `acq.<id>.bdk`, its simulated issuer's master keys
// `acq.<id>.imk-test`, its key-agreement signing key `acq.<id>.key-agreement`; the default acquirer
// keeps the `bdk-default`, `imk-test` and service key `key-agreement` it always had, so existing
// terminals and their pinned keys keep working), its own policy versions
// and contactless limits, its own back-office token (kept as SHA-256) and its own authorization
// route. The acquirer that existed before tenants is `default` (store migration 6).
import { randomBytes } from 'node:crypto';
import type { AcquirerRow, Repository } from './store/repository.ts';
import { DEFAULT_ACQUIRER } from './store/repository.ts';
import type { Hsm } from './hsm/hsm.ts';
import { DEFAULT_LIMITS, type AmountLimits } from './authorization/limits.ts';
import { malformed, ApiError, ErrorCode } from './errors.ts';
import { sha256Hex } from './util.ts';
import { trusttap } from '../proto/gen/ts/trusttap.js';

export { DEFAULT_ACQUIRER };
/** The default acquirer's BDK id (the one the back end had before tenants). */
export const DEFAULT_BDK = 'bdk-default';
/** Authorization routes: 'issuer-sim' = the back end's simulated issuer (backend/issuer-sim);
 * 'upstream' = an issuer reached over HTTP at the acquirer's upstream URL (backend/authorization/upstream.ts). */
export const ROUTES = ['issuer-sim', 'upstream'] as const;
export type RouteName = typeof ROUTES[number];

/** An acquirer id: 2..32 characters of [a-z0-9-], starting with a letter or digit (it is part of
 * HSM key ids, so nothing that could be read as a separator). */
export function checkAcquirerId(id: string): string {
  if (!/^[a-z0-9][a-z0-9-]{1,31}$/.test(id)) throw malformed('an acquirer id is 2..32 characters of [a-z0-9-], starting with a letter or digit');
  return id;
}

/** The HSM id of the acquirer's base derivation key (AES DUKPT). */
export function bdkIdOf(acquirerId: string): string {
  return acquirerId === DEFAULT_ACQUIRER ? DEFAULT_BDK : `acq.${checkAcquirerId(acquirerId)}.bdk`;
}

/** An HSM key id in the acquirer's namespace: `acq.<id>.<name>`; the default acquirer's keys keep
 * the ids they had before tenants (`name` itself), so existing data works. */
export function keyIdIn(acquirerId: string, name: string): string {
  return acquirerId === DEFAULT_ACQUIRER ? name : `acq.${checkAcquirerId(acquirerId)}.${name}`;
}

/** The HSM id of the zone PIN key the acquirer shares with its upstream issuer (route 'upstream'):
 * online PIN blocks are translated to it (Hsm.translateDukptPinToZpk) before they leave. */
export function zpkIdOf(acquirerId: string): string {
  return keyIdIn(acquirerId, 'zpk');
}

/** The HSM id of the acquirer's key-agreement signing key (remote key injection), or null for the
 * default acquirer, which signs with the back end's service key `key-agreement` as before tenants. */
export function keyAgreementKeyOf(acquirerId: string): string | null {
  return acquirerId === DEFAULT_ACQUIRER ? null : keyIdIn(acquirerId, 'key-agreement');
}

/** Contactless limits as stored (JSON of AmountLimits[]), checked: ISO 4217 numeric codes, whole
 * positive amounts, the CVM limit not above the transaction limit, one entry per currency. */
export function parseLimits(text: string): AmountLimits[] {
  let v: unknown;
  try { v = JSON.parse(text); } catch { throw malformed('limits must be JSON: [{"currency":"156","transactionLimit":500000,"cvmRequiredLimit":100001}, ...]'); }
  if (!Array.isArray(v) || v.length === 0) throw malformed('limits must be a non-empty list');
  const seen = new Set<string>();
  return v.map((x: any) => {
    if (typeof x !== 'object' || x === null || typeof x.currency !== 'string' || !/^\d{3}$/.test(x.currency)) throw malformed('each limit needs currency: an ISO 4217 numeric code ("156")');
    for (const k of ['transactionLimit', 'cvmRequiredLimit']) {
      if (!Number.isSafeInteger(x[k]) || x[k] <= 0) throw malformed(`${k} of ${x.currency} must be a whole number of minor units > 0`);
    }
    if (x.cvmRequiredLimit > x.transactionLimit) throw malformed(`cvmRequiredLimit of ${x.currency} is above its transactionLimit`);
    if (seen.has(x.currency)) throw malformed(`currency ${x.currency} is listed twice`);
    seen.add(x.currency);
    return { currency: x.currency, transactionLimit: x.transactionLimit, cvmRequiredLimit: x.cvmRequiredLimit };
  });
}

/** The acquirer's limits: its own, else the back end's (BackendOptions.paymentLimits or the defaults). */
export function limitsOf(a: AcquirerRow | null, fallback: readonly AmountLimits[] = DEFAULT_LIMITS): readonly AmountLimits[] {
  return a?.limits ? parseLimits(a.limits) : fallback;
}

export function checkRoute(route: string): RouteName {
  if (!(ROUTES as readonly string[]).includes(route)) throw malformed(`the authorization route must be one of ${ROUTES.join(', ')}`);
  return route as RouteName;
}

/** An upstream issuer's authorization URL: absolute http or https, no credentials in it. */
export function checkUpstreamUrl(text: string): string {
  let u: URL;
  try { u = new URL(text); } catch { throw malformed(`the upstream URL is not a URL: '${text}'`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw malformed('the upstream URL must be http:// or https://');
  if (u.username || u.password) throw malformed('the upstream URL must carry no credentials');
  return u.toString();
}

/** A back-office token (192 bits, base64url) is kept only as its SHA-256. */
export const tokenHashOf = (token: string) => sha256Hex(token);

export interface AcquirerConfig {
  acquirerId: string;
  name?: string;
  route?: string;
  /** The upstream issuer's URL; required with route 'upstream', refused with any other. */
  upstreamUrl?: string;
  /** JSON of AmountLimits[]; '' or absent = the back end's limits. */
  limits?: string;
  /** Issue a new back-office token (returned once, stored as SHA-256). */
  newToken?: boolean;
}

/** Adds an acquirer or changes its name, route, limits or token (`trusttap acquirer add`, on the
 * database a running back end uses). A new acquirer starts with the default acquirer's policy as
 * its version 1 (the same TA allowlist; its own versions from then on); the back end makes its BDK
 * in its HSM namespace when it first serves it (BackendService.knowAcquirer). Returns the row and,
 * when asked for, the new back-office token (shown once; only its hash is kept). */
export async function putAcquirer(repo: Repository, c: AcquirerConfig, now: number): Promise<{ acquirer: AcquirerRow; token?: string }> {
  const acquirerId = checkAcquirerId(c.acquirerId);
  const name = (c.name ?? acquirerId).trim();
  if (!name || name.length > 64) throw malformed('an acquirer name is 1..64 characters');
  const old0 = await repo.getAcquirer(acquirerId);
  const route = checkRoute(c.route ?? old0?.route ?? 'issuer-sim');
  const upstreamUrl = route !== 'upstream' ? '' : c.upstreamUrl !== undefined ? checkUpstreamUrl(c.upstreamUrl) : old0?.upstreamUrl || '';
  if (route === 'upstream' && !upstreamUrl) throw malformed('the upstream route needs an upstream URL (--upstream-url URL)');
  if (route !== 'upstream' && c.upstreamUrl) throw malformed('an upstream URL is only for the upstream route');
  const limits = c.limits ? JSON.stringify(parseLimits(c.limits)) : '';
  const old = old0;
  const token = c.newToken ? randomBytes(24).toString('base64url') : undefined;
  const acquirer: AcquirerRow = {
    acquirerId, name, route, upstreamUrl, limits: c.limits === undefined ? old?.limits ?? '' : limits,
    adminTokenHash: token ? tokenHashOf(token) : old?.adminTokenHash ?? '', createdMs: old?.createdMs ?? now,
  };
  await repo.transaction(async () => {
    await repo.putAcquirer(acquirer);
    const base = await repo.latestPolicy(DEFAULT_ACQUIRER);
    if (!old && base && !await repo.latestPolicy(acquirerId)) {
      await repo.putPolicy(acquirerId, 1, trusttap.attest.v1.Policy.encode({ ...trusttap.attest.v1.Policy.decode(base.bytes), version: 1 }).finish(), now);
    }
  });
  return { acquirer, token };
}

/** The acquirer's BDK, made if absent (two nodes at once: one makes it, both use it). */
export async function ensureBdk(hsm: Hsm, acquirerId: string): Promise<void> {
  const id = bdkIdOf(acquirerId);
  if (await hsm.hasBdk(id)) return;
  await hsm.generateBdk(id).catch(async (e) => { if (!await hsm.hasBdk(id)) throw e; });
}

/** The acquirer's key-agreement signing key, made if absent (the HSM inserts only if absent, so
 * two nodes end with the same key). Returns its public key (65 bytes), or the service key's. */
export async function keyAgreementPublicKey(hsm: Hsm, acquirerId: string): Promise<Uint8Array> {
  const id = keyAgreementKeyOf(acquirerId);
  return id ? hsm.signingKey(id) : hsm.publicKey('key-agreement');
}

/** Signs a key-agreement offer with the acquirer's key (the one its devices pinned at enrolment). */
export async function signKeyAgreement(hsm: Hsm, acquirerId: string, offer: Uint8Array): Promise<Uint8Array> {
  const id = keyAgreementKeyOf(acquirerId);
  return id ? hsm.signWith(id, offer) : hsm.sign('key-agreement', offer);
}

/** The acquirer, or a typed 404 (an unknown name in a request or a command). */
export async function acquirerOrFail(repo: Repository, acquirerId: string): Promise<AcquirerRow> {
  const a = await repo.getAcquirer(acquirerId);
  if (!a) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no acquirer ${acquirerId}`);
  return a;
}
