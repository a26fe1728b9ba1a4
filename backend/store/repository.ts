// The back end's storage, behind one interface so the embedded default (SQLite, sqlite.ts) and a
// server database (PostgreSQL, postgres.ts) can be swapped. Every method is asynchronous (a
// server database answers over a socket) and atomic; transaction() groups several into one
// all-or-nothing unit (a crash leaves either all of it or none of it). Nothing stored here
// is secret in clear: activation codes are kept as SHA-256, BDKs and KEKs only as ciphertext
// under the HSM's master key (hsm/), and evidence as the signed bytes.

/** Issue 16 §1: the back end hosts several acquirers. The one that existed before tenants is
 * 'default' (migration 6 gives it every existing device, operator and policy). */
export const DEFAULT_ACQUIRER = 'default';
/** The scope of a read that may see every acquirer's rows: the scheme's own admin (admin token). */
export const ALL_ACQUIRERS = '*';
/** Whose rows a read may return: one acquirer's id, or ALL_ACQUIRERS. Operator-facing reads take
 * it as a required argument, so the isolation is in the query, not in a check after it. */
export type Scope = string;

/** One acquirer (tenant): its back-office token only as SHA-256, its authorization route and its
 * contactless limits (JSON of AmountLimits[], '' = the back end's defaults). Its keys are in the
 * HSM under its own namespace (backend/tenants.ts). */
export interface AcquirerRow {
  acquirerId: string;
  name: string;
  /** SHA-256 hex of the acquirer's back-office bearer token; '' = none issued. */
  adminTokenHash: string;
  /** The authorization route: 'issuer-sim' (the simulated issuer) or 'upstream' (upstreamUrl). */
  route: string;
  /** The upstream issuer's authorization URL (route 'upstream'); '' otherwise (migration 9). */
  upstreamUrl: string;
  limits: string;
  createdMs: number;
}

export type DeviceStateName = 'registered' | 'active' | 'suspended' | 'disabled';
export type VerdictName = 'allow' | 'step-up' | 'suspend' | '';
export type NoticeTypeName = 'THREAT_ALERT' | 'POLICY_UPDATE' | 'DEVICE_SUSPENDED' | 'ATTESTATION_REQUIRED' | 'DEVICE_REACTIVATED';

