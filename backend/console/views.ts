// What the console shows and does, as plain JSON, over the back end's own service functions
// (BackendService: setState, createTerminal, expireActivation, reversePayment, proposedPolicy,
// updatePolicy, allowManifest; the verdict rules of attestation/policy.ts) — no rule is copied
// here. Never a PAN (the journal's masked PAN only, not even its hash), a PIN block or a key.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { BackendService } from '../service.ts';
import type { DeviceRow, DeviceStateName, NoticeTypeName, PaymentRow, DeviceSignalsRow, PaymentSearch, Scope } from '../store/repository.ts';
import { ALL_ACQUIRERS, DEFAULT_ACQUIRER } from '../store/repository.ts';
import { assessMeasurements, assessSignals, verdictOf, type Policy } from '../attestation/policy.ts';
import { currentAnswer } from '../authorization/current.ts';
import { ApiError, ErrorCode, malformed } from '../errors.ts';
import { hex, num } from '../util.ts';
import { currencyOf, formatAmount } from '../../common/currency.ts';

const a = trusttap.attest.v1;
const pay = trusttap.payment.v1;
const NOTICE_TYPES: NoticeTypeName[] = ['THREAT_ALERT', 'POLICY_UPDATE', 'DEVICE_SUSPENDED', 'ATTESTATION_REQUIRED', 'DEVICE_REACTIVATED'];
const STATES: DeviceStateName[] = ['registered', 'active', 'suspended', 'disabled'];
const reasonName = (r: number) => (pay.DeclineReason[r] ?? String(r)).replace(/^DECLINE_REASON_/, '');

function deviceSummary(d: DeviceRow, now: number) {
  return {
    deviceId: d.deviceId, acquirerId: d.acquirerId, merchantId: d.merchantId, terminalId: d.terminalId, state: d.state, stateReason: d.stateReason,
    lastVerdict: d.lastVerdict, attestationRequired: d.attestationRequired, lastAttestationMs: d.lastAttestationMs,
    lastHeartbeatMs: d.lastHeartbeatMs, lastContactMs: d.lastContactMs, lastIp: d.lastIp, oemSerial: d.oemSerial, createdMs: d.createdMs,
    activation: d.state !== 'registered' || !d.activationHash ? 'used' : d.activationExpiresMs <= now ? 'expired' : 'pending',
    activationExpiresMs: d.activationHash ? d.activationExpiresMs : 0,
  };
}

function signalsJson(s: DeviceSignalsRow) {
  return {
    timeMs: s.timeMs, source: s.source, ip: s.ip,
    location: s.latE6 === null || s.lonE6 === null ? null : { latitude: s.latE6 / 1e6, longitude: s.lonE6 / 1e6 },
    signals: JSON.parse(s.signals || '{}') as Record<string, unknown>,
  };
}

/** Issue 16 §2: the REE client the device's last kept evidence named, and its last refusal (a
 * refused client's evidence is not kept: the refusal is in the history, kind 'rule'). */
