// Console sessions (OWASP Session Management and CSRF Prevention cheat sheets): a random 256-bit
// token in a cookie (HttpOnly, SameSite=Strict, Path=/console, Secure when TLS), stored only as
// SHA-256, 8 hours at most. The CSRF token is derived from the session token (HMAC-like:
// SHA-256 over a label and the token), so the page can hold it without the cookie being
// readable, and the database — which has only the token's hash — cannot make one. Every change
// must carry it in the x-csrf-token header; a cross-site form cannot set a header.
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import type { ConsoleSessionRow, OperatorRoleName, Repository } from '../store/repository.ts';

export const COOKIE = 'tt_console';
export const SESSION_TTL_MS = 8 * 3600_000;
export type Role = OperatorRoleName | 'admin';
/** What each role may do: viewers read, operators (and the admin token) change. */
export const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

const sha = (label: string, token: string) => createHash('sha256').update(label).update('\0').update(token).digest();
export const tokenHash = (token: string) => sha('trusttap/console/session', token).toString('hex');
export const csrfFor = (token: string) => sha('trusttap/console/csrf', token).toString('base64url');

export interface Session { row: ConsoleSessionRow; csrf: string }

/** acquirerId: whose devices, journal and policy the session sees (ALL_ACQUIRERS for the admin token). */
export async function createSession(repo: Repository, username: string, role: Role, now: number, acquirerId: string): Promise<{ token: string; session: Session }> {
  const token = randomBytes(32).toString('base64url');
  const row: ConsoleSessionRow = { tokenHash: tokenHash(token), username, acquirerId, role, createdMs: now, expiresMs: now + SESSION_TTL_MS };
  await repo.purgeConsoleSessions(now);
  await repo.putConsoleSession(row);
  return { token, session: { row, csrf: csrfFor(token) } };
}

/** The session token of a Cookie header, '' if none. */
export function cookieToken(header: string | undefined): string {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return '';
}

export async function sessionOf(repo: Repository, cookieHeader: string | undefined, now: number): Promise<Session | null> {
  const token = cookieToken(cookieHeader);
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const row = await repo.getConsoleSession(tokenHash(token));
  if (!row || row.expiresMs <= now) return null;
  if (row.role !== 'admin') {
    // The account as it is now: a disabled operator is out at once, a changed role or acquirer applies at once.
    const op = await repo.getOperator(row.username);
    if (!op || op.disabled) return null;
    row.role = op.role;
    row.acquirerId = op.acquirerId;
  }
  return { row, csrf: csrfFor(token) };
}

export function csrfMatches(s: Session, header: string | string[] | undefined): boolean {
  const got = Buffer.from(typeof header === 'string' ? header : '');
  const want = Buffer.from(s.csrf);
  return got.length === want.length && timingSafeEqual(got, want);
}

export function setCookie(token: string, secure: boolean): string {
  return `${COOKIE}=${token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
}

export function clearCookie(secure: boolean): string {
  return `${COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