export interface DeviceRow {
  deviceId: string;
  /** The acquirer whose terminal this is (its activation code said so). */
  acquirerId: string;
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

/** A client release an acquirer allows (issue 16 §2; backend/attestation/client-allowlist.ts).
 * Revoked releases are kept: revocation is a fact, and a revoked release cannot be allowed again. */
export interface ClientReleaseRow {
  acquirerId: string;
  name: string;
  version: string;
  /** Lower-case hex SHA-256 of the client bundle (or of the platform's app identity). */
  sha256: string;
  allowed: boolean;
  allowedMs: number;
  /** 0 while allowed. */
  revokedMs: number;
  /** Why it was allowed, then why it was revoked. */
  reason: string;
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

/** The simulated issuer's card account (backend/issuer-sim). The PAN is kept only as SHA-256
 * (a keyed hash or tokenisation in production) and masked; the PIN only as its PVV. */
export interface CardAccountRow {
  panHash: string;
  maskedPan: string;
  scheme: string;
  /** Cryptogram version (backend/issuer/cvn.ts) and the id of the issuer master key in the HSM. */
  cvn: string;
  imkId: string;
  /** ISO 4217 numeric, 3 digits. */
  currency: string;
  balanceMinor: number;
  status: 'active' | 'blocked';
  /** YYMM: the card's expiry date as issued. */
  expiry: string;
  /** PIN verification value (hsm.pinVerificationValue) and the key it was made with. */
  pvv: Uint8Array;
  pvkId: string;
  pinTries: number;
  pinTryLimit: number;
  /** Highest application transaction counter (9F36) seen in an approved or declined ARQC. */
  lastAtc: number;
}

export type PaymentDecisionName = 'approved' | 'declined';

/** One journaled authorization: the answer given, exactly as encoded, so a retry gets it again. */
export interface PaymentRow {
  deviceId: string;
  clientTransactionId: string;
  reference: string;
  /** SHA-256 hex of the signed record bytes (what "the same request" means for a retry). */
  recordSha256: string;
  recordCounter: number;
  type: 'purchase' | 'refund';
  amountMinor: number;
  currency: string;
  /** The account movement (in the account's currency; negative = debit), 0 if none. */
  accountDelta: number;
  panHash: string;
  decision: PaymentDecisionName;
  reason: number;
  /** The encoded trusttap.payment.v1.AuthorizeResponse. */
  response: Uint8Array;
  createdMs: number;
  reversedMs: number;
}

export type QrOrderStateName = 'pending' | 'paid' | 'declined' | 'expired' | 'cancelled';

/** A merchant-presented QR order (backend/qr): the payload shown and its state. Its result, once
 * paid or declined, is the payments journal row with the same (device, client transaction id). */
export interface QrOrderRow {
  deviceId: string;
  clientTransactionId: string;
  reference: string;
  payload: string;
  amountMinor: number;
  currency: string;
  state: QrOrderStateName;
  createdMs: number;
  expiresMs: number;
  updatedMs: number;
  /** The paying account (issuer-sim pan hash), '' until a wallet paid or tried. */
  payerHash: string;
}

/** A one-time consumer-presented payment code of the issuer sim's wallet (hash only). */
export interface WalletCodeRow {
  codeHash: string;
  accountHash: string;
  /** Hex of the code's cryptogram (CPM template 63, 9F26). */
  cryptogram: string;
  expiresMs: number;
  usedMs: number;
}

/** A console operator (backend/console): the password only as its scrypt hash (accounts.ts). */
export type OperatorRoleName = 'viewer' | 'operator';
export interface OperatorRow {
  username: string;
  /** The acquirer whose devices, journal and policy the operator sees; ALL_ACQUIRERS = the scheme's. */
  acquirerId: string;
  role: OperatorRoleName;
  /** 'scrypt$N$r$p$salt$hash' (base64url), backend/console/accounts.ts. */
  passwordHash: string;
  createdMs: number;
  disabled: boolean;
}

/** A signed-in console session; the cookie's token only as SHA-256. role 'admin' = the admin token. */
export interface ConsoleSessionRow {
  tokenHash: string;
  username: string;
  /** The signed-in operator's acquirer (ALL_ACQUIRERS for the admin token). */
  acquirerId: string;
  role: OperatorRoleName | 'admin';
  createdMs: number;
  expiresMs: number;
}

/** What a device's REE reported (attestation or heartbeat), kept when it changed: the console's
 * IP and location history and REE health signals, and what a new policy would say of the device. */
export interface DeviceSignalsRow {
  id: number;
  deviceId: string;
  timeMs: number;
  source: 'attestation' | 'heartbeat';
  ip: string;
  latE6: number | null;
  lonE6: number | null;
  /** JSON of the REE signals (booleans, REE device id, OS and app version); no secret. */
  signals: string;
  /** JSON of the last evidence's measurements (runtime, boot state, manifest, TA hashes), '' for heartbeats. */
  measurements: string;
}

/** The console's journal search; every field optional, ANDed. */
export interface PaymentSearch {
  /** Only this acquirer's devices' payments (ALL_ACQUIRERS: every one). */
  scope: Scope;
  reference?: string;
  clientTransactionId?: string;
  deviceId?: string;
  /** approved, declined, or reversed (an approval reversed since). */
  outcome?: 'approved' | 'declined' | 'reversed';
  fromMs?: number;
  toMs?: number;
  /** Newest first; at most this many (default 100). */
  limit?: number;
}

export interface NoticeSearch {
  /** Only notices to this acquirer's devices (ALL_ACQUIRERS: every one). */
  scope: Scope;
  /** Only notices with a larger id (polling). */
  afterId?: number;
  deviceId?: string;
  types?: NoticeTypeName[];
  /** Newest first; at most this many (default 100). */
  limit?: number;
}

export interface Repository {
  /** True when other processes may write the same database (a server database shared by several
   * nodes): the service then re-reads what it would otherwise keep in memory (the policy), and
   * each request commits in its own transaction instead of an in-process group commit. */
  readonly shared: boolean;

