// The console's one way to the back end: JSON over fetch, same origin, the session cookie sent
// by the browser (HttpOnly: this code never sees it) and the CSRF token on every change.
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiFailure';
  }
}

let csrf = '';
export const setCsrf = (t: string) => { csrf = t; };

export async function api<T = any>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') { headers['content-type'] = 'application/json'; headers['x-csrf-token'] = csrf; }
  const r = await fetch(`/console/api/${path}`, { method, headers, body: method === 'GET' ? undefined : JSON.stringify(body ?? {}), credentials: 'same-origin' });
  const text = await r.text();
  let data: any = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: said below */ }
  if (!r.ok) throw new ApiFailure(r.status, data?.error ?? `HTTP ${r.status}`, data?.message ?? (text || r.statusText));
  return data as T;
}

/** A query string from the filled-in fields only. */
export function query(fields: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
