// `trusttap/backend` — the acquirer back end: start it on loopback (HTTP, SQLite, software HSM),
// or open the service in-process; and the offline evidence check an auditor runs.
export { startBackend, type Backend, type ServerOptions } from './http/server.ts';
export { BackendService, type BackendOptions } from './service.ts';
export { verifyEvidenceOffline, type OfflineInput, type OfflineReport, type Check } from './attestation/offline.ts';
// Issue 16 §1: acquirers as tenants (`trusttap acquirer add` is putAcquirer on the back end's store).
export { putAcquirer, bdkIdOf, DEFAULT_ACQUIRER, type AcquirerConfig } from './tenants.ts';