function clientView(signals: DeviceSignalsRow[], history: { timeMs: number; kind: string; detail: string }[]) {
  const last = signals[signals.length - 1];
  const m = last?.measurements ? JSON.parse(last.measurements) as { client?: { name: string; version: string; sha256: string; source: number } } : {};
  const refusal = [...history].reverse().find((h) => h.kind === 'rule' && / client refused \(/.test(h.detail));
  return {
    reported: m.client ?? null,
    lastRefusal: refusal ? { timeMs: refusal.timeMs, detail: refusal.detail } : null,
  };
}

/** A journal row for the console: the answer as it stands now (reversed once reversed). */
function paymentJson(p: PaymentRow) {
  const r = currentAnswer(p);
  return {
    deviceId: p.deviceId, clientTransactionId: p.clientTransactionId, reference: p.reference, type: p.type,
    amountMinor: p.amountMinor, currency: p.currency, amount: amountText(p.amountMinor, p.currency), createdMs: p.createdMs, reversedMs: p.reversedMs,
    outcome: p.decision === 'approved' && p.reversedMs > 0 ? 'reversed' : p.decision, reason: reasonName(p.reason),
    reasonText: r.reasonText, responseCode: r.responseCode, authorizationCode: r.authorizationCode, maskedPan: r.maskedPan,
    qrMode: r.qrMode,
  };
}

export function policyJson(p: Policy) {
  return {
    version: p.version, runtimeVersions: [...p.runtimeVersions], bootStates: p.bootStates.map((b) => a.BootState[b] ?? String(b)),
    requiredTas: [...p.requiredTas], tas: p.tas.map((t) => ({ name: t.name ?? '', uuid: t.uuid ?? '', version: t.version ?? '', sha256: hex(t.sha256 ?? new Uint8Array(0)) })),
    manifestSha256: p.manifestSha256.map((m) => hex(m)), nonceTtlMs: num(p.nonceTtlMs), tokenTtlMs: num(p.tokenTtlMs),
    heartbeatTimeoutMs: num(p.heartbeatTimeoutMs), locationJumpKm: p.locationJumpKm, developerOptionsStepUp: p.developerOptionsStepUp,
    emulatorSuspend: p.emulatorSuspend, debuggerSuspend: p.debuggerSuspend, clientPlatformMeasuredOnly: p.clientPlatformMeasuredOnly,
    relaySuspend: p.relaySuspend, hceSuspend: p.hceSuspend, relayDecline: p.relayDecline,
  };
}

/** What changed between two policies, field by field (lists as added / removed items). */
export function policyDiff(from: Policy | null, to: Policy) {
  const f = from ? policyJson(from) as Record<string, unknown> : {};
  const t = policyJson(to) as Record<string, unknown>;
  const out: { field: string; from?: unknown; to?: unknown; added?: unknown[]; removed?: unknown[] }[] = [];
  for (const k of Object.keys(t)) {
    if (k === 'version') continue;
    const x = f[k], y = t[k];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    if (Array.isArray(y)) {
      const xs = new Set(((x as unknown[]) ?? []).map((v) => JSON.stringify(v)));
      const ys = new Set(y.map((v) => JSON.stringify(v)));
      out.push({ field: k, added: [...ys].filter((v) => !xs.has(v)).map((v) => JSON.parse(v)), removed: [...xs].filter((v) => !ys.has(v)).map((v) => JSON.parse(v)) });
    } else out.push({ field: k, from: x, to: y });
  }
  return out;
}

/** The last kept measurements and REE signals of a device as the verdict rules take them. */
function lastEvidence(rows: DeviceSignalsRow[]): { m: trusttap.attest.v1.IMeasurements; ree: trusttap.attest.v1.IReeSignals } | null {
  const last = rows[rows.length - 1];
  if (!last?.measurements) return null;
  const m = JSON.parse(last.measurements) as { runtimeVersion: string; bootState: number; manifestSha256: string; tas: { name: string; uuid: string; sha256: string }[] };
  return {
    m: {
      runtimeVersion: m.runtimeVersion, bootState: m.bootState, manifestSha256: Buffer.from(m.manifestSha256, 'hex'),
      tas: m.tas.map((t) => ({ name: t.name, uuid: Buffer.from(t.uuid, 'hex'), sha256: Buffer.from(t.sha256, 'hex') })),
    },
    ree: JSON.parse(last.signals || '{}') as trusttap.attest.v1.IReeSignals,
  };
}

export type PolicyChange = { manifest: { bytes: Uint8Array; signature: string } } | { tunables: trusttap.attest.v1.IPolicy };

/** Every repository and service call is awaited: the Repository may answer with promises (a
 * server database); awaiting a plain value is the same as using it. Every view takes the
 * session's scope (issue 16 §1: an operator's acquirer, or ALL_ACQUIRERS for the scheme's) and
 * passes it to the query that reads the rows: another acquirer's device is "not found". */
export class ConsoleViews {
  constructor(private readonly s: BackendService) {}

  /** The acquirer whose policy a view shows or changes: the session's own, or for the scheme's
   * session the one named (default: the default acquirer). */
  private async policyAcquirer(scope: Scope, named?: string): Promise<string> {
    if (scope !== ALL_ACQUIRERS) {
      if (named && named !== scope) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no acquirer ${named}`);
      await this.s.knowAcquirer(scope);
      return scope;
    }
    const acq = named || DEFAULT_ACQUIRER;
    if (!await this.s.repo.getAcquirer(acq)) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no acquirer ${acq}`);
    await this.s.knowAcquirer(acq);
    return acq;
  }

  /** The acquirers the session sees (the console's picker: one for an acquirer's operator). */
  async acquirers(scope: Scope) {
    return (await this.s.repo.listAcquirers()).filter((x) => scope === ALL_ACQUIRERS || x.acquirerId === scope)
      .map((x) => ({ acquirerId: x.acquirerId, name: x.name, route: x.route, policyVersion: this.s.policyOf(x.acquirerId).version }));
  }

  async devices(scope: Scope, q: { state?: string; text?: string }) {
    if (q.state && !STATES.includes(q.state as DeviceStateName)) throw malformed(`state must be one of ${STATES.join(', ')}`);
    const now = this.s.now();
    const text = (q.text ?? '').toLowerCase();
    const all = await this.s.repo.listDevices(q.state ? [q.state as DeviceStateName] : undefined, scope);
    return all
      .filter((d) => !text || [d.deviceId, d.merchantId, d.terminalId, d.lastIp].some((v) => v.toLowerCase().includes(text)))
      .sort((x, y) => y.createdMs - x.createdMs)
      .map((d) => deviceSummary(d, now));
  }

  async device(scope: Scope, deviceId: string) {
    const d = await this.s.repo.getDevice(deviceId, scope);
    if (!d) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no device ${deviceId}`);
    const history = await this.s.repo.history(deviceId, 200);
    const lastVerdict = [...history].reverse().find((h) => h.kind === 'verdict');
    const signals = await this.s.repo.deviceSignals(deviceId, 50);
    const payments = await this.s.repo.searchPayments({ scope, deviceId, limit: 20 });
    return {
      ...deviceSummary(d, this.s.now()),
      lastVerdictDetail: lastVerdict ? { timeMs: lastVerdict.timeMs, verdict: lastVerdict.verdict, reasons: lastVerdict.detail } : null,
      location: d.lastLatE6 === null || d.lastLonE6 === null ? null : { latitude: d.lastLatE6 / 1e6, longitude: d.lastLonE6 / 1e6 },
      signals: signals.map(signalsJson),
      client: clientView(signals, history),
      history: history.reverse().map((h) => ({ id: h.id, timeMs: h.timeMs, kind: h.kind, verdict: h.verdict, detail: h.detail, policyVersion: h.policyVersion })),
      payments: payments.map(paymentJson),
    };
  }

  async setState(scope: Scope, deviceId: string, action: string, reason: string, actor: string) {
    const want = ({ suspend: 'suspended', resume: 'active', retire: 'disabled' } as Record<string, DeviceStateName>)[action];
    if (!want) throw malformed('action must be suspend, resume or retire');
    await this.s.setState(deviceId, want, needReason(reason), actor, scope);
    return this.device(scope, deviceId);
  }

  /** For the session's acquirer; the scheme's session names one (acquirerId, default the default one). */
  async createTerminal(scope: Scope, merchantId: unknown, terminalId: unknown, actor: string, acquirerId?: unknown) {
    const acq = await this.policyAcquirer(scope, typeof acquirerId === 'string' ? acquirerId : undefined);
    return this.s.createTerminal(String(merchantId ?? ''), String(terminalId ?? ''), actor, acq);
  }

  async expireActivation(scope: Scope, deviceId: string, reason: string, actor: string) {
    await this.s.expireActivation(deviceId, needReason(reason), actor, scope);
    return this.device(scope, deviceId);
  }

  async alerts(scope: Scope, q: { after?: number; device?: string; type?: string }) {
    const types = q.type ? q.type.split(',') : undefined;
    for (const t of types ?? []) if (!NOTICE_TYPES.includes(t as NoticeTypeName)) throw malformed(`type must be among ${NOTICE_TYPES.join(', ')}`);
    return this.s.repo.listNotices({ scope, afterId: q.after, deviceId: q.device || undefined, types: types as NoticeTypeName[] | undefined, limit: 200 });
  }

  async payments(scope: Scope, q: { reference?: string; ctid?: string; device?: string; outcome?: string; from?: number; to?: number }) {
    if (q.outcome && !['approved', 'declined', 'reversed'].includes(q.outcome)) throw malformed('outcome must be approved, declined or reversed');
    const rows = await this.s.repo.searchPayments({
      scope, reference: q.reference || undefined, clientTransactionId: q.ctid || undefined, deviceId: q.device || undefined,
      outcome: (q.outcome || undefined) as PaymentSearch['outcome'], fromMs: q.from, toMs: q.to, limit: 200,
    });
    return rows.map(paymentJson);
  }

  async payment(scope: Scope, deviceId: string, ctid: string) {
    const p = await this.s.repo.getDevice(deviceId, scope) ? await this.s.repo.getPayment(deviceId, ctid) : null;
    if (!p) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no payment ${ctid} of device ${deviceId}`);
    return paymentJson(p);
  }

  async reverse(scope: Scope, deviceId: string, ctid: string, reason: string, actor: string) {
    await this.s.reversePayment(deviceId, ctid, needReason(reason), actor, scope);
    return this.payment(scope, deviceId, ctid);
  }

  async policy(scope: Scope, named?: string) {
    const acq = await this.policyAcquirer(scope, named);
    const versions = (await this.s.repo.listPolicies(acq)).map((v) => ({ version: v.version, createdMs: v.createdMs, policy: a.Policy.decode(v.bytes) }));
    return {
      acquirerId: acq,
      current: policyJson(this.s.currentPolicy(acq)),
      versions: versions.map((v, i) => ({ version: v.version, createdMs: v.createdMs, changes: policyDiff(i ? versions[i - 1].policy : null, v.policy) })).reverse(),
    };
  }

  /** A change tried before it is made: the new policy, what differs, and the devices whose
   * verdict on their last evidence would change under it (the same rules, both policies). */
  async preview(scope: Scope, change: PolicyChange, named?: string) {
    const acq = await this.policyAcquirer(scope, named);
    const now = this.s.currentPolicy(acq);
    const next = this.s.proposedPolicy(change, acq);
    const affected = [];
    const devices = await this.s.repo.listDevices(['active', 'suspended'], acq);
    for (const d of devices) {
      const ev = lastEvidence(await this.s.repo.deviceSignals(d.deviceId, 1));
      if (!ev) continue;
      const before = verdictOf([...assessMeasurements(ev.m, now), ...assessSignals(ev.ree, null, now)]);
      const after = verdictOf([...assessMeasurements(ev.m, next), ...assessSignals(ev.ree, null, next)]);
      if (before.verdict !== after.verdict || before.reasons.join() !== after.reasons.join()) {
        affected.push({ deviceId: d.deviceId, merchantId: d.merchantId, terminalId: d.terminalId, state: d.state, before: before.verdict, after: after.verdict, reasons: after.reasons });
      }
    }
    const changes = next === now ? [] : policyDiff(now, next);
    return { acquirerId: acq, unchanged: changes.length === 0, policy: policyJson(next), changes, affected, notified: devices.length };
  }

  /** Rolls the change out through the service (POLICY_UPDATE to every device, and who and why
   * in each one's history, in the same transaction). */
  async rollOut(scope: Scope, change: PolicyChange, reason: string, actor: string, named?: string) {
    const acq = await this.policyAcquirer(scope, named);
    const by = { actor, reason: needReason(reason) };
    const next = this.s.proposedPolicy(change, acq);
    if (next === this.s.currentPolicy(acq) || !policyDiff(this.s.currentPolicy(acq), next).length) {
      throw new ApiError(409, ErrorCode.ERROR_CONFLICT, 'this policy is the current one: nothing to roll out');
    }
    const version = 'manifest' in change ? await this.s.allowManifest(change.manifest, true, by, acq) : await this.s.updatePolicy(change.tunables, by, acq);
    return { acquirerId: acq, version, policy: policyJson(this.s.currentPolicy(acq)) };
  }

  /** Counts per minute over the last `minutes`: payments by outcome and decline reason, verdicts. */
  async stats(scope: Scope, minutes: number, bucketMs = 60_000) {
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 7 * 24 * 60) throw malformed('minutes must be 1..10080');
    const to = Math.ceil((this.s.now() + 1) / bucketMs) * bucketMs;
    const from = to - minutes * 60_000;
    const payments = (await this.s.repo.paymentCounts(from, to, bucketMs, scope)).map((r) => ({ ...r, reason: reasonName(r.reason) }));
    const verdicts = await this.s.repo.verdictCounts(from, to, bucketMs, scope);
    return { fromMs: from, toMs: to, bucketMs, payments, verdicts };
  }
}

/** 'CNY 1288.00' from the journal's ISO 4217 code (numeric or alpha); the bare number if unknown. */
function amountText(minor: number, currency: string): string {
  try { return formatAmount(minor, currencyOf(currency)); } catch { return `${minor} (minor units${currency ? `, currency ${currency}` : ''})`; }
}

function needReason(reason: unknown): string {
  const r = typeof reason === 'string' ? reason.trim() : '';
  if (!r) throw malformed('a reason is required (it goes into the device history)');
  if (r.length > 500) throw malformed('the reason is at most 500 characters');
  return r;
}
