// Typed client of the attest TA (proto/attest.proto) over the TEE Client API. Signed blobs come
// back exactly as the TA wrote them: callers forward those bytes, never re-encoded ones.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { TeeContext, TeeSession } from '../tee-client/client.ts';
import type { ReeSignals } from './collector.ts';
import { clientMeasurementMessage, type ClientMeasurement } from './client-measurement.ts';

export const at = trusttap.attest.v1;
export type CertificateChain = trusttap.attest.v1.CertificateChain;

export interface SignedEvidenceBytes { evidence: Uint8Array; signature: Uint8Array }

/** One encoded SignedEvidence: the blob `trusttap verify-evidence` and verifyEvidenceOffline() read. */
export function encodeSignedEvidence(e: SignedEvidenceBytes): Uint8Array {
  return at.SignedEvidence.encode(e).finish();
}

export class AttestClient {
  private constructor(readonly session: TeeSession) {}

  static async open(ctx: TeeContext): Promise<AttestClient> {
    return new AttestClient(await ctx.openSession('attest'));
  }

  ping() {
    return this.session.ping();
  }

  /** The device identity public key (created on first use) and its OEM certificate chain. */
  async getIdentity(): Promise<{ publicKey: Uint8Array; chain: CertificateChain }> {
    const r = await this.session.call(at.Command.COMMAND_GET_IDENTITY, at.IdentityRequest, {}, at.IdentityResponse);
    return { publicKey: r.publicKey, chain: r.chain as CertificateChain };
  }

  /** Evidence for the verifier's nonce; `client` (issue 16 §2) is signed into it as given. */
  async getEvidence(nonce: Uint8Array, ree: ReeSignals | null, client: ClientMeasurement | null = null): Promise<SignedEvidenceBytes> {
    const r = await this.session.call(at.Command.COMMAND_GET_EVIDENCE, at.EvidenceRequest, { nonce, ree, client: client ? clientMeasurementMessage(client) : null }, at.EvidenceResponse);
    return { evidence: r.evidence!.evidence!, signature: r.evidence!.signature! };
  }

  /** Signs an encoded DeviceRequest (label trusttap/device-request/v1). */
  async signRequest(request: Uint8Array): Promise<Uint8Array> {
    const r = await this.session.call(at.Command.COMMAND_SIGN_REQUEST, at.SignRequestRequest, { request }, at.SignRequestResponse);
    return r.signature;
  }

  async pinBackendKey(publicKey: Uint8Array): Promise<boolean> {
    const r = await this.session.call(at.Command.COMMAND_PIN_BACKEND_KEY, at.PinBackendKeyRequest, { publicKey }, at.PinBackendKeyResponse);
    return r.newlyPinned;
  }

  async agreeKek(offer: Uint8Array, offerSignature: Uint8Array): Promise<{ macTagU: Uint8Array; kcv: Uint8Array; keyId: string }> {
    const r = await this.session.call(at.Command.COMMAND_AGREE_KEK, at.AgreeKekRequest, { offer, offerSignature }, at.AgreeKekResponse);
    return { macTagU: r.macTagU, kcv: r.kcv, keyId: r.keyId };
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