  /** Runs fn as one all-or-nothing unit and returns its result. Nested (called from inside fn), a
   * savepoint: a failing inner unit rolls back alone. Inside fn, nested units run one after
   * another (await each). A server database may run fn again after a serialization conflict, so
   * fn must have no effect outside the repository that a second run would repeat. */
  transaction<T>(fn: () => Promise<T> | T): Promise<T>;

  // ---- acquirers (issue 16 §1)
  /** Adds an acquirer or replaces its name, token hash, route and limits (created_ms kept). */
  putAcquirer(a: AcquirerRow): Promise<void>;
  getAcquirer(acquirerId: string): Promise<AcquirerRow | null>;
  /** The acquirer whose back-office token has this SHA-256 ('' never matches). */
  getAcquirerByToken(tokenHash: string): Promise<AcquirerRow | null>;
  listAcquirers(): Promise<AcquirerRow[]>;
  /** Gives a merchant id to an acquirer if no one has it (first claim wins, a unique key);
   * returns the acquirer that has it now. */
  claimMerchant(merchantId: string, acquirerId: string): Promise<string>;
  /** The acquirer a merchant id belongs to, or null. */
  merchantAcquirer(merchantId: string): Promise<string | null>;

  createDevice(d: Pick<DeviceRow, 'deviceId' | 'acquirerId' | 'merchantId' | 'terminalId' | 'activationHash' | 'activationExpiresMs' | 'createdMs'>): Promise<void>;
  /** The device; with a scope other than ALL_ACQUIRERS, only if it is that acquirer's (an
   * operator's read: another acquirer's device is "not found"). */
  getDevice(deviceId: string, scope?: Scope): Promise<DeviceRow | null>;
  getDeviceByTerminal(merchantId: string, terminalId: string): Promise<DeviceRow | null>;
  getDeviceByActivation(activationHash: string): Promise<DeviceRow | null>;
  listDevices(states: DeviceStateName[] | undefined, scope: Scope): Promise<DeviceRow[]>;
  updateDevice(deviceId: string, patch: Partial<Omit<DeviceRow, 'deviceId' | 'createdMs'>>): Promise<void>;
  /** Accepts the counter only if it is above the last one (compare-and-set); false = replay.
   * With contactMs, an accepted counter also sets lastContactMs, in the same statement. */
  advanceCounter(deviceId: string, counter: number, contactMs?: number): Promise<boolean>;
  /** advanceCounter with contactMs that also answers the device's last accepted txsign record
   * counter as the accepting update left the row (locked by it, on PostgreSQL, to the end of the
   * transaction): one statement where an authorization needed two. null = refused (replay). */
  advanceCounterReadingRecord(deviceId: string, counter: number, contactMs: number): Promise<{ lastRecordCounter: number } | null>;

  putNonce(n: NonceRow): Promise<void>;
  /** Removes and returns the nonce (single use); null if unknown or already used. */
  takeNonce(nonce: string): Promise<NonceRow | null>;
  purgeNonces(beforeMs: number): Promise<number>;

  appendHistory(h: Omit<HistoryRow, 'id'>): Promise<number>;
  history(deviceId: string, limit?: number): Promise<HistoryRow[]>;

  addNotice(n: Omit<NoticeRow, 'id'>): Promise<number>;
  /** Pending notices, marked delivered in the same step (delivered once). */
  takeNotices(deviceId: string): Promise<NoticeRow[]>;

  /** Each acquirer has its own policy versions (1, 2, … per acquirer). */
  putPolicy(acquirerId: string, version: number, bytes: Uint8Array, createdMs: number): Promise<void>;
  latestPolicy(acquirerId: string): Promise<{ version: number; bytes: Uint8Array } | null>;
  /** Every acquirer with its latest policy version (0 if it has none), in one query: what a node
   * on a shared database re-reads before each request. */
  policyVersions(): Promise<{ acquirerId: string; version: number }[]>;

