// The acquirer's attestation & monitoring service: enrolment, attestation verdicts, heartbeats
// and monitoring rules, remote key injection, back office. Transport-free: http/server.ts maps
// HTTP onto handleDevice() and the admin methods. Every device request is checked in this
// order: body decodes (400) → signature by the device key (401) → device known (404) → device
// state (403) → counter strictly increasing (409) → the operation. Each request's effects
// (counter, nonce use, state, history, notices) commit in one transaction, before the answer.
import { equalBytes } from '../common/hex.ts';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { trusttap } from '../proto/gen/ts/trusttap.js';
import type { Repository, DeviceRow, DeviceStateName, NoticeTypeName, VerdictName, NoticeRow, Scope } from './store/repository.ts';
import { ALL_ACQUIRERS, DEFAULT_ACQUIRER } from './store/repository.ts';
import { bdkIdOf, zpkIdOf, ensureBdk, limitsOf, acquirerOrFail, keyAgreementPublicKey, signKeyAgreement } from './tenants.ts';
import { DEFAULT_LIMITS } from './authorization/limits.ts';
import { SqliteRepository, type SqliteOptions } from './store/sqlite.ts';
import type { Hsm } from './hsm/hsm.ts';
import { SoftwareHsm, HsmError } from './hsm/software-hsm.ts';
import { sha256 } from './crypto/p256.ts';
import { VerifyAhead } from './crypto/verify-ahead.ts';
import { LABEL } from '../common/signature-labels.ts';
import { verifyOemChain, CertificateError, type OemRootKey } from './attestation/certs.ts';
import { openEvidence, EvidenceError } from './attestation/evidence.ts';
import {
  policyFromManifests, verifiedManifest, checkRevocations, unionBytes, raiseFloors, assessMeasurements, assessSignals, verdictOf, ttl, type Policy, type ManifestUpload,
} from './attestation/policy.ts';
import { ApiError, ErrorCode, malformed, replay, type MonitoringEvent } from './errors.ts';
import { checkClient, type ClientRefusalName } from './attestation/client-allowlist.ts';
import type { ClientReleaseRow } from './store/repository.ts';
import { hex, u64, sha256Hex, exactCounter } from './util.ts';
import { Authorizer } from './authorization/authorize.ts';
import { offlinePolicyBytes, offlinePolicySigningInput, checkOfflinePolicy } from './authorization/offline.ts';
import { witness, pinpadEpoch, versionNumber } from './attestation/witness.ts';
import type { AmountLimits } from './authorization/limits.ts';
import { QrPayments, type QrMerchantProfile } from './qr/qr.ts';
import { decodeRequest, verifyFirstContact, verifyDeviceSignature, checkTime, boundedCounter, type DecodedRequest } from './request-verify.ts';

const a = trusttap.attest.v1;
const pay = trusttap.payment.v1;
/** DECLINE_REASON_INSUFFICIENT_FUNDS → 'insufficient_funds' (a metric label, a log field). */
const reasonName = (r: number) => (pay.DeclineReason[r] ?? `reason_${r}`).replace(/^DECLINE_REASON_/, '').toLowerCase();
export const ATTEST_TA_UUID = 'a77e5700-0d1c-4e0a-9b5e-a77e57a77e57';
export { DEFAULT_BDK } from './tenants.ts';
export const TXSIGN_TA_UUID = '7a1c5e00-7e5f-4c0d-9a11-7857a7e5f160';
/** What the attest TA puts before a record it signs for the txsign TA: label, 0, the TA's UUID. */
const TXSIGN_LABEL_PREFIX = Buffer.concat([Buffer.from(LABEL.taSign), Buffer.of(0), Buffer.from(TXSIGN_TA_UUID.replace(/-/g, ''), 'hex')]);
export { MAX_COUNTER_STEP, counterBound } from './request-verify.ts';

/** The txsign record and its signature in an authorization's signed_transaction, for verifyAhead
 * only (null when it does not decode; the authorization's own checks read it strictly). */
function signedRecordOf(bytes: Uint8Array | null | undefined): { record: Uint8Array; signature: Uint8Array } | null {
  if (!bytes?.length) return null;
  try {
    const s = trusttap.txsign.v1.SignTransactionResponse.decode(bytes);
    return s.record.length && s.signature.length === 64 ? { record: s.record, signature: s.signature } : null;
  } catch {
    return null;
  }
}

export interface BackendOptions {
  dataDir: string;
  /** OEM roots whose device attestation keys are trusted. */
  oemRoots: OemRootKey[];
  /** Ed25519 PEM of the manifest signing key the TA allowlist is taken from. */
  manifestKeyPem: string | Uint8Array;
  /** Signed manifests (manifest.json bytes + manifest.sig text) allowed at start. */
  manifests?: ManifestUpload[];
  repo?: Repository;
  hsm?: Hsm;
  /** The software HSM's 32-byte master key; default dataDir/hsm/master.key (made on first start).
   * Nodes sharing one database must all be given the same key. */
  masterKey?: Uint8Array;
  sqlite?: SqliteOptions;
  now?: () => number;
  activationTtlMs?: number;
  rkiSessionTtlMs?: number;
  /** Contactless amount limits per currency (authorization/limits.ts DEFAULT_LIMITS). */
  paymentLimits?: AmountLimits[];
  /** Issue the simulated issuer's test cards (backend/issuer-sim) at start; default true. */
  seedTestCards?: boolean;
  /** How long an authorization waits for an acquirer's upstream issuer (route 'upstream'); default 5000 ms. */
  upstreamTimeoutMs?: number;
  /** What merchant-presented QR payloads say about the merchant (qr/qr.ts DEFAULT_QR_MERCHANT). */
  qrMerchant?: QrMerchantProfile;
}

export type DeviceOp = 'challenge' | 'enrol' | 'attest' | 'heartbeat' | 'key_exchange' | 'key_download' | 'authorize' | 'transaction_status' | 'reverse'
  | 'qr_order' | 'qr_status' | 'qr_authorize';
export const DEVICE_OPS: Record<string, DeviceOp> = {
  challenge: 'challenge', enrol: 'enrol', attest: 'attest', heartbeat: 'heartbeat', 'key-exchange': 'key_exchange', 'key-download': 'key_download',
  authorize: 'authorize', 'transaction-status': 'transaction_status', reverse: 'reverse',
  'qr-order': 'qr_order', 'qr-status': 'qr_status', 'qr-authorize': 'qr_authorize',
};
/** Each operation's body field in DeviceRequest. */
export const BODY_FIELD: Record<DeviceOp, string> = {
  challenge: 'challenge', enrol: 'enrol', attest: 'attest', heartbeat: 'heartbeat', key_exchange: 'keyExchange', key_download: 'keyDownload',
  authorize: 'authorize', transaction_status: 'transactionStatus', reverse: 'reverse',
  qr_order: 'qrOrder', qr_status: 'qrStatus', qr_authorize: 'qrAuthorize',
};
/** Payment operations answer a suspended device (a decline, or the status/reversal of an earlier
 * payment) instead of refusing it with 403; a disabled device is still refused. */
export const PAYMENT_OPS = new Set<DeviceOp>(['authorize', 'transaction_status', 'reverse', 'qr_order', 'qr_status', 'qr_authorize']);

export interface DeviceAnswer {
  http: number;
  /** 'SignedDeviceResponse' once the device is authenticated, else 'ErrorResponse'. */
  message: 'SignedDeviceResponse' | 'ErrorResponse';
  body: Uint8Array;
  error?: ApiError;
  /** What the request decided, for the server's metrics and log (never card or key data). */
  outcome?: DeviceOutcome;
}

/** A device request decided, its answer not yet signed (BackendService.decideDevice): the
 * DeviceResponse bytes to sign, or an ErrorResponse that is not signed. */
export interface DecidedAnswer extends Omit<DeviceAnswer, 'body'> {
  /** The DeviceResponse (message 'SignedDeviceResponse') or the ErrorResponse. */
  body: Uint8Array;
}

/** What BackendService.verifyAhead started for one request; release() once the request is over. */
export interface Ahead {
  /** The operation and body it was made for: decideDevice uses `decoded` only for these. */
  op: DeviceOp;
  body: Uint8Array;
  /** The request's envelope, decoded (null when it did not decode: decideDevice says why). */
  decoded: DecodedRequest | null;
  release(): void;
}

/** How many device keys verifyAhead remembers (a guess it may use, never a decision). */
const DEVICE_KEY_HINTS = 50_000;

/** The decision a device request carried: an attestation verdict, an authorization's decision and
 * decline reason (the DeclineReason name without its prefix, lower case: 'none' when approved). */
export interface DeviceOutcome {
  deviceId?: string;
  verdict?: Exclude<VerdictName, ''>;
  decision?: 'approved' | 'declined';
  reason?: string;
  /** Issue 16 §2: the device's REE client was refused (the metric's label). */
  clientRefusal?: ClientRefusalName;
}

const CLIENT_REFUSAL: Record<ClientRefusalName, number> = {
  not_measured: a.ClientRefusal.CLIENT_REFUSAL_NOT_MEASURED, unknown: a.ClientRefusal.CLIENT_REFUSAL_UNKNOWN,
  revoked: a.ClientRefusal.CLIENT_REFUSAL_REVOKED, altered: a.ClientRefusal.CLIENT_REFUSAL_ALTERED,
  self_reported: a.ClientRefusal.CLIENT_REFUSAL_SELF_REPORTED,
};

