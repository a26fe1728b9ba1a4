// Key agreement for remote key injection: NIST SP 800-56C Rev. 2 one-step key derivation
// (§4.1, H = SHA-256) over an ECDH P-256 shared secret Z (SP 800-56A Rev. 3, C(1e, 1s): the
// back end's ephemeral key, the device's static identity key), and bilateral key confirmation
// with HMAC-SHA256 (SP 800-56A §5.9.1). Shared by the attest TA and, compiled into the back
// end's software HSM (backend/hsm/as), by the back end, so both sides run the same code.
//
//   FixedInfo = L(AlgorithmID) || L(U) || L(V) || L(session_id)      L(x) = len(x) as 1 byte || x
//     AlgorithmID = "TrustTap RKI v1: KEK AES-256, KC HMAC-SHA256"
//     U = device identity public key (65 bytes), V = back-end ephemeral public key (65 bytes)
//   K(i) = SHA-256(i as 4 bytes big-endian || Z || FixedInfo), i = 1, 2
//   KEK = K(1) (32 bytes, AES-256)        KCK = K(2) (32 bytes, HMAC-SHA256 key confirmation)
//   MacTag_V = HMAC(KCK, "KC_1_V" || V || U || session_id)    (back end -> device)
//   MacTag_U = HMAC(KCK, "KC_1_U" || U || V || session_id)    (device -> back end)
import * as host from "./host";
import { bytesOf, wipe } from "./bytes";

export const ALGORITHM_ID = "TrustTap RKI v1: KEK AES-256, KC HMAC-SHA256";

export class AgreedKeys {
  constructor(public kek: Uint8Array, public kck: Uint8Array) {}
  wipe(): void { wipe(this.kek); wipe(this.kck); }
}

function putL(out: Uint8Array, at: i32, x: Uint8Array): i32 {
  out[at] = <u8>x.length;
  out.set(x, at + 1);
  return at + 1 + x.length;
}

/** FixedInfo of the KDF; null if a field is longer than 255 bytes. */
export function fixedInfo(u: Uint8Array, v: Uint8Array, sessionId: Uint8Array): Uint8Array | null {
  const alg = bytesOf(ALGORITHM_ID);
  if (u.length > 255 || v.length > 255 || sessionId.length > 255) return null;
  const out = new Uint8Array(4 + alg.length + u.length + v.length + sessionId.length);
  let p = putL(out, 0, alg);
  p = putL(out, p, u);
  p = putL(out, p, v);
  putL(out, p, sessionId);
  return out;
}

/** KEK and KCK from Z; wipes its intermediate buffers (not Z). */
export function deriveKeys(z: Uint8Array, fixed: Uint8Array): AgreedKeys {
  const buf = new Uint8Array(4 + z.length + fixed.length);
  buf.set(z, 4);
  buf.set(fixed, 4 + z.length);
  const kek = new Uint8Array(32);
  const kck = new Uint8Array(32);
  buf[3] = 1;
  host.digest(host.ALG_SHA256, buf.dataStart, buf.length, kek.dataStart);
  buf[3] = 2;
  host.digest(host.ALG_SHA256, buf.dataStart, buf.length, kck.dataStart);
  wipe(buf);
  return new AgreedKeys(kek, kck);
}

/** HMAC(KCK, label || first || second || sessionId). */
export function macTag(kck: Uint8Array, label: string, first: Uint8Array, second: Uint8Array, sessionId: Uint8Array): Uint8Array {
  const l = bytesOf(label);
  const m = new Uint8Array(l.length + first.length + second.length + sessionId.length);
  m.set(l, 0);
  m.set(first, l.length);
  m.set(second, l.length + first.length);
  m.set(sessionId, l.length + first.length + second.length);
  const tag = new Uint8Array(32);
  host.hmac(host.ALG_HMAC_SHA256, kck.dataStart, kck.length, m.dataStart, m.length, tag.dataStart);
  return tag;
}
