// The fresh-attestation gate before PIN entry (PCI MPoC 1E-1.6: attest right before PIN entry).
// A PIN entry opens only with a back-end verdict token (trusttap.attest.v1.VerdictToken, signed
// ECDSA P-256/SHA-256 r||s over exactly the token bytes by the pinned token key) that:
//   - verifies under the pinned key (and names it in key_id, when set);
//   - names this device: device_key_sha256 = SHA-256 of the attest TA's identity public key;
//   - answers the nonce this session got from GET_NONCE: token.nonce is that nonce, or ends with
//     it (a back end may prefix its own challenge, up to 64 bytes in all); the nonce is used once;
//   - is fresh: the nonce was issued at most token_max_age_s ago (TEE monotonic clock), the token
//     was issued at most token_max_age_s ago and has not expired (REE time);
//   - says ALLOW;
//   - is in low-S form and its bytes are the canonical encoding (issue 17 §2).
import * as host from "../lib/host";
import { VerdictToken, Verdict } from "../../proto/gen/as/attest";
import { SealedConfig, Policy, TokenRefusal } from "../../proto/gen/as/pinpad";
import { equalCT } from "../lib/bytes";
import { isLowS } from "../lib/ecdsa-low-s";
import { reeNow } from "./state";

export const NONCE_LEN = 32;
const MAX_TOKEN_NONCE = 64;

/** A nonce issued to one session, valid once. */
export class NonceSlot {
  constructor(public nonce: Uint8Array, public issuedAt: f64) {}
}

export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  host.digest(host.ALG_SHA256, data.dataStart, data.length, out.dataStart);
  return out;
}

/** "TTpe" || the entry epoch (8 bytes, big-endian) || 20 random bytes: the back end reads the
 * epoch from the evidence nonce and refuses one that goes back (backend/attestation/witness.ts);
 * 160 random bits keep it unpredictable. */
export function newNonce(epoch: u64): NonceSlot {
  const n = new Uint8Array(NONCE_LEN);
  host.random(n.dataStart, n.length);
  n[0] = 0x54; n[1] = 0x54; n[2] = 0x70; n[3] = 0x65; // "TTpe"
  for (let i = 0; i < 8; i++) n[4 + i] = <u8>(epoch >> (<u64>(56 - 8 * i)));
  return new NonceSlot(n, host.clock_ms());
}

function answersNonce(tokenNonce: Uint8Array, slot: NonceSlot): bool {
  const n = slot.nonce;
  if (tokenNonce.length < n.length || tokenNonce.length > MAX_TOKEN_NONCE) return false;
  return equalCT(tokenNonce.subarray(tokenNonce.length - n.length), n);
}

/** TOKEN_REFUSAL_UNSPECIFIED when the token opens the entry, else why not. */
export function checkToken(cfg: SealedConfig, policy: Policy, token: Uint8Array, signature: Uint8Array, slot: NonceSlot | null): TokenRefusal {
  const pub = cfg.tokenPublicKey;
  if (pub.length != 65 || cfg.deviceKeySha256.length != 32) return TokenRefusal.TOKEN_REFUSAL_NOT_PROVISIONED;
  // Low-S only (issue 17 §2): the high-S twin of the back end's signature is not a second token.
  if (signature.length != 64 || token.length == 0 || !isLowS(signature)) return TokenRefusal.TOKEN_REFUSAL_FORGED;
  if (host.ecc_verify(host.ALG_ECDSA_P256, pub.dataStart, pub.length, token.dataStart, token.length, signature.dataStart, signature.length) != 0) {
    return TokenRefusal.TOKEN_REFUSAL_FORGED;
  }
  const t = VerdictToken.decode(token);
  if (!t) return TokenRefusal.TOKEN_REFUSAL_FORGED;
  // Only the canonical encoding (as common/canonical.ts): nothing appended or reordered under the signature.
  if (!equalCT(t.encode(), token)) return TokenRefusal.TOKEN_REFUSAL_FORGED;
  if (t.keyId.length && !equalCT(t.keyId, sha256(pub))) return TokenRefusal.TOKEN_REFUSAL_WRONG_DEVICE;
  if (!equalCT(t.deviceKeySha256, cfg.deviceKeySha256)) return TokenRefusal.TOKEN_REFUSAL_WRONG_DEVICE;
  if (!slot || !answersNonce(t.nonce, slot)) return TokenRefusal.TOKEN_REFUSAL_NONCE;
  const maxAgeMs: u64 = <u64>policy.tokenMaxAgeS * 1000;
  if (host.clock_ms() - slot.issuedAt > <f64>maxAgeMs) return TokenRefusal.TOKEN_REFUSAL_STALE;
  const now = reeNow();
  if (t.issuedMs > now + maxAgeMs) return TokenRefusal.TOKEN_REFUSAL_STALE; // from the future: clocks disagree
  if (now > t.issuedMs && now - t.issuedMs > maxAgeMs) return TokenRefusal.TOKEN_REFUSAL_STALE;
  if (t.expiresMs != 0 && t.expiresMs <= now) return TokenRefusal.TOKEN_REFUSAL_STALE;
  if (t.verdict != Verdict.VERDICT_ALLOW) return TokenRefusal.TOKEN_REFUSAL_VERDICT;
  return TokenRefusal.TOKEN_REFUSAL_UNSPECIFIED;
}