  putRkiSession(s: RkiSessionRow): Promise<void>;
  takeRkiSession(sessionId: string): Promise<RkiSessionRow | null>;

  // ---- payments (issue 7): the journal, per-device record counters, the simulated issuer
  getPayment(deviceId: string, clientTransactionId: string): Promise<PaymentRow | null>;
  insertPayment(p: PaymentRow): Promise<void>;
  /** Marks a payment reversed; false if it was already reversed or unknown. */
  markReversed(deviceId: string, clientTransactionId: string, reversedMs: number): Promise<boolean>;
  /** Accepts a txsign record counter only if above the last accepted for the device. */
  advanceRecordCounter(deviceId: string, counter: number): Promise<boolean>;
  lastRecordCounter(deviceId: string): Promise<number>;

  // ---- issue 17 §1: TEE counters the back end witnesses (backend/attestation/witness.ts): DUKPT
  // transaction counters per initial key ("ksn:<key id hex>"), the RPMB write counter ("rpmb"),
  // the pinpad's entry epoch ("pinpad-epoch"), TA versions ("ta-version:<uuid hex>"). One row per
  // (device, name); values only go up.
  /** The highest value witnessed for the device's counter `name`, or null if never seen. */
  witnessedCounter(deviceId: string, name: string): Promise<number | null>;
  /** Records `value` if it is above the witnessed one (strict) or at least equal to it (not
   * strict), or if none was witnessed (compare-and-set); false = it went back, nothing changed. */
  witnessCounter(deviceId: string, name: string, value: number, strict: boolean): Promise<boolean>;
  /** The journaled payment whose txsign record carried this counter, if any (a counter used for
   * two different records proves the device's storage went back). */
  paymentByRecordCounter(deviceId: string, recordCounter: number): Promise<PaymentRow | null>;

  putCardAccount(c: CardAccountRow): Promise<void>;
  getCardAccount(panHash: string): Promise<CardAccountRow | null>;
  /** Issue 16 §1: a card's PIN verification value under an acquirer's own simulated issuer PVK
   * (the default acquirer's is the account's pvv/pvk_id). Insert if absent; true if inserted. */
  addIssuerPvv(acquirerId: string, panHash: string, pvkId: string, pvv: Uint8Array): Promise<boolean>;
  getIssuerPvv(acquirerId: string, panHash: string): Promise<{ pvkId: string; pvv: Uint8Array } | null>;
  updateCardAccount(panHash: string, patch: Partial<Pick<CardAccountRow, 'balanceMinor' | 'status' | 'pinTries' | 'lastAtc'>>): Promise<void>;
  /** Appends to the account ledger (every balance change, with its reference). */
  addAccountMovement(m: { panHash: string; reference: string; deltaMinor: number; kind: string; timeMs: number }): Promise<void>;
  accountMovements(panHash: string): Promise<{ reference: string; deltaMinor: number; kind: string; timeMs: number }[]>;

  // ---- QR payments: merchant-presented orders, the issuer sim's wallet sessions and codes
  insertQrOrder(o: QrOrderRow): Promise<void>;
  getQrOrder(deviceId: string, clientTransactionId: string): Promise<QrOrderRow | null>;
  getQrOrderByReference(reference: string): Promise<QrOrderRow | null>;
  /** Compare-and-set of the order's state; false if it was not in `from`. */
  setQrOrderState(deviceId: string, clientTransactionId: string, from: QrOrderStateName, to: QrOrderStateName, updatedMs: number, payerHash?: string): Promise<boolean>;
  putWalletSession(tokenHash: string, accountHash: string, expiresMs: number): Promise<void>;
  getWalletSession(tokenHash: string): Promise<{ accountHash: string; expiresMs: number } | null>;
  putWalletCode(c: Omit<WalletCodeRow, 'usedMs'>): Promise<void>;
  getWalletCode(codeHash: string): Promise<WalletCodeRow | null>;
  /** Marks a code used (compare-and-set); false if it was used already. */
  useWalletCode(codeHash: string, usedMs: number): Promise<boolean>;

