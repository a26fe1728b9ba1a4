// The default HSM: a local 256-bit master key (dataDir/hsm/master.key, mode 0600, made on first
// start) encrypts every stored secret with AES-256-GCM (the secret's id is the associated data,
// so a ciphertext cannot be moved to another id). Service signing keys, BDKs and RKI session
// keys are stored only in that form (Repository.putSecret / RKI sessions). Inside the HSM a key
// once unwrapped is kept as a node:crypto secret KeyObject (./key-cache.ts: native memory, never
// logged, persisted or returned), so an authorization does not read and AES-GCM-decrypt the BDK
// and the issuer key again each time; the bytes handed to an algorithm are a copy, wiped after
// the operation. The payment algorithms run in the HSM Wasm module (wasm.ts), compiled from the
// same AssemblyScript as the TAs.
import { createCipheriv, createDecipheriv, randomBytes, createECDH, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from '../store/repository.ts';
import { SERVICE_KEYS, type Hsm, type KeyAgreement, type ServiceKeyName, type WrappedKey, type PinCheck, type ArqcCheck } from './hsm.ts';
import { verifyArqc } from '../issuer/issuer-host.ts';
import { HsmModule, HsmModuleError } from './wasm.ts';
import { generateP256, signP256, signP256Async, p256PrivateKey, publicFromPrivate } from '../crypto/p256.ts';
import type { KeyObject } from 'node:crypto';
import { KeyCache } from './key-cache.ts';

export class HsmError extends Error {
  constructor(message: string) { super(message); this.name = 'HsmError'; }
}

export class SoftwareHsm implements Hsm {
  private readonly signers = new Map<ServiceKeyName, { key: KeyObject; pub: Uint8Array }>();
  /** Acquirers' signing keys by id, loaded on first use (signingKey). */
  private readonly acquirerSigners = new Map<string, { key: KeyObject; pub: Uint8Array }>();
  /** Unwrapped stored keys by secret id (./key-cache.ts says when an entry is re-read). */
  private readonly keys: KeyCache;

  private constructor(private readonly master: Buffer, private readonly repo: Repository, private readonly mod: HsmModule) {
    this.keys = new KeyCache(repo, (id, wrapped) => this.unwrap(id, wrapped));
  }

  /** Opens the HSM on a repository. The master key is `opts.masterKey` (every node of a
   * multi-node deployment is given the same one: environment or file, see cli serve) or else
   * dir/master.key, made on first start. The four service signing keys are loaded (made on the
   * first open of the database) so that signing needs no database round trip. */
  static async open(dir: string, repo: Repository, opts: { masterKey?: Uint8Array } = {}): Promise<SoftwareHsm> {
    let master: Buffer;
    if (opts.masterKey) {
      master = Buffer.from(opts.masterKey);
      if (master.length !== 32) throw new HsmError('the master key must be 32 bytes');
    } else {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, 'master.key');
      if (!existsSync(file)) {
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, randomBytes(32), { mode: 0o600 });
        renameSync(tmp, file);
      }
      master = readFileSync(file);
      if (master.length !== 32) throw new HsmError(`${file} must hold 32 bytes`);
    }
    const hsm = new SoftwareHsm(master, repo, await HsmModule.load());
    for (const name of SERVICE_KEYS) await hsm.loadSigner(name);
    return hsm;
  }

  /** AES-256-GCM under the master key: iv(12) || ciphertext || tag(16). */
  wrap(id: string, clear: Uint8Array): Uint8Array {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.master, iv);
    c.setAAD(Buffer.from(id));
    const ct = Buffer.concat([c.update(clear), c.final()]);
    return Buffer.concat([iv, ct, c.getAuthTag()]);
  }

  unwrap(id: string, wrapped: Uint8Array): Uint8Array {
    if (wrapped.length < 28) throw new HsmError(`secret ${id}: ciphertext too short`);
    const d = createDecipheriv('aes-256-gcm', this.master, wrapped.subarray(0, 12));
    d.setAAD(Buffer.from(id));
    d.setAuthTag(wrapped.subarray(wrapped.length - 16));
    try {
      return new Uint8Array(Buffer.concat([d.update(wrapped.subarray(12, wrapped.length - 16)), d.final()]));
    } catch {
      throw new HsmError(`secret ${id}: does not decrypt under the master key (tampered or moved)`);
    }
  }

  private async loadSigner(name: ServiceKeyName): Promise<void> {
    this.signers.set(name, await this.loadP256(`service-key/${name}`));
  }

  /** The P-256 key stored under id, made (insert-if-absent) on first use. */
  private async loadP256(id: string): Promise<{ key: KeyObject; pub: Uint8Array }> {
    let wrapped = await this.repo.getSecret(id);
    if (!wrapped) {
      const k = generateP256();
      const mine = this.wrap(id, k.privateKey);
      k.privateKey.fill(0);
      // Another node may create it at the same moment: one insert wins, everyone uses the stored one.
      await this.repo.addSecret(id, mine);
      wrapped = await this.repo.getSecret(id);
      if (!wrapped) throw new HsmError(`signing key ${id} was not stored`);
    }
    const priv = this.unwrap(id, wrapped);
    try {
      return { key: p256PrivateKey(priv), pub: publicFromPrivate(priv) };
    } finally {
      priv.fill(0);
    }
  }

  private async acquirerSigner(keyId: string) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(keyId)) throw new HsmError('a signing key id is 1..64 characters of [A-Za-z0-9._-]');
    let s = this.acquirerSigners.get(keyId);
    if (!s) {
      s = await this.loadP256(`signing-key/${keyId}`);
      this.acquirerSigners.set(keyId, s);
    }
    return s;
  }

  async signingKey(keyId: string): Promise<Uint8Array> { return (await this.acquirerSigner(keyId)).pub; }
  async signWith(keyId: string, message: Uint8Array): Promise<Uint8Array> { return signP256((await this.acquirerSigner(keyId)).key, message); }

  private signer(name: ServiceKeyName) {
    const s = this.signers.get(name);
    if (!s) throw new HsmError(`no service key ${name}`);
    return s;
  }

  publicKey(name: ServiceKeyName): Uint8Array { return this.signer(name).pub; }
  sign(name: ServiceKeyName, message: Uint8Array): Uint8Array { return signP256(this.signer(name).key, message); }
  signAsync(name: ServiceKeyName, message: Uint8Array): Promise<Uint8Array> {
    try { return signP256Async(this.signer(name).key, message); } catch (e) { return Promise.reject(e); }
  }

  async generateBdk(bdkId: string): Promise<Uint8Array> {
    if (!/^[A-Za-z0-9._-]{1,48}$/.test(bdkId)) throw new HsmError('bdk id must be 1..48 characters of [A-Za-z0-9._-]');
    const id = `bdk/${bdkId}`;
    const bdk = randomBytes(16);
    try {
      // Insert-if-absent: two nodes creating the same BDK cannot overwrite each other's.
      if (!await this.repo.addSecret(id, this.wrap(id, bdk))) throw new HsmError(`BDK ${bdkId} exists`);
      this.keys.forget(id);
      return this.mod.call('kcv_aes', [bdk]);
    } finally {
      bdk.fill(0);
    }
  }

  async hasBdk(bdkId: string): Promise<boolean> { return this.keys.has(`bdk/${bdkId}`); }

  agreeKek(devicePublicKey: Uint8Array, sessionId: string): KeyAgreement {
    const e = createECDH('prime256v1');
    e.generateKeys();
    const eph = new Uint8Array(e.getPublicKey());
    let z: Buffer;
    try {
      z = e.computeSecret(devicePublicKey);
    } catch {
      throw new HsmError('the device public key is not a P-256 point');
    }
    const out = this.mod.call('agree', [z, devicePublicKey, eph, Buffer.from(sessionId)]);
    z.fill(0);
    e.setPrivateKey(randomBytes(32)); // drop the ephemeral scalar
    const keys = out.subarray(0, 64);
    const tagV = out.slice(64, 96);
    const tagU = out.subarray(96, 128);
    const wrappedKeys = this.wrap(`rki/${sessionId}`, Buffer.concat([keys, tagU]));
    out.fill(0);
    return { ephemeralPublicKey: eph, macTagV: tagV, wrappedKeys };
  }

  private sessionKeys(wrappedKeys: Uint8Array, sessionId: string) {
    const k = this.unwrap(`rki/${sessionId}`, wrappedKeys);
    return { all: k, kek: k.subarray(0, 32), tagU: k.subarray(64, 96) };
  }

  checkDeviceConfirmation(sessionId: string, wrappedKeys: Uint8Array, macTagU: Uint8Array): boolean {
    const k = this.sessionKeys(wrappedKeys, sessionId);
    const ok = macTagU.length === 32 && k.tagU.length === 32 && timingSafeEqual(k.tagU, macTagU); // constant time
    k.all.fill(0);
    return ok;
  }

  async wrapDukptInitialKey(sessionId: string, wrappedKeys: Uint8Array, bdkId: string, initialKeyId: Uint8Array, keyId: string): Promise<WrappedKey> {
    if (initialKeyId.length !== 8) throw new HsmError('the AES DUKPT initial key ID is 8 bytes (BDK ID || derivation ID)');
    const bdk = await this.secret(`bdk/${bdkId}`, `BDK ${bdkId}`);
    const k = this.sessionKeys(wrappedKeys, sessionId);
    try {
      const out = this.mod.call('wrap_dukpt_ik', [bdk, initialKeyId, k.kek]);
      return { keyId, kcv: out.slice(0, 5), tr31: Buffer.from(out.subarray(5)).toString('latin1'), initialKeyId };
    } finally {
      bdk.fill(0);
      k.all.fill(0);
    }
  }

  async verifyDukptMac(bdkId: string, ksn: Uint8Array, data: Uint8Array, mac: Uint8Array): Promise<boolean> {
    const bdk = await this.secret(`bdk/${bdkId}`, `BDK ${bdkId}`);
    try {
      this.mod.call('dukpt_aes_verify_mac', [bdk, ksn, mac, data]);
      return true;
    } catch (e) {
      if (e instanceof HsmModuleError) return false;
      throw e;
    } finally {
      bdk.fill(0);
    }
  }

  kekKcv(sessionId: string, wrappedKeys: Uint8Array): Uint8Array {
    const k = this.sessionKeys(wrappedKeys, sessionId);
    try {
      return this.mod.call('kcv_aes', [k.kek]);
    } finally {
      k.all.fill(0);
    }
  }

  /** A copy of the clear key stored under id (the caller wipes it after the operation). */
  private async secret(id: string, what: string): Promise<Uint8Array> {
    const k = await this.keys.get(id);
    if (!k) throw new HsmError(`no ${what}`);
    return k;
  }

  async decryptDukptData(bdkId: string, ksn: Uint8Array, data: Uint8Array): Promise<Uint8Array | null> {
    const bdk = await this.secret(`bdk/${bdkId}`, `BDK ${bdkId}`);
    try {
      return this.mod.call('dukpt_aes_decrypt_data', [bdk, ksn, data]);
    } catch (e) {
      if (e instanceof HsmModuleError) return null;
      throw e;
    } finally {
      bdk.fill(0);
    }
  }

  async openDukptRecord(bdkId: string, ksn: Uint8Array, record: Uint8Array, mac: Uint8Array, encryptedData: Uint8Array): Promise<{ macValid: boolean; data: Uint8Array | null }> {
    const bdk = await this.secret(`bdk/${bdkId}`, `BDK ${bdkId}`);
    let out: Uint8Array;
    try {
      out = this.mod.call('dukpt_aes_open_record', [bdk, ksn, mac, record, encryptedData]);
    } catch (e) {
      if (e instanceof HsmModuleError) return { macValid: false, data: null };
      throw e;
    } finally {
      bdk.fill(0);
    }
    const data = out[0] === 0 ? out.slice(1) : null;
    out.fill(0);
    return { macValid: true, data };
  }

  async ensurePinVerificationKey(pvkId: string): Promise<void> {
    const id = `pvk/${pvkId}`;
    if (await this.keys.has(id)) return;
    const k = randomBytes(16);
    await this.repo.addSecret(id, this.wrap(id, k)); // if another node made it first, theirs stays
    this.keys.forget(id);
    k.fill(0);
  }

  async pinVerificationValue(pvkId: string, pan: string, pin: string): Promise<Uint8Array> {
    if (!/^\d{12,19}$/.test(pan) || !/^\d{4,12}$/.test(pin)) throw new HsmError('PVV: PIN must be 4..12 digits, PAN 12..19 digits');
    const pvk = await this.secret(`pvk/${pvkId}`, `PIN verification key ${pvkId}`);
    const pinDigits = digits(pin);
    try {
      return this.mod.call('pin_verification_value', [pvk, digits(pan), pinDigits]);
    } finally {
      pvk.fill(0);
      pinDigits.fill(0);
    }
  }

  async verifyDukptPin(bdkId: string, ksn: Uint8Array, pinBlock: Uint8Array, pan: string, pvkId: string, pvv: Uint8Array): Promise<PinCheck> {
    if (!/^\d{12,19}$/.test(pan)) throw new HsmError('PIN verify: PAN must be 12..19 digits');
    if (ksn.length !== 12 || pinBlock.length !== 16 || pvv.length !== 8) return 'bad-block';
    const bdk = await this.secret(`bdk/${bdkId}`, `BDK ${bdkId}`);
    const pvk = await this.secret(`pvk/${pvkId}`, `PIN verification key ${pvkId}`);
    try {
      const r = this.mod.call('dukpt_aes_verify_pin', [bdk, ksn, pinBlock, digits(pan), pvk, pvv]);
      return r[0] === 0 ? 'match' : r[0] === 1 ? 'mismatch' : 'bad-block';
    } catch (e) {
      if (e instanceof HsmModuleError) return 'bad-block';
      throw e;
    } finally {
      bdk.fill(0);
      pvk.fill(0);
    }
  }

  async ensureZonePinKey(zpkId: string): Promise<void> {
    if (!/^[A-Za-z0-9._-]{1,48}$/.test(zpkId)) throw new HsmError('zone PIN key id must be 1..48 characters of [A-Za-z0-9._-]');
    const id = `zpk/${zpkId}`;
    if (await this.keys.has(id)) return;
    const k = randomBytes(16);
    await this.repo.addSecret(id, this.wrap(id, k)); // if another node made it first, theirs stays
    this.keys.forget(id);
    k.fill(0);
  }

  async translateDukptPinToZpk(bdkId: string, ksn: Uint8Array, pinBlock: Uint8Array, pan: string, zpkId: string): Promise<Uint8Array | null> {
    if (!/^\d{12,19}$/.test(pan)) throw new HsmError('PIN translate: PAN must be 12..19 digits');
    if (ksn.length !== 12 || pinBlock.length !== 16) return null;
    const bdk = await this.secret(`bdk/${bdkId}`, `BDK ${bdkId}`);
    const zpk = await this.secret(`zpk/${zpkId}`, `zone PIN key ${zpkId}`);
    try {
      const r = this.mod.call('dukpt_aes_translate_pin', [bdk, ksn, pinBlock, digits(pan), zpk, randomBytes(8)]);
      const block = r[0] === 0 ? r.slice(1, 17) : null;
      r.fill(0);
      return block;
    } catch (e) {
      if (e instanceof HsmModuleError) return null;
      throw e;
    } finally {
      bdk.fill(0);
      zpk.fill(0);
    }
  }

  async verifyZpkPin(zpkId: string, pinBlock: Uint8Array, pan: string, pvkId: string, pvv: Uint8Array): Promise<PinCheck> {
    if (!/^\d{12,19}$/.test(pan)) throw new HsmError('PIN verify: PAN must be 12..19 digits');
    if (pinBlock.length !== 16 || pvv.length !== 8) return 'bad-block';
    const zpk = await this.secret(`zpk/${zpkId}`, `zone PIN key ${zpkId}`);
    const pvk = await this.secret(`pvk/${pvkId}`, `PIN verification key ${pvkId}`);
    try {
      const r = this.mod.call('zpk_verify_pin', [zpk, pinBlock, digits(pan), pvk, pvv]);
      return r[0] === 0 ? 'match' : r[0] === 1 ? 'mismatch' : 'bad-block';
    } catch (e) {
      if (e instanceof HsmModuleError) return 'bad-block';
      throw e;
    } finally {
      zpk.fill(0);
      pvk.fill(0);
    }
  }

  async importIssuerMasterKey(imkId: string, key: Uint8Array, algorithm: 'tdes' | 'sm4' = 'tdes'): Promise<void> {
    if (!/^[A-Za-z0-9._-]{1,48}$/.test(imkId)) throw new HsmError('issuer master key id must be 1..48 characters of [A-Za-z0-9._-]');
    if (key.length !== 16) throw new HsmError(`an issuer master key (AC) is ${algorithm === 'sm4' ? 'an SM4 key' : 'a double-length TDES key'} (16 bytes)`);
    const id = imkSecretId(imkId, algorithm);
    await this.repo.putSecret(id, this.wrap(id, key));
    this.keys.forget(id);
  }

  async hasIssuerMasterKey(imkId: string, algorithm: 'tdes' | 'sm4' = 'tdes'): Promise<boolean> { return this.keys.has(imkSecretId(imkId, algorithm)); }

  async verifyArqc(imkId: string, req: ArqcCheck): Promise<{ valid: boolean; arpc?: Uint8Array }> {
    const imk = await this.secret(`imk/${imkId}`, `issuer master key ${imkId}`);
    // The SM4 key only where the issuer holds one (national-algorithm cards).
    const imkSm4 = await this.keys.get(imkSecretId(imkId, 'sm4')) ?? undefined;
    try {
      return verifyArqc({ cvn: req.cvn, issuerMasterKeyAc: imk, ...(imkSm4 ? { issuerMasterKeyAcSm4: imkSm4 } : {}), pan: req.pan, psn: req.psn, iccData: req.iccData }, req.arc, req.csu);
    } catch {
      return { valid: false };
    } finally {
      imk.fill(0);
      imkSm4?.fill(0);
    }
  }
}

/** Where an issuer master key is kept: `imk/ID` (TDES, as before SM4 existed) or `imk-sm4/ID`. */
function imkSecretId(imkId: string, algorithm: 'tdes' | 'sm4'): string {
  return algorithm === 'sm4' ? `imk-sm4/${imkId}` : `imk/${imkId}`;
}

/** Decimal digits as values 0..9 (the AS PIN-block code's input). */
function digits(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) - 48);
}
