// Signed terminal configuration: the back end signs the configuration (Ed25519, RFC 8032)
// and the REE refuses one whose signature does not verify under the pinned key, so AIDs,
// limits and CA keys cannot be swapped on the phone. The signed bytes are the canonical JSON
// (keys sorted, no spaces) of the configuration object.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { CapkConfig, TerminalConfig } from './config.ts';

export class ConfigError extends Error {
  constructor(readonly code: 'SIGNATURE_INVALID' | 'CONFIG_INVALID' | 'CAPK_CHECKSUM', message: string) { super(message); this.name = 'ConfigError'; }
}

export interface SignedConfig { config: TerminalConfig; signature: string }

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Raw 32-byte Ed25519 keys as node:crypto KeyObjects. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}
export function ed25519PrivateKey(seed: Uint8Array, pub: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(seed).toString('base64url'), x: Buffer.from(pub).toString('base64url') }, format: 'jwk' });
}

export function signConfig(config: TerminalConfig, key: KeyObject): SignedConfig {
  return { config, signature: sign(null, Buffer.from(canonicalJson(config)), key).toString('hex').toUpperCase() };
}

export function capkChecksumHex(k: CapkConfig): string {
  return createHash('sha1').update(Buffer.from(k.rid + k.index + k.modulus + k.exponent, 'hex')).digest('hex').toUpperCase();
}

/** Verify and return the configuration; throws ConfigError and never returns unverified data. */
export function loadSignedConfig(doc: SignedConfig, key: KeyObject): TerminalConfig {
  if (!doc || typeof doc !== 'object' || typeof doc.signature !== 'string' || !doc.config) {
    throw new ConfigError('CONFIG_INVALID', 'signed configuration must be {config, signature}');
  }
  const ok = /^[0-9A-Fa-f]{128}$/.test(doc.signature) && verify(null, Buffer.from(canonicalJson(doc.config)), key, Buffer.from(doc.signature, 'hex'));
  if (!ok) throw new ConfigError('SIGNATURE_INVALID', 'terminal configuration signature does not verify');
  const c = doc.config;
  if (!Array.isArray(c.combinations) || !Array.isArray(c.capks)) throw new ConfigError('CONFIG_INVALID', 'configuration lacks combinations or capks');
  for (const k of c.capks) {
    if (k.checksum && k.checksum.toUpperCase() !== capkChecksumHex(k)) {
      throw new ConfigError('CAPK_CHECKSUM', `CA public key ${k.rid}/${k.index} checksum mismatch`);
    }
  }
  return c;
}
