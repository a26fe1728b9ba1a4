// The back end's storage, behind one interface so the embedded default (SQLite, sqlite.ts) and a
// server database can be swapped. Every method is atomic; transaction() groups several into
// one all-or-nothing unit (a crash leaves either all of it or none of it). Nothing stored here
// is secret in clear: activation codes are kept as SHA-256, BDKs and KEKs only as ciphertext
// under the HSM's master key (hsm/), and evidence as the signed bytes.

export type DeviceStateName = 'registered' | 'active' | 'suspended' | 'disabled';
export type VerdictName = 'allow' | 'step-up' | 'suspend' | '';
export type NoticeTypeName = 'THREAT_ALERT' | 'POLICY_UPDATE' | 'DEVICE_SUSPENDED' | 'ATTESTATION_REQUIRED' | 'DEVICE_REACTIVATED';

export interface DeviceRow {
  deviceId: string;
  merchantId: string;
  terminalId: string;
  state: DeviceStateName;
  stateReason: string;
  /** SHA-256 hex of the one-time activation code; '' once used. */
  activationHash: string;
  activationExpiresMs: number;
  /** Uncompressed P-256 point; empty until enrolment. */
  publicKey: Uint8Array;
  oemSerial: string;
  lastCounter: number;
  lastContactMs: number;
  lastHeartbeatMs: number;
  lastAttestationMs: number;
  lastVerdict: VerdictName;
  attestationRequired: boolean;
  /** REE signals as last seen (for change rules). */
  reeDeviceId: string;
  lastIp: string;
  lastLatE6: number | null;
  lastLonE6: number | null;
  createdMs: number;
}

export interface NonceRow {
  nonce: string;
  deviceId: string;
  /** For enrolment nonces: SHA-256 hex of the activation code and of the signing key. */
  activationHash: string;
  keyHash: string;
  expiresMs: number;
}

export interface HistoryRow {
  id: number;
  deviceId: string;
  timeMs: number;
  kind: string;
  verdict: VerdictName;
  detail: string;
  policyVersion: number;
}

export interface NoticeRow {
  id: number;
  deviceId: string;
  type: NoticeTypeName;
  reason: string;
  createdMs: number;
  policyVersion: number;
}

export interface RkiSessionRow {
  sessionId: string;
  deviceId: string;
  /** HSM-wrapped KEK and KCK (ciphertext under the master key). */
  wrappedKeys: Uint8Array;
  expiresMs: number;
}

export interface Repository {
  transaction<T>(fn: () => T): T;

  createDevice(d: Pick<DeviceRow, 'deviceId' | 'merchantId' | 'terminalId' | 'activationHash' | 'activationExpiresMs' | 'createdMs'>): void;
  getDevice(deviceId: string): DeviceRow | null;
  getDeviceByTerminal(merchantId: string, terminalId: string): DeviceRow | null;
  getDeviceByActivation(activationHash: string): DeviceRow | null;
  listDevices(states?: DeviceStateName[]): DeviceRow[];
  updateDevice(deviceId: string, patch: Partial<Omit<DeviceRow, 'deviceId' | 'createdMs'>>): void;
  /** Accepts the counter only if it is above the last one (compare-and-set); false = replay. */
  advanceCounter(deviceId: string, counter: number): boolean;

  putNonce(n: NonceRow): void;
  /** Removes and returns the nonce (single use); null if unknown or already used. */
  takeNonce(nonce: string): NonceRow | null;
  purgeNonces(beforeMs: number): number;

  appendHistory(h: Omit<HistoryRow, 'id'>): number;
  history(deviceId: string, limit?: number): HistoryRow[];

  addNotice(n: Omit<NoticeRow, 'id'>): number;
  /** Pending notices, marked delivered in the same step (delivered once). */
  takeNotices(deviceId: string): NoticeRow[];

  putPolicy(version: number, bytes: Uint8Array, createdMs: number): void;
  latestPolicy(): { version: number; bytes: Uint8Array } | null;

  putRkiSession(s: RkiSessionRow): void;
  takeRkiSession(sessionId: string): RkiSessionRow | null;

  putSecret(id: string, wrapped: Uint8Array): void;
  getSecret(id: string): Uint8Array | null;

  close(): void;
}
