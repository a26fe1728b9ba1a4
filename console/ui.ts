// Shared bits of the console's views: htm bound to Preact (htm/preact), time formatting, the error line.
import { html } from 'htm/preact';

export { html };

export const time = (ms: number) => (ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');

/** A failure said in words, announced to screen readers. */
export function ErrorLine({ error }: { error: string }) {
  return error ? html`<p class="error" role="alert">${error}</p>` : null;
}

/** acquirerId: the acquirer whose rows the session sees; '*' = every acquirer (the scheme's). */
export interface Me { username: string; role: 'viewer' | 'operator' | 'admin'; acquirerId: string; csrfToken: string; expiresMs: number }
export const acquirerLabel = (me: Me) => (me.acquirerId === '*' ? 'every acquirer' : `acquirer ${me.acquirerId}`);
export const canChange = (me: Me) => me.role !== 'viewer';
