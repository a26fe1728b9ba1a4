// Issue 16 §2: is the REE client an evidence names one its acquirer allows? The client's
// measurement (proto ClientMeasurement: name, version, SHA-256 of the shipped bundle, or of the
// platform's app identity) is signed into the evidence by the attest TA; this module only decides
// it against the acquirer's releases (store: client_releases). The back end keeps, per acquirer,
// the releases it allowed and revoked; an acquirer that has never allowed a release does not check
// clients (a deployment from before issue 16), one that has refuses everything else.
import { hex } from '../util.ts';
import type { ClientReleaseRow } from '../store/repository.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const PLATFORM = trusttap.attest.v1.ClientMeasurementSource.CLIENT_MEASUREMENT_SOURCE_PLATFORM;

/** Why a client is refused; the proto's ClientRefusal without its prefix, lower case. */
export type ClientRefusalName = 'not_measured' | 'self_reported' | 'unknown' | 'revoked' | 'altered';

export type ClientDecision =
  /** The acquirer allows no release: clients are not checked. */
  | { checked: false }
  | { checked: true; ok: true; release: ClientReleaseRow }
  | { checked: true; ok: false; refusal: ClientRefusalName; detail: string };

/** A client's one-line name for history and alerts: never more than what the evidence says. */
export function describeClient(c: trusttap.attest.v1.IClientMeasurement | null | undefined): string {
  if (!c) return 'no client measurement';
  const sha = c.sha256 ? hex(c.sha256) : '';
  return `${c.name || '?'} ${c.version || '?'} (sha256 ${sha ? `${sha.slice(0, 16)}…` : 'none'})`;
}

/** Decides `client` (from verified evidence) against the acquirer's releases; `platformOnly`
 * (Policy.client_platform_measured_only) refuses a client that measured itself. */
export function checkClient(client: trusttap.attest.v1.IClientMeasurement | null | undefined, releases: readonly ClientReleaseRow[], platformOnly = false): ClientDecision {
  if (releases.length === 0) return { checked: false };
  const refuse = (refusal: ClientRefusalName, detail: string): ClientDecision => ({ checked: true, ok: false, refusal, detail });
  if (!client || !client.name || !client.version || client.sha256?.length !== 32) {
    return refuse('not_measured', `the evidence carries ${client ? 'an incomplete client measurement (name, version and a 32-byte SHA-256 are needed)' : 'no client measurement'}, and this acquirer allows only measured clients`);
  }
  if (platformOnly && client.source !== PLATFORM) {
    return refuse('self_reported', `client ${describeClient(client)} measured itself, and this acquirer accepts only clients its platform measured (app attestation)`);
  }
  const release = releases.find((r) => r.name === client.name && r.version === client.version);
  const what = describeClient(client);
  if (!release) return refuse('unknown', `client ${what} is not a release this acquirer allows`);
  if (!release.allowed) return refuse('revoked', `client ${what} was revoked${release.reason ? `: ${release.reason}` : ''}`);
  // Hashes are public (the signed manifest names them): a plain comparison leaks nothing.
  if (hex(client.sha256) !== release.sha256) {
    return refuse('altered', `client ${what} differs from the allowed ${release.name} ${release.version} (sha256 ${release.sha256.slice(0, 16)}…): its code was changed`);
  }
  return { checked: true, ok: true, release };
}
