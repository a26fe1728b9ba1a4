// Typed client of the keystore TA (proto/keystore.proto). Keys are named by key_id; only
// public information (attributes, KCV) ever comes back.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { TeeContext, TeeSession } from './client.ts';

export const ks = trusttap.keystore.v1;
export type KeyInfo = InstanceType<typeof ks.KeyInfo>;
export type KeyAttributes = trusttap.keystore.v1.KeyAttributes.$Properties;

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

  close(): Promise<void> {
    return this.session.close();
  }
}
