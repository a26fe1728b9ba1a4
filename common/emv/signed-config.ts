// Signed terminal configuration: the back end signs the configuration (Ed25519, RFC 8032)
// and the REE refuses one whose signature does not verify under the pinned key, so AIDs,
// limits and CA keys cannot be swapped on the phone. The signed bytes are the canonical JSON
// (keys sorted, no spaces) of the configuration object. Keys are raw bytes (32-byte Ed25519
// seed and public key) and the code is @noble: the phone verifies, the back end and the test
// configuration sign, with the same code.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { fromHex, toHex } from '../hex.ts';
import type { CapkConfig, RelayResistanceConfig, TerminalConfig } from './config.ts';

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

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Signs with a 32-byte Ed25519 private key (the RFC 8032 seed). */
export function signConfig(config: TerminalConfig, seed: Uint8Array): SignedConfig {
  return { config, signature: toHex(ed25519.sign(utf8(canonicalJson(config)), seed)) };
}

export function capkChecksumHex(k: CapkConfig): string {
  return toHex(sha1(fromHex(k.rid + k.index + k.modulus + k.exponent, `CA key ${k.rid}/${k.index}`)));
}

function verifies(doc: SignedConfig, publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32 || !/^[0-9A-Fa-f]{128}$/.test(doc.signature)) return false;
  // Strict RFC 8032 verification (no ZIP-215 leniency), as OpenSSL does it.
  try { return ed25519.verify(fromHex(doc.signature), utf8(canonicalJson(doc.config)), publicKey, { zip215: false }); } catch { return false; }
}

/** Verify with the pinned 32-byte Ed25519 public key and return the configuration; throws
 * ConfigError and never returns unverified data. */
export function loadSignedConfig(doc: SignedConfig, publicKey: Uint8Array): TerminalConfig {
  if (!doc || typeof doc !== 'object' || typeof doc.signature !== 'string' || !doc.config) {
    throw new ConfigError('CONFIG_INVALID', 'signed configuration must be {config, signature}');
  }
  if (!verifies(doc, publicKey)) throw new ConfigError('SIGNATURE_INVALID', 'terminal configuration signature does not verify');
  const c = doc.config;
  if (!Array.isArray(c.combinations) || !Array.isArray(c.capks)) throw new ConfigError('CONFIG_INVALID', 'configuration lacks combinations or capks');
  for (const k of c.capks) {
    if (k.checksum && k.checksum.toUpperCase() !== capkChecksumHex(k)) {
      throw new ConfigError('CAPK_CHECKSUM', `CA public key ${k.rid}/${k.index} checksum mismatch`);
    }
  }
  for (const comb of c.combinations) if (comb.relayResistance) checkRelayResistance(comb.relayResistance, comb.aid);
  return c;
}

/** Relay resistance parameters are 2-byte unsigned times (100 µs units) and a 1-byte percent;
 *  an expected R-APDU transmission time of 0 would divide by zero in the mismatch check. */
function checkRelayResistance(r: RelayResistanceConfig, aid: string): void {
  const u16 = ['minGracePeriod', 'maxGracePeriod', 'expectedTransmissionCapdu', 'expectedTransmissionRapdu', 'accuracyThreshold'] as const;
  for (const k of u16) {
    const v = r[k];
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new ConfigError('CONFIG_INVALID', `${aid}: relayResistance.${k} must be 0..65535 (units of 100 µs)`);
  }
  if (r.expectedTransmissionRapdu === 0) throw new ConfigError('CONFIG_INVALID', `${aid}: relayResistance.expectedTransmissionRapdu must not be 0`);
  const m = r.mismatchThresholdPercent;
  if (!Number.isInteger(m) || m < 0 || m > 0xff) throw new ConfigError('CONFIG_INVALID', `${aid}: relayResistance.mismatchThresholdPercent must be 0..255`);
}
