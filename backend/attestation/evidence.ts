// Opening signed evidence (proto/attest.proto SignedEvidence): the signature is checked over the
// exact bytes received, with the label, and only then are the bytes decoded. Pure: used by the
// service and by `trusttap verify-evidence`.
import { decodeCanonical } from '../../common/canonical.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { verifyP256 } from '../crypto/p256.ts';
import { labelled, LABEL } from '../../common/signature-labels.ts';
import { hex, sha256Hex } from '../util.ts';

const a = trusttap.attest.v1;
export type Evidence = trusttap.attest.v1.Evidence;

export class EvidenceError extends Error {
  constructor(readonly code: 'MALFORMED' | 'BAD_SIGNATURE' | 'WRONG_KEY' | 'FORMAT', message: string) {
    super(message);
    this.name = 'EvidenceError';
  }
}

export interface OpenedEvidence {
  evidence: Evidence;
  /** Hex SHA-256 of the evidence bytes. */
  sha256: string;
}

/** Verifies the signature (by expectedKey if given, else by the key the evidence names) and
 * decodes. The evidence must name expectedKey when one is given. */
export function openEvidence(signed: trusttap.attest.v1.ISignedEvidence | null | undefined, expectedKey?: Uint8Array): OpenedEvidence {
  const bytes = signed?.evidence;
  const sig = signed?.signature;
  if (!bytes?.length || !sig?.length) throw new EvidenceError('MALFORMED', 'evidence and signature are required');
  // The claimed key is needed to verify when no key is expected; decoding first only reads it.
  let evidence: Evidence;
  try {
    evidence = decodeCanonical(a.Evidence, bytes, 'the evidence');
  } catch (e) {
    throw new EvidenceError('MALFORMED', (e as Error).message);
  }
  const key = expectedKey ?? evidence.devicePublicKey;
  if (expectedKey && hex(evidence.devicePublicKey) !== hex(expectedKey)) throw new EvidenceError('WRONG_KEY', 'the evidence names another device key');
  if (!verifyP256(key, labelled(LABEL.evidence, bytes), sig)) throw new EvidenceError('BAD_SIGNATURE', 'the evidence signature does not verify with the device key');
  if (evidence.formatVersion !== 1) throw new EvidenceError('FORMAT', `unsupported evidence format ${evidence.formatVersion}`);
  if (!evidence.measurements) throw new EvidenceError('MALFORMED', 'the evidence has no measurements');
  return { evidence, sha256: sha256Hex(bytes) };
}
