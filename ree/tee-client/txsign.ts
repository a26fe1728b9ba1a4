// Typed client of the txsign TA (proto/txsign.proto): the app never builds a record the TA has
// not checked, and never sees the card data it encrypts.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { TeeContext, TeeSession } from './client.ts';

export const tx = trusttap.txsign.v1;
export type TransactionRecordInput = Omit<trusttap.txsign.v1.TransactionRecord.$Properties, 'counter' | 'encryptedCardData' | 'amountMinor' | 'timestampMs'>
  & { amountMinor: number; timestampMs: number };

export class TxsignClient {
  private constructor(readonly session: TeeSession) {}

  static async open(ctx: TeeContext): Promise<TxsignClient> {
    return new TxsignClient(await ctx.openSession('txsign'));
  }

  /** Signs and MACs a record; sensitiveCardData (BER-TLV) is encrypted into it by the TEE.
   * Returns the encoded SignTransactionResponse (sent to the back end as is) and its decoding. */
  async sign(record: TransactionRecordInput, dukptKeyId: string, sensitiveCardData?: Uint8Array) {
    const bytes = await this.session.invoke(tx.Command.COMMAND_SIGN_TRANSACTION,
      tx.SignTransactionRequest.encode({ record: record as unknown as trusttap.txsign.v1.TransactionRecord.$Properties, dukptKeyId, sensitiveCardData }).finish());
    return { bytes, response: tx.SignTransactionResponse.decode(bytes) };
  }

  /** Installs the back end's signed offline policy (AttestResponse.offline_policy); the TA pins
   * tokenPublicKey on first use. Records the policy acknowledges leave the queue. */
  async setOfflinePolicy(signed: trusttap.txsign.v1.ISignedOfflinePolicy, tokenPublicKey: Uint8Array): Promise<trusttap.txsign.v1.OfflineStatus> {
    return this.session.call(tx.Command.COMMAND_SET_OFFLINE_POLICY, tx.SetOfflinePolicyRequest, { signed, tokenPublicKey }, tx.OfflineStatus);
  }

  /** Signs a record approved offline and queues it in the TEE, within the policy's limits (a
   * refusal is a TeeError with status ACCESS_DENIED naming the limit). Same answer as sign(). */
  async signOffline(record: TransactionRecordInput, dukptKeyId: string, cvm: trusttap.txsign.v1.OfflineCvm, aid: string, sensitiveCardData?: Uint8Array) {
    const bytes = await this.session.invoke(tx.Command.COMMAND_SIGN_OFFLINE, tx.SignOfflineRequest.encode({
      sign: { record: record as unknown as trusttap.txsign.v1.TransactionRecord.$Properties, dukptKeyId, sensitiveCardData }, cvm, aid,
    }).finish());
    return { bytes, response: tx.SignTransactionResponse.decode(bytes) };
  }

  /** The installed offline policy and the queued records, oldest first. */
  async offlineStatus(): Promise<trusttap.txsign.v1.OfflineStatus> {
    return this.session.call(tx.Command.COMMAND_GET_OFFLINE_QUEUE, tx.GetOfflineQueueRequest, {}, tx.OfflineStatus);
  }

  async counter(): Promise<bigint> {
    const r = await this.session.call(tx.Command.COMMAND_GET_STATE, tx.GetStateRequest, {}, tx.GetStateResponse);
    return BigInt(r.counter.toString());
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
