// Typed client of the keystore TA (proto/keystore.proto). Keys are named by key_id; only
// public information (attributes, KCV) ever comes back.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { TeeContext, TeeSession } from './client.ts';

export const ks = trusttap.keystore.v1;
export type KeyInfo = InstanceType<typeof ks.KeyInfo>;
export type KeyAttributes = trusttap.keystore.v1.KeyAttributes.$Properties;
export type KeyLimits = trusttap.keystore.v1.KeyLimits.$Properties;
export type DukptStatus = InstanceType<typeof ks.DukptStatus>;

export class KeystoreClient {
  private constructor(readonly session: TeeSession) {}

  static async open(ctx: TeeContext): Promise<KeystoreClient> {
    return new KeystoreClient(await ctx.openSession('keystore'));
  }

  ping() {
    return this.session.ping();
  }

  async generateKey(keyId: string, attributes: KeyAttributes): Promise<KeyInfo> {
    const r = await this.session.call(ks.Command.COMMAND_GENERATE_KEY, ks.GenerateKeyRequest, { keyId, attributes }, ks.GenerateKeyResponse);
    return r.key as KeyInfo;
  }

  async getKeyInfo(keyId: string): Promise<KeyInfo> {
    const r = await this.session.call(ks.Command.COMMAND_GET_KEY_INFO, ks.GetKeyInfoRequest, { keyId }, ks.GetKeyInfoResponse);
    return r.key as KeyInfo;
  }

  async listKeys(): Promise<KeyInfo[]> {
    const r = await this.session.call(ks.Command.COMMAND_LIST_KEYS, ks.ListKeysRequest, {}, ks.ListKeysResponse);
    return r.keys as KeyInfo[];
  }

  async deleteKey(keyId: string): Promise<void> {
    await this.session.call(ks.Command.COMMAND_DELETE_KEY, ks.DeleteKeyRequest, { keyId }, ks.DeleteKeyResponse);
  }

  /** Imports a TR-31 / X9.143 key block wrapped under a KEK this keystore holds. */
  async importKeyBlock(keyId: string, kekId: string, keyBlock: string, limits?: KeyLimits): Promise<KeyInfo> {
    const r = await this.session.call(ks.Command.COMMAND_IMPORT_KEY_BLOCK, ks.ImportKeyBlockRequest, { keyId, kekId, keyBlock, limits }, ks.ImportKeyBlockResponse);
    return r.key as KeyInfo;
  }

  /** Exports an exportable key as a key block under a KEK (version D/E for AES KEKs, B for TDES). */
  async exportKeyBlock(keyId: string, kekId: string, version = ''): Promise<string> {
    const r = await this.session.call(ks.Command.COMMAND_EXPORT_KEY_BLOCK, ks.ExportKeyBlockRequest, { keyId, kekId, version }, ks.ExportKeyBlockResponse);
    return r.keyBlock;
  }

  /** UnionPay-style download of an SM4 PIN key (P0): `wrapped` = SM4-ECB(KEK, key) under the SM4
   * K0 key `kekId`, `checkValue` = leftmost 4..8 bytes of SM4-ECB(key, 16 zero bytes). Rejects
   * with ERROR_MAC_INVALID when the check value does not match. */
  async importWrappedKey(keyId: string, kekId: string, wrapped: Uint8Array, checkValue: Uint8Array, attributes: KeyAttributes): Promise<KeyInfo> {
    const r = await this.session.call(ks.Command.COMMAND_IMPORT_WRAPPED_KEY, ks.ImportWrappedKeyRequest, { keyId, kekId, wrapped, checkValue, attributes }, ks.ImportWrappedKeyResponse);
    return r.key as KeyInfo;
  }

  async generateMac(keyId: string, algorithm: number, data: Uint8Array): Promise<Uint8Array> {
    const r = await this.session.call(ks.Command.COMMAND_GENERATE_MAC, ks.GenerateMacRequest, { keyId, algorithm, data }, ks.GenerateMacResponse);
    return r.mac;
  }

  /** Resolves when the MAC verifies; rejects with ERROR_MAC_INVALID otherwise. */
  async verifyMac(keyId: string, algorithm: number, data: Uint8Array, mac: Uint8Array): Promise<void> {
    await this.session.call(ks.Command.COMMAND_VERIFY_MAC, ks.VerifyMacRequest, { keyId, algorithm, data, mac }, ks.VerifyMacResponse);
  }

  /** ECB when iv is empty, else CBC. */
  async encryptData(keyId: string, data: Uint8Array, iv: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    return (await this.session.call(ks.Command.COMMAND_ENCRYPT_DATA, ks.CipherRequest, { keyId, data, iv }, ks.CipherResponse)).data;
  }

  async decryptData(keyId: string, data: Uint8Array, iv: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    return (await this.session.call(ks.Command.COMMAND_DECRYPT_DATA, ks.CipherRequest, { keyId, data, iv }, ks.CipherResponse)).data;
  }

  /** Starts the next DUKPT transaction of a key set: returns its KSN and what is left. */
  async dukptNextTransaction(keyId: string): Promise<DukptStatus> {
    const r = await this.session.call(ks.Command.COMMAND_DUKPT_NEXT_TRANSACTION, ks.DukptNextTransactionRequest, { keyId }, ks.DukptNextTransactionResponse);
    return r.status as DukptStatus;
  }

  async dukptStatus(keyId: string): Promise<DukptStatus> {
    const r = await this.session.call(ks.Command.COMMAND_DUKPT_STATUS, ks.DukptStatusRequest, { keyId }, ks.DukptStatusResponse);
    return r.status as DukptStatus;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
