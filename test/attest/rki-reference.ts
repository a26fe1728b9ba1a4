// An independent TypeScript computation of the RKI key agreement (ta/lib/kek.ts), for tests.
import { createHash, createHmac } from 'node:crypto';

const ALG = 'TrustTap RKI v1: KEK AES-256, KC HMAC-SHA256';
const L = (x: Uint8Array) => Buffer.concat([Buffer.of(x.length), Buffer.from(x)]);

export function referenceKeys(z: Uint8Array, u: Uint8Array, v: Uint8Array, sessionId: string) {
  const fixed = Buffer.concat([L(Buffer.from(ALG)), L(u), L(v), L(Buffer.from(sessionId))]);
  const k = (i: number) => createHash('sha256').update(Buffer.of(0, 0, 0, i)).update(z).update(fixed).digest();
  const kek = k(1), kck = k(2);
  const tag = (label: string, a: Uint8Array, b: Uint8Array) => createHmac('sha256', kck).update(label).update(a).update(b).update(sessionId).digest();
  return { kek, kck, tagV: tag('KC_1_V', v, u), tagU: tag('KC_1_U', u, v) };
}
