// Liveness and readiness probes (the Kubernetes convention): /healthz answers while the process
// serves at all; /readyz only when a request could succeed — the database answers a query and its
// schema is the one this code expects (every migration applied, none unknown), its commits can
// still be made durable (no failed fsync), and the server is not shutting down. A load balancer sends traffic by /readyz and restarts by /healthz.
import type { Repository } from '../store/repository.ts';

export interface Probe { status: number; body: Record<string, unknown> }

export function liveness(): Probe {
  return { status: 200, body: { status: 'ok' } };
}

export async function readiness(repo: Repository, closing: boolean): Promise<Probe> {
  if (closing) return { status: 503, body: { status: 'not ready', reason: 'shutting down' } };
  let schema: { applied: number; expected: number };
  try {
    schema = await repo.schemaStatus();
  } catch (e) {
    return { status: 503, body: { status: 'not ready', reason: `database unreachable: ${(e as Error).message}` } };
  }
  try {
    await repo.sync();
  } catch (e) {
    return { status: 503, body: { status: 'not ready', reason: (e as Error).message } };
  }
  if (schema.applied !== schema.expected) {
    return { status: 503, body: { status: 'not ready', reason: `database schema version ${schema.applied}, this code needs ${schema.expected}`, schema } };
  }
  return { status: 200, body: { status: 'ready', schema } };
}