const VERDICT: Record<Exclude<VerdictName, ''>, number> = { allow: a.Verdict.VERDICT_ALLOW, 'step-up': a.Verdict.VERDICT_STEP_UP, suspend: a.Verdict.VERDICT_SUSPEND };
const STATE: Record<DeviceStateName, number> = {
  registered: a.DeviceState.DEVICE_STATE_REGISTERED, active: a.DeviceState.DEVICE_STATE_ACTIVE,
  suspended: a.DeviceState.DEVICE_STATE_SUSPENDED, disabled: a.DeviceState.DEVICE_STATE_DISABLED,
};
const STATE_BY_NUM = Object.fromEntries(Object.entries(STATE).map(([k, v]) => [v, k])) as Record<number, DeviceStateName>;
const NOTICE: Record<NoticeTypeName, number> = {
  THREAT_ALERT: a.NoticeType.NOTICE_THREAT_ALERT, POLICY_UPDATE: a.NoticeType.NOTICE_POLICY_UPDATE,
  DEVICE_SUSPENDED: a.NoticeType.NOTICE_DEVICE_SUSPENDED, ATTESTATION_REQUIRED: a.NoticeType.NOTICE_ATTESTATION_REQUIRED,
  DEVICE_REACTIVATED: a.NoticeType.NOTICE_DEVICE_REACTIVATED,
};
const TRANSITIONS: Record<DeviceStateName, DeviceStateName[]> = {
  registered: ['disabled'], active: ['suspended', 'disabled'], suspended: ['active', 'disabled'], disabled: [],
};

interface Ctx {
  now: number;
  request: Uint8Array;
  req: trusttap.attest.v1.DeviceRequest;
  device: DeviceRow | null;
  key: Uint8Array;
  /** Single-use items this request consumed: burnt even when the request then fails. */
  consumed: { nonces: string[]; rkiSessions: string[] };
  outcome: DeviceOutcome;
}

export class BackendService {
  /** Each acquirer's current policy (issue 16 §1: policy versions count per acquirer). */
  private readonly policies = new Map<string, Policy>();
  /** A device's acquirer never changes: device id → acquirer id, for history rows written by id. */
  private readonly acquirerOfDevice = new Map<string, string>();
  /** Acquirers whose BDK (and simulated issuer keys) this process has seen in the HSM (made on first use if absent). */
  private readonly bdkReady = new Set<string>();
  /** Issue 7's authorization: journal, simulated issuer, limits. */
  readonly payments: Authorizer;
  /** QR payments: merchant-presented orders, consumer-presented codes, the wallet routes. */
  readonly qr: QrPayments;
  /** Issue 13 §4: request and record signatures verified on the thread pool before the request
   * joins its transaction (verifyAhead), found there by the checks. */
  private readonly ahead = new VerifyAhead();
  /** Device id → the public key the device was last authenticated with: verifyAhead's guess of
   * the key to verify with. The checks compare it with the key read in the transaction. */
  private readonly deviceKeyHints = new Map<string, Uint8Array>();

  private constructor(readonly repo: Repository, readonly hsm: Hsm, private readonly opts: BackendOptions, readonly now: () => number) {
    this.payments = new Authorizer({
      repo, hsm, bdkId: (d) => bdkIdOf(d.acquirerId), policyVersion: (id) => this.policyVersionOf(id),
      terms: async (d) => {
        const acq = await this.repo.getAcquirer(d.acquirerId);
        return {
          limits: limitsOf(acq, opts.paymentLimits ?? DEFAULT_LIMITS),
          upstream: acq?.route === 'upstream' ? { url: acq.upstreamUrl, zpkId: zpkIdOf(d.acquirerId), timeoutMs: opts.upstreamTimeoutMs } : null,
        };
      },
      merchantAcquirer: (m) => this.repo.merchantAcquirer(m),
      paymentGate: (d) => this.paymentGate(d.deviceId, d),
      checkTransactionRecord: (d, r, s, m, k, e) => this.checkTransactionRecord(d.deviceId, r, s, m, k, d, e),
      rollbackDetected: (d, reason, now) => this.rollbackDetected(d, reason, now),
      currentPolicy: (d) => this.policyOf(d.acquirerId),
      offlineDeclined: (d, detail, now) => this.offlineDeclined(d, detail, now),
      declineRelayed: (d) => this.policyOf(d.acquirerId).relayDecline,
      relaySuspected: (d, reason, now) => this.relaySuspected(d, reason, now),
    });
    this.qr = new QrPayments({
      repo, hsm, issuer: this.payments.issuer, policyVersion: (id) => this.policyVersionOf(id),
      paymentGate: (d) => this.paymentGate(d.deviceId, d), merchant: opts.qrMerchant,
    });
  }

  static async open(opts: BackendOptions): Promise<BackendService> {
    const repo = opts.repo ?? new SqliteRepository(join(opts.dataDir, 'backend.db'), opts.sqlite);
    const hsm = opts.hsm ?? await SoftwareHsm.open(join(opts.dataDir, 'hsm'), repo, { masterKey: opts.masterKey });
    const s = new BackendService(repo, hsm, opts, opts.now ?? Date.now);
    await s.loadPolicies();
    for (const m of opts.manifests ?? []) await s.allowManifest(m, false);
    // Another node may make a BDK at the same moment: the stored one is used then (ensureBdk).
    if (opts.seedTestCards ?? true) { await s.payments.issuer.seed(); await s.qr.wallets.seed(); }
    for (const acq of await repo.listAcquirers()) await s.acquirerKeys(acq.acquirerId);
    return s;
  }

  close(): Promise<void> { return this.repo.close(); }

  /** Every acquirer's latest policy: one query for the versions, a policy read and decoded only
   * when its version moved. */
  private async loadPolicies(): Promise<void> {
    for (const { acquirerId, version } of await this.repo.policyVersions()) {
      const have = this.policies.get(acquirerId);
      if (have && have.version === version) continue;
      const p = version ? await this.repo.latestPolicy(acquirerId) : null;
      this.policies.set(acquirerId, p ? a.Policy.decode(p.bytes) : policyFromManifests(0, []));
    }
  }

  /** On a shared database (several nodes) another node may have changed a policy or added an
   * acquirer: re-read them before a request uses them (one indexed row per acquirer). */
  async refreshPolicy(): Promise<void> {
    if (this.repo.shared) await this.loadPolicies();
  }

  /** The acquirer's current policy; an acquirer added since (by `trusttap acquirer add` on the
   * same database) starts from the default acquirer's TA allowlist until its first version. */
  policyOf(acquirerId: string): Policy {
    return this.policies.get(acquirerId) ?? this.policies.get(DEFAULT_ACQUIRER) ?? policyFromManifests(0, []);
  }

  /** The default acquirer's policy version (the one the back end had before tenants). */
  get policyVersion(): number { return this.policyOf(DEFAULT_ACQUIRER).version; }
  currentPolicy(acquirerId: string = DEFAULT_ACQUIRER): Policy { return this.policyOf(acquirerId); }

  private async policyVersionOf(deviceId: string): Promise<number> {
    let acq = this.acquirerOfDevice.get(deviceId);
    if (!acq) {
      acq = (await this.repo.getDevice(deviceId))?.acquirerId ?? DEFAULT_ACQUIRER;
      if (this.acquirerOfDevice.size > 100_000) this.acquirerOfDevice.clear();
      this.acquirerOfDevice.set(deviceId, acq);
    }
    return this.policyOf(acq).version;
  }

  /** An acquirer added since start (`trusttap acquirer add` on the same database): its policy is
   * read (and its BDK made if absent) before it is served or its policy changed. */
  async knowAcquirer(acquirerId: string): Promise<void> {
    if (!this.policies.has(acquirerId)) await this.loadPolicies();
    if (!this.bdkReady.has(acquirerId)) await this.acquirerKeys(acquirerId);
  }

  /** The acquirer's keys in its HSM namespace, made if absent: its BDK and (with the test cards)
   * its simulated issuer's master keys. Its key-agreement key is made when first asked for. */
  private async acquirerKeys(acquirerId: string): Promise<void> {
    await ensureBdk(this.hsm, acquirerId);
    // Its zone PIN key, committed before its first payment, so its upstream can use it at once.
    if ((await this.repo.getAcquirer(acquirerId))?.route === 'upstream') await this.hsm.ensureZonePinKey(zpkIdOf(acquirerId));
    if (this.opts.seedTestCards ?? true) await this.payments.issuer.ensureKeys(acquirerId);
    this.bdkReady.add(acquirerId);
  }

  /** The acquirers a scope covers (ALL_ACQUIRERS: every one); an unknown acquirer is a 404. */
  private async acquirersIn(scope: Scope): Promise<string[]> {
    const ids = scope === ALL_ACQUIRERS ? (await this.repo.listAcquirers()).map((x) => x.acquirerId) : [(await acquirerOrFail(this.repo, scope)).acquirerId];
    for (const id of ids) await this.knowAcquirer(id);
    return ids;
  }