  // ---- issue 16 §2: the REE client releases each acquirer allows
  /** Adds an allowed release; false (nothing changed) if the acquirer has this name and version
   * already, allowed or revoked. */
  addClientRelease(r: ClientReleaseRow): Promise<boolean>;
  /** Revokes an allowed release; false if it is unknown or already revoked. */
  revokeClientRelease(acquirerId: string, name: string, version: string, revokedMs: number, reason: string): Promise<boolean>;
  /** The acquirer's releases, by name then version. */
  listClientReleases(acquirerId: string): Promise<ClientReleaseRow[]>;

  // ---- operators' console (issue 12 §1): accounts, sessions, device signal history, searches
  /** Adds an operator or replaces its role, password hash and disabled flag (created_ms kept). */
  putOperator(o: OperatorRow): Promise<void>;
  getOperator(username: string): Promise<OperatorRow | null>;
  listOperators(): Promise<OperatorRow[]>;
  putConsoleSession(s: ConsoleSessionRow): Promise<void>;
  getConsoleSession(tokenHash: string): Promise<ConsoleSessionRow | null>;
  deleteConsoleSession(tokenHash: string): Promise<void>;
  purgeConsoleSessions(beforeMs: number): Promise<number>;
  appendDeviceSignals(s: Omit<DeviceSignalsRow, 'id'>): Promise<number>;
  /** Oldest first, the last `limit` (default 100). */
  deviceSignals(deviceId: string, limit?: number): Promise<DeviceSignalsRow[]>;
  searchPayments(q: PaymentSearch): Promise<PaymentRow[]>;
  /** Journaled payments per time bucket (created_ms / bucketMs · bucketMs), outcome (an approval
   * reversed since counts as 'reversed') and decline reason. */
  paymentCounts(fromMs: number, toMs: number, bucketMs: number, scope: Scope): Promise<{ bucketMs: number; outcome: 'approved' | 'declined' | 'reversed'; reason: number; n: number }[]>;
  /** Attestation verdicts (history kind 'verdict') per time bucket. */
  verdictCounts(fromMs: number, toMs: number, bucketMs: number, scope: Scope): Promise<{ bucketMs: number; verdict: VerdictName; n: number }[]>;
  listNotices(q: NoticeSearch): Promise<(NoticeRow & { delivered: boolean })[]>;
  /** Every policy version of the acquirer, oldest first. */
  listPolicies(acquirerId: string): Promise<{ version: number; bytes: Uint8Array; createdMs: number }[]>;

  /** Stores (or replaces) a wrapped secret. */
  putSecret(id: string, wrapped: Uint8Array): Promise<void>;
  /** Stores a wrapped secret only if the id is free; false if one is stored already (two nodes
   * creating the same key at once: one wins, both then use the stored one). */
  addSecret(id: string, wrapped: Uint8Array): Promise<boolean>;
  getSecret(id: string): Promise<Uint8Array | null>;

  // ---- operations (issue 12 §2): readiness and metrics
  /** The schema version the database holds (highest applied migration; a query, so it also
   * proves the database answers) and the one this code expects (its last migration). */
  schemaStatus(): Promise<{ applied: number; expected: number }>;
  /** Calls `fn` with the duration in seconds of every outermost COMMIT ('commit'; its fsync
   * included unless deferred) and of every deferred sync ('sync': the fdatasync of the WAL); one
   * observer (the HTTP server's metrics), null removes it. */
  observeCommits(fn: ((phase: 'commit' | 'sync', seconds: number) => void) | null): void;
  /** Resolves once every commit made so far is on stable storage (at once where each COMMIT waits
   * for its own fsync); rejects if that can no longer be promised. The HTTP server awaits it
   * before every answer (SQLite's deferredSync). */
  sync(): Promise<void>;

  close(): Promise<void>;
}
