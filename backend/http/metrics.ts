// The back end's metrics in the Prometheus text exposition format (version 0.0.4), through
// prom-client: what an acquirer's operations team alerts on. One registry per server (tests start
// many in one process). Label values come from closed sets only (route families, status codes,
// decision and decline-reason names, verdicts), so no series carries a device, card or amount.
import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';

/** Seconds: from 0.5 ms (a refused request) to 2.5 s (a stalled disk). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Seconds: an fsync'd SQLite commit takes 0.1–2 ms on an SSD; more means the disk is the limit. */
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

export class BackendMetrics {
  readonly registry = new Registry();
  /** Device authorizations (card and QR) by decision and decline reason ("none" when approved). */
  readonly authorizations = new Counter({
    name: 'trusttap_authorizations_total', help: 'Authorization answers by outcome (approved, declined) and decline reason',
    labelNames: ['outcome', 'reason'] as const, registers: [this.registry],
  });
  /** Request latency, headers in to answer written, per route family and status code. */
  readonly requestSeconds = new Histogram({
    name: 'trusttap_http_request_duration_seconds', help: 'HTTP request latency by route family and status code',
    labelNames: ['route', 'code'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly verdicts = new Counter({
    name: 'trusttap_attestation_verdicts_total', help: 'Attestation verdicts given at enrolment and attestation (allow, step-up, suspend)',
    labelNames: ['verdict'] as const, registers: [this.registry],
  });
  /** Issue 16 §2: REE clients refused at enrolment and attestation, by ClientRefusal name. */
  readonly clientRefusals = new Counter({
    name: 'trusttap_client_refusals_total', help: 'REE clients refused at enrolment and attestation (not_measured, self_reported, unknown, revoked, altered)',
    labelNames: ['reason'] as const, registers: [this.registry],
  });
  /** The journal's COMMIT statement, once per group of device requests (its fsync is not in it
   * when the server defers it: then see syncSeconds). */
  readonly commitSeconds = new Histogram({
    name: 'trusttap_journal_commit_seconds', help: 'Time of one database COMMIT statement (with its fsync unless deferred)',
    buckets: COMMIT_BUCKETS, registers: [this.registry],
  });
  /** The deferred sync: one fdatasync of the WAL, on the thread pool, that answers wait for. */
  readonly syncSeconds = new Histogram({
    name: 'trusttap_journal_sync_seconds', help: 'Time of one deferred fdatasync of the journal (answers wait for it)',
    buckets: COMMIT_BUCKETS, registers: [this.registry],
  });
  readonly commitBatch = new Histogram({
    name: 'trusttap_journal_commit_batch_requests', help: 'Device requests sharing one commit (group commit)',
    buckets: BATCH_BUCKETS, registers: [this.registry],
  });
  readonly openConnections = new Gauge({
    name: 'trusttap_http_open_connections', help: 'TCP connections open to the HTTP server', registers: [this.registry],
  });

  constructor() {
    // process_cpu_*, process_resident_memory_bytes, nodejs_eventloop_lag_*, nodejs_heap_*, GC …
    collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition text and its content type. */
  async expose(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