  /** by: who rolled it out and why (the console), written into each notified device's history. */
  private async savePolicy(acquirerId: string, p: Policy, notify: boolean, by?: { actor: string; reason: string }): Promise<void> {
    const now = this.now();
    await this.repo.transaction(async () => {
      await this.repo.putPolicy(acquirerId, p.version, a.Policy.encode(p).finish(), now);
      if (notify) {
        for (const d of await this.repo.listDevices(['active', 'suspended'], acquirerId)) {
          await this.notice(d, 'POLICY_UPDATE', `policy version ${p.version}`, now, p.version);
          if (by) await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind: 'policy', verdict: '', detail: `policy version ${p.version} rolled out: ${by.reason} (by ${by.actor})`, policyVersion: p.version });
        }
      }
    });
    this.policies.set(acquirerId, p);
  }

  // ------------------------------------------------------------------ back office

  /** Verifies a signed manifest and adds its TAs to the allowlist of the scope's acquirers (a new
   * policy version of each; ALL_ACQUIRERS: every acquirer, as at start). Returns the version of
   * the scope's policy (the default acquirer's for ALL_ACQUIRERS). */
  async allowManifest(m: ManifestUpload, notify = true, by?: { actor: string; reason: string }, scope: Scope = ALL_ACQUIRERS): Promise<number> {
    const vm = this.verified(m);
    const targets = await this.acquirersIn(scope);
    for (const acq of targets) {
      const now = this.policyOf(acq);
      if (now.revokedManifestSha256.some((s) => hex(s) === vm.sha256)) throw new ApiError(409, ErrorCode.ERROR_CONFLICT, `manifest ${vm.sha256.slice(0, 16)}… is revoked`);
    }
    for (const acq of targets) {
      if (this.policyOf(acq).manifestSha256.some((s) => hex(s) === vm.sha256) && this.policies.has(acq)) continue;
      await this.savePolicy(acq, this.policyWithManifest(acq, vm), notify, by);
    }
    return this.policyOf(scope === ALL_ACQUIRERS ? DEFAULT_ACQUIRER : scope).version;
  }

  private verified(m: ManifestUpload) {
    try {
      return verifiedManifest(m, this.opts.manifestKeyPem);
    } catch (e) {
      throw new ApiError(400, ErrorCode.ERROR_MALFORMED, `manifest refused: ${(e as Error).message}`);
    }
  }

  private policyWithManifest(acquirerId: string, vm: ReturnType<typeof verifiedManifest>): Policy {
    const now = this.policies.get(acquirerId);
    return policyFromManifests((now?.version ?? 0) + 1, [vm], now?.version ? now : null);
  }

  /** The policy allowManifest / updatePolicy would make for the acquirer, without saving it (the console's preview). */
  proposedPolicy(change: { manifest: ManifestUpload } | { tunables: trusttap.attest.v1.IPolicy }, acquirerId: string = DEFAULT_ACQUIRER): Policy {
    if ('manifest' in change) {
      const vm = this.verified(change.manifest);
      const now = this.policyOf(acquirerId);
      return now.manifestSha256.some((s) => hex(s) === vm.sha256) ? now : this.policyWithManifest(acquirerId, vm);
    }
    return this.policyWithTunables(acquirerId, change.tunables);
  }

  /** Replaces the acquirer's policy tunables with p's (a whole Policy, as GET returns it); the TA
   * and manifest allowlists stay manifest-driven. Returns the new version. */
  async updatePolicy(p: trusttap.attest.v1.IPolicy, by?: { actor: string; reason: string }, acquirerId: string = DEFAULT_ACQUIRER): Promise<number> {
    await acquirerOrFail(this.repo, acquirerId);
    await this.knowAcquirer(acquirerId);
    const next = this.policyWithTunables(acquirerId, p);
    await this.savePolicy(acquirerId, next, true, by);
    return next.version;
  }

  private policyWithTunables(acquirerId: string, p: trusttap.attest.v1.IPolicy): Policy {
    if (!p.runtimeVersions?.length || !p.bootStates?.length) throw malformed('a policy needs runtime_versions and boot_states (send the whole policy as GET returns it)');
    try {
      checkRevocations(p);
      checkOfflinePolicy(p);
    } catch (e) {
      throw malformed((e as Error).message);
    }
    const now = this.policyOf(acquirerId);
    return a.Policy.create({
      ...now,
      runtimeVersions: p.runtimeVersions, bootStates: p.bootStates, requiredTas: p.requiredTas ?? [],
      nonceTtlMs: p.nonceTtlMs ?? u64(0), tokenTtlMs: p.tokenTtlMs ?? u64(0), heartbeatTimeoutMs: p.heartbeatTimeoutMs ?? u64(0),
      locationJumpKm: p.locationJumpKm ?? 0, developerOptionsStepUp: !!p.developerOptionsStepUp,
      emulatorSuspend: !!p.emulatorSuspend, debuggerSuspend: !!p.debuggerSuspend,
      relaySuspend: !!p.relaySuspend, hceSuspend: !!p.hceSuspend, relayDecline: !!p.relayDecline,
      clientPlatformMeasuredOnly: !!p.clientPlatformMeasuredOnly,
      // Revocations (issue 17 §10) only add up: a PUT that leaves one out does not un-revoke it.
      revokedManifestSha256: unionBytes(now.revokedManifestSha256, p.revokedManifestSha256 ?? []),
      taMinVersions: raiseFloors(now.taMinVersions, p.taMinVersions ?? []),
      offlineLimits: p.offlineLimits ?? [], offlineMaxCount: p.offlineMaxCount ?? 0,
      offlineMaxAgeMs: p.offlineMaxAgeMs ?? u64(0), offlinePolicyTtlMs: p.offlinePolicyTtlMs ?? u64(0),
      version: (this.policies.get(acquirerId)?.version ?? now.version) + 1,
    });
  }

  /** A terminal of the acquirer's merchant, and its one-time activation code: the code is what
   * tells the app API which acquirer the terminal belongs to. A merchant id is the first
   * acquirer's that registers it; another acquirer's terminal for it is a 409. */
  async createTerminal(merchantId: string, terminalId: string, actor?: string, acquirerId: string = DEFAULT_ACQUIRER): Promise<{ deviceId: string; activationCode: string; expiresMs: number; acquirerId: string }> {
    // EMV Merchant Identifier (9F16, ans 15) and Terminal Identification (9F1C, an 8).
    if (!/^[A-Za-z0-9._-]{1,15}$/.test(merchantId)) throw malformed('merchant_id must be 1..15 characters of [A-Za-z0-9._-]');
    if (!/^[A-Za-z0-9._-]{1,8}$/.test(terminalId)) throw malformed('terminal_id must be 1..8 characters of [A-Za-z0-9._-]');
    await acquirerOrFail(this.repo, acquirerId);
    await this.knowAcquirer(acquirerId);
    const now = this.now();
    const deviceId = `dev-${randomBytes(10).toString('hex')}`;
    // 20 characters of Crockford base32: 100 bits, typed by a person from the back office.
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const raw = randomBytes(20);
    const code = [...raw].map((b) => alphabet[b & 31]).join('').replace(/(.{5})(?!$)/g, '$1-');
    const expiresMs = now + (this.opts.activationTtlMs ?? 24 * 3600_000);
    await this.repo.transaction(async () => {
      if (await this.repo.claimMerchant(merchantId, acquirerId) !== acquirerId) throw new ApiError(409, ErrorCode.ERROR_CONFLICT, `merchant ${merchantId} belongs to another acquirer`);
      if (await this.repo.getDeviceByTerminal(merchantId, terminalId)) throw new ApiError(409, ErrorCode.ERROR_CONFLICT, `terminal ${merchantId}/${terminalId} exists`);
      await this.repo.createDevice({ deviceId, acquirerId, merchantId, terminalId, activationHash: activationHash(code), activationExpiresMs: expiresMs, createdMs: now });
      await this.repo.appendHistory({ deviceId, timeMs: now, kind: 'state', verdict: '', detail: `registered by the back office for acquirer ${acquirerId}${actor ? ` (by ${actor})` : ''}`, policyVersion: this.policyOf(acquirerId).version });
    });
    return { deviceId, activationCode: code, expiresMs, acquirerId };
  }

  /** actor: who asked (the console's operator), written into the device history with the reason. */
  async setState(deviceId: string, state: DeviceStateName, reason: string, actor: string | undefined, scope: Scope): Promise<DeviceRow> {
    const now = this.now();
    return this.repo.transaction(async () => {
      const d = await this.repo.getDevice(deviceId, scope);
      if (!d) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no device ${deviceId}`);
      if (d.state === state) return d;
      if (!TRANSITIONS[d.state].includes(state)) throw new ApiError(409, ErrorCode.ERROR_CONFLICT, `a ${d.state} device cannot become ${state}`);
      await this.changeState(d, state, reason || 'back office', now, actor);
      return (await this.repo.getDevice(deviceId))!;
    });
  }

  /** Ends a terminal's unused activation code now (a code handed to the wrong person). */
  async expireActivation(deviceId: string, reason: string, actor: string, scope: Scope): Promise<DeviceRow> {
    const now = this.now();
    return this.repo.transaction(async () => {
      const d = await this.repo.getDevice(deviceId, scope);
      if (!d) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no device ${deviceId}`);
      if (d.state !== 'registered' || !d.activationHash) throw new ApiError(409, ErrorCode.ERROR_CONFLICT, `device ${deviceId} has no unused activation code`);
      if (d.activationExpiresMs <= now) return d;
      await this.repo.updateDevice(deviceId, { activationExpiresMs: now });
      await this.repo.appendHistory({ deviceId, timeMs: now, kind: 'activation', verdict: '', detail: `activation code expired: ${reason} (by ${actor})`, policyVersion: this.policyOf(d.acquirerId).version });
      return (await this.repo.getDevice(deviceId))!;
    });
  }

  /** The back office reverses a journaled approval (the same reversal a device asks for, with
   * who and why in the history). Unknown → 404; a decline cannot be reversed → 409. */
  async reversePayment(deviceId: string, clientTransactionId: string, reason: string, actor: string, scope: Scope): Promise<trusttap.payment.v1.IReverseResponse> {
    const now = this.now();
    return this.repo.transaction(async () => {
      const d = await this.repo.getDevice(deviceId, scope);
      const p = d ? await this.repo.getPayment(deviceId, clientTransactionId) : null;
      if (!d || !p) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no payment ${clientTransactionId} of device ${deviceId}`);
      if (p.decision !== 'approved') throw new ApiError(409, ErrorCode.ERROR_CONFLICT, `payment ${p.reference} was declined: nothing to reverse`);
      if (p.reversedMs > 0) throw new ApiError(409, ErrorCode.ERROR_CONFLICT, `payment ${p.reference} is already reversed`);
      const out = await this.payments.reverse(d, clientTransactionId, now);
      await this.repo.appendHistory({ deviceId, timeMs: now, kind: 'payment', verdict: '', detail: `${p.reference}: reversal by the back office: ${reason} (by ${actor})`, policyVersion: this.policyOf(d.acquirerId).version });
      return out;
    });
  }

  private async changeState(d: DeviceRow, state: DeviceStateName, reason: string, now: number, actor?: string): Promise<void> {
    const patch: Partial<DeviceRow> = { state, stateReason: reason };
    if (state === 'active' && d.state === 'suspended') {
      patch.attestationRequired = true;
      await this.notice(d, 'DEVICE_REACTIVATED', reason, now);
    }
    if (state === 'suspended') await this.notice(d, 'DEVICE_SUSPENDED', reason, now);
    await this.repo.updateDevice(d.deviceId, patch);
    await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind: 'state', verdict: '', detail: `${d.state} -> ${state}: ${reason}${actor ? ` (by ${actor})` : ''}`, policyVersion: this.policyOf(d.acquirerId).version });
    d.state = state;
  }

  /** Issue 17 §1: a TEE counter the back end witnessed went back. A monitoring event (history,
   * THREAT_ALERT notice) that suspends an active device; the back office may reactivate it after
   * looking (the device must then attest afresh, with counters above the witnessed ones). */
  private async rollbackDetected(d: DeviceRow, reason: string, now: number): Promise<void> {
    await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind: 'rule', verdict: 'suspend', detail: reason, policyVersion: this.policyOf(d.acquirerId).version });
    await this.notice(d, 'THREAT_ALERT', reason, now);
    if (d.state === 'active') await this.changeState(d, 'suspended', reason, now);
  }

  /** Issue 14 §2: a payment the terminal approved offline was declined when it was uploaded (a
   * decline after the fact: the acquirer carries the loss). A risk event on the device: history
   * and a THREAT_ALERT notice; the device stays active — monitoring and the operator decide. */
  private async offlineDeclined(d: DeviceRow, detail: string, now: number): Promise<void> {
    const reason = `offline payment declined after the fact: ${detail}`;
    await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind: 'risk', verdict: '', detail: reason, policyVersion: this.policyOf(d.acquirerId).version });
    await this.notice(d, 'THREAT_ALERT', reason, now);
  }

  /** The device's signed offline policy (issue 14 §2): limits only with an ALLOW verdict; it
   * acknowledges the records journaled so far (uploaded_through_counter). */
  private async signedOfflinePolicy(d: DeviceRow, verdict: Exclude<VerdictName, ''>, now: number) {
    const policy = offlinePolicyBytes(this.policyOf(d.acquirerId), {
      deviceId: d.deviceId, deviceKeySha256: sha256(d.publicKey), merchantId: d.merchantId, allow: verdict === 'allow',
      uploadedThrough: await this.repo.lastRecordCounter(d.deviceId), now,
    });
    return { policy, signature: this.hsm.sign('token', offlinePolicySigningInput(policy)) };
  }

  /** Issue 14: a payment the kernel flagged as relayed. A threat alert, and the device attests
   *  again before its next payment (its evidence then carries the phone's relay signals). */
  private async relaySuspected(d: DeviceRow, reason: string, now: number): Promise<void> {
    await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind: 'rule', verdict: 'step-up', detail: reason, policyVersion: this.policyOf(d.acquirerId).version });
    await this.notice(d, 'THREAT_ALERT', reason, now);
    await this.repo.updateDevice(d.deviceId, { attestationRequired: true });
  }

  /** The counters evidence carries, witnessed (backend/attestation/witness.ts): the RPMB write
   * counter and each TA's version (equal is fine: nothing changed in between) and the pinpad's
   * entry epoch when its nonce rides along (strictly up). Suspend findings. */
  private async assessCounters(d: DeviceRow, evidence: trusttap.attest.v1.Evidence): Promise<string[]> {
    const out: string[] = [];
    const rpmb = evidence.measurements?.rpmbWriteCounter ?? 0;
    if (rpmb > 0) {
      const why = await witness(this.repo, d.deviceId, 'rpmb', rpmb, false, 'RPMB write counter');
      if (why) out.push(`suspend: ${why}`);
    }
    // Each TA's version only moves forward on a device (the back end's side of TA anti-rollback,
    // issue 17 §10): an older build, however correctly signed, suspends.
    for (const t of evidence.measurements?.tas ?? []) {
      const v = versionNumber(t.version ?? '');
      if (v === null) continue;
      const why = await witness(this.repo, d.deviceId, `ta-version:${hex(t.uuid ?? new Uint8Array(0))}`, v, false, `TA ${t.name} version (${t.version}, as a number)`);
      if (why) out.push(`suspend: ${why}`);
    }
    const epoch = pinpadEpoch(evidence.nonce);
    if (epoch !== null) {
      const why = await witness(this.repo, d.deviceId, 'pinpad-epoch', epoch, true, 'pinpad entry epoch');
      if (why) out.push(`suspend: ${why}`);
    }
    return out;
  }

  private async notice(d: Pick<DeviceRow, 'deviceId' | 'acquirerId'>, type: NoticeTypeName, reason: string, now: number, policyVersion = this.policyOf(d.acquirerId).version): Promise<void> {
    await this.repo.addNotice({ deviceId: d.deviceId, type, reason, createdMs: now, policyVersion });
    await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind: 'notice', verdict: '', detail: `${type}: ${reason}`, policyVersion });
  }

  async deviceRecord(deviceId: string, scope: Scope): Promise<trusttap.attest.v1.DeviceRecord> {
    const d = await this.repo.getDevice(deviceId, scope);
    if (!d) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no device ${deviceId}`);
    return a.DeviceRecord.create({
      deviceId: d.deviceId, merchantId: d.merchantId, terminalId: d.terminalId, state: STATE[d.state], stateReason: d.stateReason,
      publicKey: d.publicKey, lastCounter: u64(d.lastCounter), lastHeartbeatMs: u64(d.lastHeartbeatMs),
      lastAttestationMs: u64(d.lastAttestationMs), lastVerdict: d.lastVerdict ? VERDICT[d.lastVerdict] : 0,
    });
  }

  async history(deviceId: string, scope: Scope): Promise<trusttap.attest.v1.HistoryEntry[]> {
    if (!await this.repo.getDevice(deviceId, scope)) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no device ${deviceId}`);
    return (await this.repo.history(deviceId)).map((h) => a.HistoryEntry.create({
      id: u64(h.id), deviceId: h.deviceId, timeMs: u64(h.timeMs), kind: h.kind, verdict: h.verdict ? VERDICT[h.verdict] : 0, detail: h.detail, policyVersion: h.policyVersion,
    }));
  }

  /** Whether the device may take a payment now (issue 7's authorization asks this first). */
  async paymentGate(deviceId: string, device?: DeviceRow): Promise<{ allowed: boolean; reason: string }> {
    const d = device ?? await this.repo.getDevice(deviceId);
    const now = this.now();
    if (!d) return { allowed: false, reason: 'unknown device' };
    if (d.state !== 'active') return { allowed: false, reason: `device ${d.state}${d.stateReason ? `: ${d.stateReason}` : ''}` };
    if (this.heartbeatMissed(d, now) || d.attestationRequired) return { allowed: false, reason: 'a fresh attestation is required' };
    if (d.lastVerdict !== 'allow') return { allowed: false, reason: `last verdict ${d.lastVerdict || 'none'}` };
    if (now - d.lastAttestationMs > ttl(this.policyOf(d.acquirerId), 'tokenTtlMs')) return { allowed: false, reason: 'the last attestation has expired' };
    return { allowed: true, reason: '' };
  }

  private heartbeatMissed(d: DeviceRow, now: number): boolean {
    const last = Math.max(d.lastHeartbeatMs, d.lastAttestationMs);
    return d.state === 'active' && last > 0 && now - last > ttl(this.policyOf(d.acquirerId), 'heartbeatTimeoutMs');
  }

  /** Monitoring sweep: active devices silent past the heartbeat timeout need a fresh attestation. */
  async sweep(): Promise<number> {
    const now = this.now();
    let n = 0;
    await this.repo.transaction(async () => {
      for (const d of await this.repo.listDevices(['active'], ALL_ACQUIRERS)) {
        if (!d.attestationRequired && this.heartbeatMissed(d, now)) { await this.missedHeartbeats(d, now); n++; }
      }
      await this.repo.purgeNonces(now - 60_000);
    });
    return n;
  }

  private async missedHeartbeats(d: DeviceRow, now: number): Promise<void> {
    await this.repo.updateDevice(d.deviceId, { attestationRequired: true });
    d.attestationRequired = true;
    await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind: 'rule', verdict: '', detail: 'missed heartbeats: payments refused until a fresh attestation', policyVersion: this.policyOf(d.acquirerId).version });
    await this.notice(d, 'ATTESTATION_REQUIRED', 'missed heartbeats', now);
  }

  /** Checks a txsign record (proto/txsign.proto) for issue 7's authorization: the device is
   * known, the signature is the attest TA's SIGN for the txsign TA over exactly these bytes by the
   * enrolled device key, and the DUKPT MAC (AES-CMAC, MAC generation key of macKsn) verifies
   * under the BDK. Counters and journaling are the authorization's. With encryptedData (the
   * record's card data) the MAC's HSM operation also decrypts it (Hsm.openDukptRecord): cardData,
   * null if it does not decrypt; the caller wipes it. */
  async checkTransactionRecord(deviceId: string, record: Uint8Array, signature: Uint8Array, mac: Uint8Array, macKsn: Uint8Array, device?: DeviceRow, encryptedData?: Uint8Array): Promise<{ ok: boolean; reason: string; cardData?: Uint8Array | null }> {
    const d = device ?? await this.repo.getDevice(deviceId);
    if (!d || !d.publicKey.length) return { ok: false, reason: 'unknown device' };
    const msg = Buffer.concat([TXSIGN_LABEL_PREFIX, record]);
    if (!this.ahead.verify(d.publicKey, msg, signature)) return { ok: false, reason: 'the record signature does not verify with the device key' };
    const badMac = { ok: false, reason: 'the record MAC does not verify' };
    if (encryptedData) {
      const opened = await this.hsm.openDukptRecord(bdkIdOf(d.acquirerId), macKsn, record, mac, encryptedData);
      return opened.macValid ? { ok: true, reason: '', cardData: opened.data } : badMac;
    }
    if (!await this.hsm.verifyDukptMac(bdkIdOf(d.acquirerId), macKsn, record, mac)) return badMac;
    return { ok: true, reason: '' };
  }

  async generateBdk(bdkId: string): Promise<Uint8Array> {
    try {
      return await this.hsm.generateBdk(bdkId);
    } catch (e) {
      if (e instanceof HsmError) throw new ApiError(409, ErrorCode.ERROR_CONFLICT, e.message);
      throw e;
    }
  }

  serviceKeys() {
    return a.EnrolResponse.create({
      responsePublicKey: this.hsm.publicKey('response'), tokenPublicKey: this.hsm.publicKey('token'),
      keyAgreementPublicKey: this.hsm.publicKey('key-agreement'),
    });
  }

  // ------------------------------------------------------------------ device API

  /** A device request, decided and answered (decideDevice, its answer signed here on the event
   * loop: one request at a time, a hand-off to the thread pool would only add its latency). */
  async handleDevice(op: DeviceOp, body: Uint8Array, ahead?: Ahead): Promise<DeviceAnswer> {
    const d = await this.decideDevice(op, body, ahead);
    return d.message === 'SignedDeviceResponse' ? this.sealAnswer(d, this.hsm.sign('response', d.body)) : d;
  }

  /** Issue 13 §4: before the request joins a transaction, its signatures (the envelope's and, for
   * an authorization, the txsign record's) are verified on libuv's thread pool with the key the
   * device was last authenticated with, so that the checks in decideDevice find the answers
   * ready instead of computing them on the event loop. Decides nothing and never throws: a
   * request that does not decode, or a device not seen yet, is simply checked in decideDevice. */
  async verifyAhead(op: DeviceOp, body: Uint8Array): Promise<Ahead> {
    let decoded: DecodedRequest;
    try { decoded = decodeRequest(body, BODY_FIELD[op]); } catch { return { op, body, decoded: null, release: () => undefined }; }
    const { signed, req } = decoded;
    const key = req.deviceId ? this.deviceKeyHints.get(req.deviceId) : signed.publicKey;
    if (!key) return { op, body, decoded, release: () => undefined };
    const started = [this.ahead.start(key, decoded.message, signed.signature)];
    const record = op === 'authorize' && req.deviceId ? signedRecordOf(req.authorize?.signedTransaction) : null;
    if (record) started.push(this.ahead.start(key, Buffer.concat([TXSIGN_LABEL_PREFIX, record.record]), record.signature));
    await Promise.all(started.map((s) => s.done));
    return { op, body, decoded, release: () => { for (const s of started) s.forget(); } };
  }

  /** Signs a decided answer with the response key on the thread pool (what the HTTP server does
   * while the commit's fdatasync runs); an ErrorResponse is not signed. */
  async signAnswer(d: DecidedAnswer): Promise<DeviceAnswer> {
    return d.message === 'SignedDeviceResponse' ? this.sealAnswer(d, await this.hsm.signAsync('response', d.body)) : d;
  }

  private sealAnswer(d: DecidedAnswer, signature: Uint8Array): DeviceAnswer {
    return { ...d, body: a.SignedDeviceResponse.encode({ response: d.body, signature }).finish() };
  }

  /** A device request's checks and effects, and its answer's DeviceResponse (signAnswer signs
   * it; the HTTP server signs while the group's commit is made durable). */
  async decideDevice(op: DeviceOp, body: Uint8Array, ahead?: Ahead): Promise<DecidedAnswer> {
    const now = this.now();
    let ctx: Ctx | null = null;
    try {
      await this.refreshPolicy();
      ctx = await this.authenticate(op, body, now, ahead?.body === body && ahead.op === op ? ahead.decoded ?? undefined : undefined);
      checkTime(ctx.req, now);
      this.checkState(ctx, op);
      const c = ctx;
      const { result, notices } = await this.repo.transaction(async () => {
        const result = await this.dispatch(op, c);
        const id = c.device?.deviceId;
        return { result, notices: id ? await this.repo.takeNotices(id) : [] };
      });
      const decided = (result.authorize ?? result.qrAuthorize) as trusttap.payment.v1.IAuthorizeResponse | undefined;
      if (decided) {
        c.outcome.decision = decided.decision === pay.Decision.DECISION_APPROVED ? 'approved' : 'declined';
        c.outcome.reason = reasonName(decided.reason ?? 0);
      }
      c.outcome.deviceId = c.device?.deviceId;
      return { ...(await this.answer(c, 200, result, notices)), outcome: c.outcome };
    } catch (e) {
      const err = e instanceof ApiError ? e : internal(e);
      const used = ctx?.consumed;
      if (used && (used.nonces.length || used.rkiSessions.length)) {
        await this.repo.transaction(async () => {
          for (const n of used.nonces) await this.repo.takeNonce(n);
          for (const r of used.rkiSessions) await this.repo.takeRkiSession(r);
        });
      }
      const outcome = ctx ? { ...ctx.outcome, deviceId: ctx.device?.deviceId } : undefined;
      const error = { code: err.code, message: err.message, clientRefusal: err.extra.clientRefusal ?? 0 };
      if (err.extra.monitor) {
        try { await this.monitoringEvent(err.extra.monitor, now); } catch { /* the refusal stands even if its record could not be written */ }
      }
      if (!ctx || !ctx.device || ctx.device.publicKey.length === 0 || err.http === 401) {
        return { http: err.http, message: 'ErrorResponse', body: a.ErrorResponse.encode(error).finish(), error: err, outcome };
      }
      const d = ctx.device;
      try {
        await this.repo.transaction(async () => await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind: 'refused', verdict: '', detail: `${op}: ${err.codeName}: ${err.message}`, policyVersion: this.policyOf(d.acquirerId).version }));
      } catch { /* history is best effort for refusals */ }
      return { ...(await this.answer(ctx, err.http, { error })), error: err, outcome };
    }
  }

  private async authenticate(op: DeviceOp, body: Uint8Array, now: number, decoded?: DecodedRequest): Promise<Ctx> {
    const d = decoded ?? decodeRequest(body, BODY_FIELD[op]);
    const { signed, req } = d;
    const consumed = { nonces: [], rkiSessions: [] };
    if (!req.deviceId) {
      const key = verifyFirstContact(d, op === 'challenge' || op === 'enrol', (k, m, s) => this.ahead.verify(k, m, s));
      return { now, request: signed.request, req, device: null, key, consumed, outcome: {} };
    }
    const device = await this.repo.getDevice(req.deviceId);
    verifyDeviceSignature(d, device?.publicKey, (k, m, s) => this.ahead.verify(k, m, s)); // throws (404) when there is no such device
    this.hintDeviceKey(device!.deviceId, device!.publicKey);
    await this.knowAcquirer(device!.acquirerId);
    return { now, request: signed.request, req, device: device!, key: device!.publicKey, consumed, outcome: {} };
  }

  /** After authentication: a suspended or disabled device is refused (with a signed answer). */
  private checkState(ctx: Ctx, op: DeviceOp): void {
    const { device, req, now } = ctx;
    if (!device) return;
    if (device.state === 'disabled') throw new ApiError(403, ErrorCode.ERROR_DEVICE_DISABLED, `device disabled: ${device.stateReason}`);
    if (device.state === 'suspended' && !PAYMENT_OPS.has(op)) throw new ApiError(403, ErrorCode.ERROR_DEVICE_SUSPENDED, `device suspended: ${device.stateReason}`);
  }

  private async dispatch(op: DeviceOp, c: Ctx): Promise<Record<string, unknown>> {
    const d = c.device;
    const counter = boundedCounter(c.req.counter, d?.lastCounter ?? 0, c.now);
    let lastRecordCounter: number | undefined;
    if (d) {
      // One statement: the counter's compare-and-set and the time of contact (and, for an
      // authorization, the device's last accepted record counter as that update left it).
      if (op === 'authorize') {
        const r = await this.repo.advanceCounterReadingRecord(d.deviceId, counter, c.now);
        if (!r) throw replay(`counter ${counter} is not above the last accepted ${d.lastCounter}`);
        lastRecordCounter = r.lastRecordCounter;
      } else if (!await this.repo.advanceCounter(d.deviceId, counter, c.now)) throw replay(`counter ${counter} is not above the last accepted ${d.lastCounter}`);
      if (!d.attestationRequired && this.heartbeatMissed(d, c.now)) await this.missedHeartbeats(d, c.now);
    }
    switch (op) {
      case 'challenge': return { challenge: await this.challenge(c) };
      case 'enrol': return { enrol: await this.enrol(c) };
      case 'attest': return { attest: await this.attest(c) };
      case 'heartbeat': return { heartbeat: await this.heartbeat(c) };
      case 'key_exchange': return { keyExchange: await this.keyExchange(c) };
      case 'key_download': return { keyDownload: await this.keyDownload(c) };
      case 'authorize': return { authorize: await this.payments.authorize(d!, c.req.authorize!, c.now, lastRecordCounter) };
      case 'transaction_status': return { transactionStatus: await this.payments.status(d!, this.ctid(c.req.transactionStatus?.clientTransactionId)) };
      case 'reverse': return { reverse: await this.payments.reverse(d!, this.ctid(c.req.reverse?.clientTransactionId), c.now) };
      case 'qr_order': return { qrOrder: await this.qr.order(d!, c.req.qrOrder!, c.now) };
      case 'qr_status': return { qrStatus: await this.qr.status(d!, c.req.qrStatus!, c.now) };
      case 'qr_authorize': return { qrAuthorize: await this.qr.authorize(d!, c.req.qrAuthorize!, c.now) };
    }
  }

  private hintDeviceKey(deviceId: string, key: Uint8Array): void {
    if (!this.deviceKeyHints.has(deviceId) && this.deviceKeyHints.size >= DEVICE_KEY_HINTS) this.deviceKeyHints.delete(this.deviceKeyHints.keys().next().value!);
    this.deviceKeyHints.set(deviceId, key);
  }

  /** The answer's DeviceResponse, unsigned (signAnswer). */
  private async answer(c: Ctx, http: number, body: Record<string, unknown>, taken?: NoticeRow[]): Promise<DecidedAnswer> {
    const deviceId = c.device?.deviceId ?? '';
    const notices = taken ?? (deviceId ? await this.repo.transaction(async () => await this.repo.takeNotices(deviceId)) : []);
    const response = a.DeviceResponse.encode({
      requestSha256: sha256(c.request), counter: c.req.counter, deviceId, timeMs: u64(c.now),
      notices: notices.map((n) => ({ id: u64(n.id), type: NOTICE[n.type], reason: n.reason, createdMs: u64(n.createdMs), policyVersion: n.policyVersion })),
      ...body,
    }).finish();
    return { http, message: 'SignedDeviceResponse', body: response };
  }

  private async challenge(c: Ctx) {
    const nonce = randomBytes(32);
    if (c.device) {
      const expiresMs = c.now + ttl(this.policyOf(c.device.acquirerId), 'nonceTtlMs');
      await this.repo.putNonce({ nonce: hex(nonce), deviceId: c.device.deviceId, activationHash: '', keyHash: '', expiresMs });
      return { nonce, expiresMs: u64(expiresMs) };
    } else {
      const d = await this.activatable(c.req.challenge?.activationCode ?? '', c.now);
      const expiresMs = c.now + ttl(this.policyOf(d.acquirerId), 'nonceTtlMs');
      await this.repo.putNonce({ nonce: hex(nonce), deviceId: d.deviceId, activationHash: d.activationHash, keyHash: sha256Hex(c.key), expiresMs });
      return { nonce, expiresMs: u64(expiresMs) };
    }
  }

  private async activatable(code: string, now: number): Promise<DeviceRow> {
    const d = code ? await this.repo.getDeviceByActivation(activationHash(code)) : null;
    if (!d || d.state !== 'registered') throw new ApiError(403, ErrorCode.ERROR_BAD_ACTIVATION_CODE, 'unknown or used activation code');
    if (now > d.activationExpiresMs) throw new ApiError(403, ErrorCode.ERROR_BAD_ACTIVATION_CODE, 'the activation code has expired');
    await this.knowAcquirer(d.acquirerId);
    return d;
  }

  /** Takes the evidence's nonce (single use) and checks it was issued to this party. The
   * evidence nonce is the back end's 32-byte challenge, optionally followed by up to 32 bytes of
   * the device's own (the pinpad TA's nonce, so the verdict token answers both). */
  private async useNonce(nonce: Uint8Array, c: Ctx, expect: { deviceId: string; activationHash?: string; keyHash?: string }): Promise<void> {
    if (nonce.length < 32 || nonce.length > 64) throw new ApiError(409, ErrorCode.ERROR_NONCE_UNKNOWN, 'the evidence nonce must be the 32-byte challenge, optionally followed by up to 32 bytes of the device\'s own');
    const n = await this.repo.takeNonce(hex(nonce.subarray(0, 32)));
    if (n) c.consumed.nonces.push(n.nonce);
    if (!n) throw new ApiError(409, ErrorCode.ERROR_NONCE_UNKNOWN, 'the evidence nonce is unknown or was already used');
    if (n.deviceId !== expect.deviceId || (expect.activationHash !== undefined && n.activationHash !== expect.activationHash) || (expect.keyHash !== undefined && n.keyHash !== expect.keyHash)) {
      throw new ApiError(409, ErrorCode.ERROR_NONCE_UNKNOWN, 'the evidence nonce was issued to someone else');
    }
    if (c.now > n.expiresMs) throw new ApiError(409, ErrorCode.ERROR_NONCE_EXPIRED, 'the evidence nonce has expired');
  }

  private open(signed: trusttap.attest.v1.ISignedEvidence | null | undefined, key: Uint8Array) {
    try {
      return openEvidence(signed, key);
    } catch (e) {
      if (!(e instanceof EvidenceError)) throw e;
      if (e.code === 'BAD_SIGNATURE' || e.code === 'WRONG_KEY') throw new ApiError(401, ErrorCode.ERROR_BAD_EVIDENCE, e.message);
      throw new ApiError(400, ErrorCode.ERROR_BAD_EVIDENCE, e.message);
    }
  }

  private token(d: Pick<DeviceRow, 'deviceId' | 'acquirerId'>, devicePub: Uint8Array, verdict: Exclude<VerdictName, ''>, reasons: string[], nonce: Uint8Array, evidenceSha: string, now: number) {
    const token = a.VerdictToken.encode({
      version: 1, deviceId: d.deviceId, deviceKeySha256: sha256(devicePub), verdict: VERDICT[verdict], issuedMs: u64(now),
      expiresMs: u64(now + ttl(this.policyOf(d.acquirerId), 'tokenTtlMs')), policyVersion: this.policyOf(d.acquirerId).version, nonce,
      evidenceSha256: Buffer.from(evidenceSha, 'hex'), reasons, keyId: sha256(this.hsm.publicKey('token')),
    }).finish();
    return { token, signature: this.hsm.sign('token', token) };
  }

  /** Keeps what the REE reported when it differs from the last kept (console: IP and location
   * history, health signals; the measurements let a new policy be tried on the device). */
  private async keepSignals(deviceId: string, source: 'attestation' | 'heartbeat', ree: trusttap.attest.v1.IReeSignals | null | undefined, m: trusttap.attest.v1.IMeasurements | null | undefined, now: number, client?: trusttap.attest.v1.IClientMeasurement | null): Promise<void> {
    if (!ree && !m) return;
    const signals = JSON.stringify(ree ? {
      rooted: !!ree.rooted, debuggerAttached: !!ree.debuggerAttached, hookingFramework: !!ree.hookingFramework, emulator: !!ree.emulator,
      developerOptions: !!ree.developerOptions, deviceId: ree.deviceId ?? '', osVersion: ree.osVersion ?? '', appVersion: ree.appVersion ?? '',
    } : {});
    const measurements = m ? JSON.stringify({
      runtimeVersion: m.runtimeVersion ?? '', bootState: m.bootState ?? 0, manifestSha256: hex(m.manifestSha256 ?? new Uint8Array(0)),
      tas: (m.tas ?? []).map((t) => ({ name: t.name ?? '', uuid: hex(t.uuid ?? new Uint8Array(0)), sha256: hex(t.sha256 ?? new Uint8Array(0)) })),
      // Issue 16 §2: the REE client the evidence named (the console's device view shows it).
      ...(client ? { client: { name: client.name ?? '', version: client.version ?? '', sha256: hex(client.sha256 ?? new Uint8Array(0)), source: client.source ?? 0 } } : {}),
    }) : '';
    const row = { deviceId, timeMs: now, source, ip: ree?.ipAddress ?? '', latE6: ree?.location ? ree.location.latitudeE6 ?? 0 : null, lonE6: ree?.location ? ree.location.longitudeE6 ?? 0 : null, signals, measurements };
    const last = (await this.repo.deviceSignals(deviceId, 1))[0];
    const same = last && last.ip === row.ip && last.latE6 === row.latE6 && last.lonE6 === row.lonE6 && last.signals === row.signals && (!measurements || last.measurements === measurements);
    if (!same) await this.repo.appendDeviceSignals({ ...row, measurements: measurements || last?.measurements || '' });
  }

  private async recordVerdict(d: DeviceRow, verdict: Exclude<VerdictName, ''>, reasons: string[], ree: trusttap.attest.v1.IReeSignals | null | undefined, evidenceSha: string, now: number, kind: string, m?: trusttap.attest.v1.IMeasurements | null, client?: trusttap.attest.v1.IClientMeasurement | null, note = ''): Promise<void> {
    await this.keepSignals(d.deviceId, 'attestation', ree, m, now, client);
    const patch: Partial<DeviceRow> = {
      lastAttestationMs: now, lastHeartbeatMs: now, lastVerdict: verdict, attestationRequired: verdict !== 'allow',
      lastIp: ree?.ipAddress || d.lastIp, reeDeviceId: d.reeDeviceId || ree?.deviceId || '',
    };
    if (ree?.location) { patch.lastLatE6 = ree.location.latitudeE6 ?? 0; patch.lastLonE6 = ree.location.longitudeE6 ?? 0; }
    await this.repo.updateDevice(d.deviceId, patch);
    await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind, verdict, detail: `${reasons.join('; ') || 'all checks passed'}${note ? `; ${note}` : ''} (evidence ${evidenceSha.slice(0, 16)}…)`, policyVersion: this.policyOf(d.acquirerId).version });
    if (verdict === 'suspend' && d.state === 'active') {
      await this.notice(d, 'THREAT_ALERT', reasons.filter((r) => r.startsWith('suspend')).join('; '), now);
      await this.changeState(d, 'suspended', reasons.filter((r) => r.startsWith('suspend')).map((r) => r.slice(9)).join('; '), now);
    } else if (verdict === 'step-up') {
      await this.notice(d, 'THREAT_ALERT', reasons.join('; '), now);
    }
  }

  /** A refusal's monitoring event, committed on its own after the request rolled back: history
   * (kind 'rule', verdict suspend), a THREAT_ALERT notice, and the suspension of an active device. */
  private async monitoringEvent(m: MonitoringEvent, now: number): Promise<void> {
    await this.repo.transaction(async () => {
      const d = await this.repo.getDevice(m.deviceId);
      if (!d) return;
      await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind: 'rule', verdict: 'suspend', detail: m.detail, policyVersion: this.policyOf(d.acquirerId).version });
      await this.notice(d, 'THREAT_ALERT', m.detail, now);
      if (m.suspend && d.state === 'active') await this.changeState(d, 'suspended', m.detail, now);
    });
  }

  /** Issue 16 §2: the evidence's REE client against its acquirer's releases (the device's
   * acquirer, issue 16 §1) under that acquirer's policy. A refusal is a typed
   * 403 (ERROR_CLIENT_REFUSED with ClientRefusal) and a monitoring event; an enrolled device is
   * also suspended (its app changed under it). */
  private async checkClientOf(evidence: trusttap.attest.v1.Evidence, d: DeviceRow, c: Ctx, enrolled: boolean): Promise<string> {
    const decision = checkClient(evidence.client, await this.repo.listClientReleases(d.acquirerId), this.policyOf(d.acquirerId).clientPlatformMeasuredOnly);
    if (!decision.checked) return '';
    if (decision.ok) return `client ${decision.release.name} ${decision.release.version} allowed`;
    c.outcome.clientRefusal = decision.refusal;
    const detail = `client refused (${decision.refusal}): ${decision.detail}`;
    throw new ApiError(403, ErrorCode.ERROR_CLIENT_REFUSED, detail, {
      clientRefusal: CLIENT_REFUSAL[decision.refusal], monitor: { deviceId: d.deviceId, detail: `${enrolled ? 'attestation' : 'enrolment'} ${detail}`, suspend: enrolled },
    });
  }

  // ------------------------------------------------------------------ client releases (issue 16 §2)

  /** Allows a client release for an acquirer (`default` unless named): from a signed manifest's `client` entry (verified
   * with the trusted manifest key) or given directly. The same release again is a no-op; another
   * hash under an allowed name and version, or a revoked release, is a conflict (409). */
  async allowClient(r: trusttap.attest.v1.IAllowClientRequest, actor = 'back office', acquirerId: string = DEFAULT_ACQUIRER): Promise<ClientReleaseRow> {
    let name = r.name ?? '', version = r.version ?? '', sha = hex(r.sha256 ?? new Uint8Array(0));
    if (r.manifest?.length) {
      let client;
      try {
        client = verifiedManifest({ bytes: r.manifest, signature: r.manifestSignature ?? '' }, this.opts.manifestKeyPem).manifest.client;
      } catch (e) {
        throw malformed(`manifest refused: ${(e as Error).message}`);
      }
      if (!client) throw malformed('the manifest has no client entry (a build of TAs only)');
      ({ name, version, sha256: sha } = client);
    }
    if (!/^[\x21-\x7e]{1,64}$/.test(name) || !/^[\x21-\x7e]{1,64}$/.test(version)) throw malformed('a client release needs a name and a version (1..64 printable characters each)');
    if (!/^[0-9a-f]{64}$/.test(sha)) throw malformed('a client release needs its 32-byte SHA-256');
    const now = this.now();
    const row: ClientReleaseRow = { acquirerId, name, version, sha256: sha, allowed: true, allowedMs: now, revokedMs: 0, reason: r.reason || `allowed by ${actor}` };
    return this.repo.transaction(async () => {
      if (await this.repo.addClientRelease(row)) return row;
      const have = (await this.repo.listClientReleases(acquirerId)).find((x) => x.name === name && x.version === version)!;
      if (!have.allowed) throw new ApiError(409, ErrorCode.ERROR_CONFLICT, `client ${name} ${version} is revoked: it cannot be allowed again`);
      if (have.sha256 !== sha) throw new ApiError(409, ErrorCode.ERROR_CONFLICT, `client ${name} ${version} is allowed with another SHA-256 (${have.sha256.slice(0, 16)}…)`);
      return have;
    });
  }

  /** Revokes an allowed release: its devices are refused at their next attestation. */
  async revokeClient(name: string, version: string, reason: string, actor = 'back office', acquirerId: string = DEFAULT_ACQUIRER): Promise<ClientReleaseRow> {
    if (!reason) throw malformed('a revocation needs a reason');
    return this.repo.transaction(async () => {
      if (!await this.repo.revokeClientRelease(acquirerId, name, version, this.now(), `${reason} (by ${actor})`)) {
        const have = (await this.repo.listClientReleases(acquirerId)).find((x) => x.name === name && x.version === version);
        if (!have) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no client release ${name} ${version}`);
        return have;
      }
      return (await this.repo.listClientReleases(acquirerId)).find((x) => x.name === name && x.version === version)!;
    });
  }

  clientReleases(acquirerId: string = DEFAULT_ACQUIRER): Promise<ClientReleaseRow[]> {
    return this.repo.listClientReleases(acquirerId);
  }

  private async enrol(c: Ctx) {
    const r = c.req.enrol!;
    const d = await this.activatable(r.activationCode ?? '', c.now);
    let certified;
    try {
      certified = verifyOemChain(r.oemChain, this.opts.oemRoots, ATTEST_TA_UUID, c.now);
    } catch (e) {
      if (e instanceof CertificateError) throw new ApiError(403, ErrorCode.ERROR_BAD_CERTIFICATE, e.message);
      throw e;
    }
    if (hex(certified.publicKey) !== hex(c.key)) throw new ApiError(403, ErrorCode.ERROR_BAD_CERTIFICATE, 'the OEM chain certifies another key than the one that signed');
    const { evidence, sha256: evSha } = this.open(r.evidence, c.key);
    await this.useNonce(evidence.nonce, c, { deviceId: d.deviceId, activationHash: d.activationHash, keyHash: sha256Hex(c.key) });
    const clientNote = await this.checkClientOf(evidence, d, c, false);
    const { verdict, reasons } = verdictOf([...assessMeasurements(evidence.measurements, this.policyOf(d.acquirerId)), ...assessSignals(evidence.ree, null, this.policyOf(d.acquirerId)), ...await this.assessCounters(d, evidence)]);
    c.outcome.verdict = verdict;
    if (verdict === 'suspend') {
      throw new ApiError(403, ErrorCode.ERROR_ATTESTATION_REFUSED, `enrolment refused: ${reasons.filter((x) => x.startsWith('suspend')).join('; ')}`);
    }
    const now = c.now;
    const cert = a.CertificateBody.encode({
      version: 1, kind: a.CertificateKind.CERTIFICATE_KIND_DEVICE_IDENTITY, serial: sha256Hex(c.key).slice(0, 32),
      issuer: 'TrustTap acquirer device CA', subject: `device:${d.deviceId}`, subjectPublicKey: c.key,
      notBeforeMs: u64(now), notAfterMs: u64(now + 2 * 365 * 86_400_000), deviceId: d.deviceId, merchantId: d.merchantId, terminalId: d.terminalId,
    }).finish();
    await this.repo.updateDevice(d.deviceId, {
      publicKey: c.key, oemSerial: certified.oemSerial, activationHash: '', lastCounter: exactCounter(c.req.counter)!, lastContactMs: now,
    });
    await this.changeState(d, 'active', 'enrolled', now);
    d.publicKey = c.key;
    await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: now, kind: 'enrolment', verdict: '', detail: `OEM ${certified.rootName} serial ${certified.oemSerial}`, policyVersion: this.policyOf(d.acquirerId).version });
    await this.recordVerdict(d, verdict, reasons, evidence.ree, evSha, now, 'verdict', evidence.measurements, evidence.client, clientNote);
    c.device = await this.repo.getDevice(d.deviceId);
    return {
      deviceId: d.deviceId, merchantId: d.merchantId, terminalId: d.terminalId,
      deviceCertificate: { tbs: cert, signature: this.hsm.sign('device-ca', cert) },
      responsePublicKey: this.hsm.publicKey('response'), tokenPublicKey: this.hsm.publicKey('token'),
      // The device pins its acquirer's key-agreement key (remote key injection, issue 16 §1).
      keyAgreementPublicKey: await keyAgreementPublicKey(this.hsm, d.acquirerId),
      token: this.token(d, c.key, verdict, reasons, evidence.nonce, evSha, now),
    };
  }

  private async attest(c: Ctx) {
    const d = c.device!;
    const { evidence, sha256: evSha } = this.open(c.req.attest?.evidence, d.publicKey);
    await this.useNonce(evidence.nonce, c, { deviceId: d.deviceId });
    const clientNote = await this.checkClientOf(evidence, d, c, true);
    const { verdict, reasons } = verdictOf([...assessMeasurements(evidence.measurements, this.policyOf(d.acquirerId)), ...assessSignals(evidence.ree, d, this.policyOf(d.acquirerId)), ...await this.assessCounters(d, evidence)]);
    await this.recordVerdict(d, verdict, reasons, evidence.ree, evSha, c.now, 'verdict', evidence.measurements, evidence.client, clientNote);
    c.outcome.verdict = verdict;
    return { token: this.token(d, d.publicKey, verdict, reasons, evidence.nonce, evSha, c.now), offlinePolicy: await this.signedOfflinePolicy(d, verdict, c.now) };
  }

  private async heartbeat(c: Ctx) {
    const d = c.device!;
    const ree = c.req.heartbeat?.ree;
    const findings = assessSignals(ree, d, this.policyOf(d.acquirerId)).filter((r) => !r.startsWith('step-up: no REE'));
    const { verdict, reasons } = verdictOf(findings);
    await this.keepSignals(d.deviceId, 'heartbeat', ree, null, c.now);
    const patch: Partial<DeviceRow> = { lastHeartbeatMs: c.now, lastIp: ree?.ipAddress || d.lastIp };
    if (ree?.location) { patch.lastLatE6 = ree.location.latitudeE6 ?? 0; patch.lastLonE6 = ree.location.longitudeE6 ?? 0; }
    if (verdict !== 'allow') patch.attestationRequired = true;
    await this.repo.updateDevice(d.deviceId, patch);
    if (verdict !== 'allow') {
      await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: c.now, kind: 'rule', verdict, detail: `heartbeat: ${reasons.join('; ')}`, policyVersion: this.policyOf(d.acquirerId).version });
      await this.notice(d, 'THREAT_ALERT', reasons.join('; '), c.now);
      if (verdict === 'suspend') await this.changeState(d, 'suspended', reasons.filter((r) => r.startsWith('suspend')).map((r) => r.slice(9)).join('; '), c.now);
    }
    const now = (await this.repo.getDevice(d.deviceId))!;
    return { policyVersion: this.policyOf(d.acquirerId).version, attestationRequired: now.attestationRequired || now.state !== 'active' };
  }

  private async keyExchange(c: Ctx) {
    const d = c.device!;
    if (d.attestationRequired || d.lastVerdict !== 'allow' || c.now - d.lastAttestationMs > ttl(this.policyOf(d.acquirerId), 'tokenTtlMs')) {
      throw new ApiError(403, ErrorCode.ERROR_ATTESTATION_REQUIRED, 'key injection needs a fresh ALLOW attestation');
    }
    const sessionId = `rki-${randomBytes(12).toString('hex')}`;
    const ka = this.hsm.agreeKek(d.publicKey, sessionId);
    const expiresMs = c.now + (this.opts.rkiSessionTtlMs ?? 5 * 60_000);
    await this.repo.putRkiSession({ sessionId, deviceId: d.deviceId, wrappedKeys: ka.wrappedKeys, expiresMs });
    const offer = a.KeyAgreementOffer.encode({
      sessionId, deviceId: d.deviceId, deviceKeySha256: sha256(d.publicKey), backendEphemeralPublicKey: ka.ephemeralPublicKey,
      expiresMs: u64(expiresMs), macTagV: ka.macTagV, kekKeyId: `kek.${sessionId.slice(4, 16)}`,
    }).finish();
    await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: c.now, kind: 'key_injection', verdict: '', detail: `key agreement ${sessionId} offered`, policyVersion: this.policyOf(d.acquirerId).version });
    // Signed with the device's acquirer's key, the one the device pinned at enrolment.
    return { offer, offerSignature: await signKeyAgreement(this.hsm, d.acquirerId, offer) };
  }

  private async keyDownload(c: Ctx) {
    const d = c.device!;
    const r = c.req.keyDownload!;
    const s = await this.repo.takeRkiSession(r.sessionId ?? '');
    if (s) c.consumed.rkiSessions.push(s.sessionId);
    if (!s || s.deviceId !== d.deviceId) throw new ApiError(409, ErrorCode.ERROR_NONCE_UNKNOWN, 'no such key agreement session (unknown, used or another device\'s)');
    if (c.now > s.expiresMs) throw new ApiError(409, ErrorCode.ERROR_NONCE_EXPIRED, 'the key agreement session has expired');
    if (!this.hsm.checkDeviceConfirmation(s.sessionId, s.wrappedKeys, r.macTagU ?? new Uint8Array(0))) {
      throw new ApiError(401, ErrorCode.ERROR_KEY_CONFIRMATION_FAILED, 'the device\'s key confirmation tag does not match');
    }
    if (r.kekKcv?.length && !equalBytes(r.kekKcv, this.hsm.kekKcv(s.sessionId, s.wrappedKeys))) { // constant time
      throw new ApiError(401, ErrorCode.ERROR_KEY_CONFIRMATION_FAILED, 'the KEK check value differs');
    }
    // The acquirer's own BDK (its HSM namespace, backend/tenants.ts); the initial key id names it.
    const bdk = bdkIdOf(d.acquirerId);
    const bdkId = Buffer.from(sha256Hex(bdk).slice(0, 8), 'hex');
    const derivationId = Buffer.from(sha256Hex(d.deviceId, s.sessionId).slice(0, 8), 'hex');
    const ik = await this.hsm.wrapDukptInitialKey(s.sessionId, s.wrappedKeys, bdk, Buffer.concat([bdkId, derivationId]), 'dukpt.ik');
    await this.repo.appendHistory({ deviceId: d.deviceId, timeMs: c.now, kind: 'key_injection', verdict: '', detail: `${s.sessionId}: AES DUKPT initial key ${hex(ik.initialKeyId!)} sent (KCV ${hex(ik.kcv)})`, policyVersion: this.policyOf(d.acquirerId).version });
    return { keys: [{ keyId: ik.keyId, tr31: ik.tr31, kcv: ik.kcv, initialKeyId: ik.initialKeyId }] };
  }

  private ctid(id: string | null | undefined): string {
    if (!id || id.length > 64) throw malformed('client_transaction_id must be 1..64 characters');
    return id;
  }

  /** Parses a DeviceState name or number from the admin API. */
  static stateName(n: number): DeviceStateName | null { return STATE_BY_NUM[n] ?? null; }
}

export function activationHash(code: string): string {
  return sha256Hex(code.toUpperCase().replace(/[^0-9A-Z]/g, ''));
}

function internal(e: unknown): ApiError {
  return new ApiError(500, ErrorCode.ERROR_INTERNAL, `internal error: ${(e as Error)?.message ?? String(e)}`);
}
