// Operator accounts of the console (issue 12 §1): passwords hashed with scrypt (RFC 7914) from
// node:crypto (OpenSSL's, run off the event loop), parameters per OWASP's password storage
// guidance (N = 2^17, r = 8, p = 1), kept with the hash so they can be raised later. Only the
// hash is stored; a password is never logged or returned.
import { scrypt, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OperatorRoleName, OperatorRow, Repository } from '../store/repository.ts';
import { ALL_ACQUIRERS, DEFAULT_ACQUIRER } from '../store/repository.ts';
import { ApiError, ErrorCode, malformed } from '../errors.ts';

export const ROLES: readonly OperatorRoleName[] = ['viewer', 'operator'];
const N = 2 ** 17, R = 8, P = 1, KEY_LEN = 32;
/** 128·N·r bytes of scratch (128 MiB) and some slack; Node's default cap is 32 MiB. */
const MAXMEM = 256 * 1024 * 1024;
export const MIN_PASSWORD = 12;

function derive(password: string, salt: Buffer, n: number, r: number, p: number, len: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, len, { N: n, r, p, maxmem: MAXMEM }, (e, key) => (e ? reject(e) : resolve(key)));
  });
}

const b64 = (b: Buffer) => b.toString('base64url');

/** 'scrypt$N$r$p$salt$hash', salt and hash base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return ['scrypt', N, R, P, b64(salt), b64(await derive(password, salt, N, R, P, KEY_LEN))].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'base64url');
  const got = await derive(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p), want.length);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Checked before anything is stored: a clear typed error for a bad name, role or password. */
export function checkNewOperator(username: string, role: string, password: string): OperatorRoleName {
  if (!/^[a-z0-9][a-z0-9._-]{1,31}$/.test(username)) throw malformed('username must be 2..32 characters of [a-z0-9._-], starting with a letter or digit');
  if (username === 'admin') throw malformed("'admin' is the admin token's name in the history; choose another username");
  if (!(ROLES as readonly string[]).includes(role)) throw malformed(`role must be ${ROLES.join(' or ')}`);
  if (password.length < MIN_PASSWORD) throw malformed(`the password must be at least ${MIN_PASSWORD} characters`);
  return role as OperatorRoleName;
}

/** Adds an operator or replaces its role, acquirer and password (`trusttap operator add`). The
 * operator sees only its acquirer's devices, journal and policy; ALL_ACQUIRERS: the scheme's
 * operator, who sees every acquirer's. */
export async function addOperator(repo: Repository, username: string, role: string, password: string, now: number, acquirerId: string = DEFAULT_ACQUIRER): Promise<OperatorRow> {
  const r = checkNewOperator(username, role, password);
  if (acquirerId !== ALL_ACQUIRERS && !await repo.getAcquirer(acquirerId)) throw malformed(`no acquirer ${acquirerId} (trusttap acquirer add ${acquirerId} first)`);
  const row: OperatorRow = { username, acquirerId, role: r, passwordHash: await hashPassword(password), createdMs: now, disabled: false };
  await repo.putOperator(row);
  return row;
}

/** The operator whose password this is; a typed 401 otherwise (the same for an unknown name, so
 * the answer does not say which names exist; the hash runs either way). */
export async function checkPassword(repo: Repository, username: string, password: string): Promise<OperatorRow> {
  const op = await repo.getOperator(username);
  const ok = await verifyPassword(password, op?.passwordHash ?? DUMMY);
  if (!op || !ok || op.disabled) throw new ApiError(401, ErrorCode.ERROR_UNAUTHORIZED, 'wrong username or password');
  return op;
}

/** A hash no password matches, so an unknown username costs as much as a known one. */
const DUMMY = ['scrypt', N, R, P, b64(Buffer.alloc(16)), b64(Buffer.alloc(KEY_LEN))].join('$');
