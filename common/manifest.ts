// The signed build manifest (build/manifest.json + build/manifest.sig): its format, its
// signature and its validation. Shared: the reference runtime (tee/loader) checks it before it
// loads a TA, the back end checks evidence against it, the build writes it. No I/O and no Node
// built-in here (SHA-256 and Ed25519 from @noble): reading files is tee/loader/manifest.ts.
//
// What is signed: the exact bytes of manifest.json as stored (UTF-8, written by
// serializeManifest: JSON.stringify with 2-space indent and a final newline). manifest.sig
// holds the Ed25519 signature (RFC 8032, pure Ed25519, no pre-hash) of those bytes as one line
// of base64. No canonicalisation happens at verification time: the bytes are verified first and
// parsed only after the signature holds, so a verifier in any language only needs Ed25519.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, equalBytes } from './hex.ts';
import { fromBase64, Base64Error } from './base64.ts';
import { LoadError } from './load-error.ts';

export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';

export interface ManifestImport { module: string; name: string; signature: string }
export interface ManifestExport { name: string; kind: string }

export interface ManifestTa {
  name: string;
  uuid: string;
  version: string;
  ta_abi_version: number;
  /** File name of the wasm, relative to the manifest's directory (no path separators). */
  file: string;
  /** true for a debug build (TA_DEBUG defined; may import tee.log / env.trace). */
  debug: boolean;
  /** Lower-case hex SHA-256 of the wasm file. */
  sha256: string;
  size: number;
  initial_memory_pages: number;
  maximum_memory_pages: number;
  imports: ManifestImport[];
  exports: ManifestExport[];
  /** The asc command line that produced the file (entry first), for auditors reproducing it. */
  asc_args: string[];
}

/** The REE client's shipped bundle (build/client-bundle.ts, issue 16 §2): what the app embeds.
 * Its SHA-256 is what a client reports in its evidence (proto ClientMeasurement). */
export interface ManifestClient {
  /** CLIENT_NAME. */
  name: string;
  /** The package's version. */
  version: string;
  /** CLIENT_FILE: relative to the manifest's directory. */
  file: string;
  /** Lower-case hex SHA-256 of the bundle's bytes. */
  sha256: string;
  size: number;
  /** The bundled entry point (repo-relative) and the bundler, for auditors reproducing it. */
  entry: string;
  bundler: string;
}

export const CLIENT_NAME = 'trusttap-client';
export const CLIENT_FILE = 'client/trusttap-client.js';

export interface Manifest {
  version: number;
  /** "development" when signed with the committed development key; otherwise the configured name. */
  signer: string;
  /** "ed25519:sha256:<hex>" — SHA-256 of the signing public key (SPKI DER). Informational: trust
   * comes from verifying with the key the runtime was given, never from this field. */
  signing_key: string;
  host_abi_version: number;
  ta_abi_version: number;
  /** e.g. "assemblyscript 0.28.20". */
  compiler: string;
  tas: ManifestTa[];
  /** The REE client bundle; absent in a build of TAs only. */
  client?: ManifestClient;
}

/** Serialisation used by the build; these are the bytes that get signed. Key order is fixed by
 * construction in the build (object literal order), so the output is deterministic. */
export function serializeManifest(m: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m, null, 2) + '\n');
}

/** Lower-case hex SHA-256, as the manifest writes hashes. */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes)).toLowerCase();
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID
 * 1.3.101.112 }, BIT STRING (32 bytes) }. */
export const ED25519_SPKI_PREFIX = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00);

/** "ed25519:sha256:<hex of the SPKI DER public key>" for a 32-byte Ed25519 public key. */
export function ed25519KeyId(raw: Uint8Array): string {
  const der = new Uint8Array(ED25519_SPKI_PREFIX.length + raw.length);
  der.set(ED25519_SPKI_PREFIX); der.set(raw, ED25519_SPKI_PREFIX.length);
  return `ed25519:sha256:${sha256Hex(der)}`;
}

/** The raw 32-byte key of an Ed25519 public key in PEM (SPKI, "BEGIN PUBLIC KEY"); throws
 * BAD_SIGNATURE naming what is wrong with anything else. */
export function ed25519FromPem(pem: string | Uint8Array): Uint8Array {
  const text = typeof pem === 'string' ? pem : new TextDecoder().decode(pem);
  const m = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(text);
  if (!m) throw new LoadError('BAD_SIGNATURE', 'the trusted public key is unreadable: not a PEM public key (BEGIN PUBLIC KEY)');
  let der: Uint8Array;
  try { der = fromBase64(m[1]!.replace(/\s+/g, '')); } catch (e) {
    if (e instanceof Base64Error) throw new LoadError('BAD_SIGNATURE', 'the trusted public key is unreadable: bad base64');
    throw e;
  }
  const isEd25519 = der.length === ED25519_SPKI_PREFIX.length + 32 && equalBytes(der.subarray(0, ED25519_SPKI_PREFIX.length), ED25519_SPKI_PREFIX);
  if (!isEd25519) throw new LoadError('BAD_SIGNATURE', 'the trusted key must be Ed25519, got another key type');
  return der.slice(ED25519_SPKI_PREFIX.length);
}

/** Pure Ed25519 verification (RFC 8032, strict: no ZIP-215 leniency) of a 64-byte signature
 * with a raw 32-byte key. */
export type Ed25519Verify = (sig: Uint8Array, msg: Uint8Array, rawKey: Uint8Array) => boolean;

/** @noble's strict RFC 8032 verification, as OpenSSL verifies. */
export const nobleEd25519Verify: Ed25519Verify = (sig, msg, key) => ed25519.verify(sig, msg, key, { zip215: false });

/** Verifies manifest.sig text over manifest bytes; throws UNSIGNED or BAD_SIGNATURE. `verify`
 * lets a platform with native Ed25519 (the Node runtime: OpenSSL) check the same signature
 * without @noble's first-use table set-up, which dominates a TA cold start in a fresh process. */
export function verifyManifestSignature(bytes: Uint8Array, signatureText: string | null, trustedPublicKeyPem: string | Uint8Array, verify: Ed25519Verify = nobleEd25519Verify): void {
  if (signatureText === null || signatureText.trim() === '') throw new LoadError('UNSIGNED', `the manifest has no signature (${SIGNATURE_FILE} missing or empty)`);
  const key = ed25519FromPem(trustedPublicKeyPem);
  const text = signatureText.trim();
  const sig = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? fromBase64(text) : new Uint8Array(0);
  if (sig.length !== 64) throw new LoadError('BAD_SIGNATURE', `${SIGNATURE_FILE} is not a base64 Ed25519 signature (64 bytes)`);
  let ok = false;
  try { ok = verify(sig, bytes, key); } catch { ok = false; }
  if (!ok) {
    throw new LoadError('BAD_SIGNATURE', `${SIGNATURE_FILE} does not verify over ${MANIFEST_FILE} with the trusted key ${ed25519KeyId(key)}`);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Parses and validates manifest bytes (call after verifying them); throws BAD_MANIFEST, and
 * ABI_MISMATCH when `hostAbiVersion` (the runtime's) is given and differs. */
export function parseManifest(bytes: Uint8Array, hostAbiVersion?: number): Manifest {
  let m: any;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new LoadError('BAD_MANIFEST', `${MANIFEST_FILE} is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  const bad = (what: string): never => { throw new LoadError('BAD_MANIFEST', `${MANIFEST_FILE}: ${what}`); };
  const isObj = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(m)) bad('not a JSON object');
  if (m.version !== MANIFEST_VERSION) bad(`unsupported manifest version ${JSON.stringify(m.version)} (expected ${MANIFEST_VERSION})`);
  for (const k of ['signer', 'signing_key', 'compiler']) if (typeof m[k] !== 'string') bad(`${k} must be a string`);
  for (const k of ['host_abi_version', 'ta_abi_version']) if (!Number.isInteger(m[k])) bad(`${k} must be an integer`);
  if (!Array.isArray(m.tas)) bad('tas must be an array');
  const seen = new Set<string>();
  m.tas.forEach((t: any, i: number) => {
    const at = `tas[${i}]${isObj(t) && typeof t.name === 'string' ? ` (${t.name})` : ''}`;
    if (!isObj(t)) bad(`${at} is not an object`);
    for (const k of ['name', 'uuid', 'version', 'file', 'sha256']) if (typeof t[k] !== 'string') bad(`${at}.${k} must be a string`);
    if (!UUID.test(t.uuid)) bad(`${at}.uuid is not a lower-case UUID`);
    if (!HEX64.test(t.sha256)) bad(`${at}.sha256 is not 64 lower-case hex digits`);
    if (/[/\\]/.test(t.file) || t.file.startsWith('.') || !t.file.endsWith('.wasm')) bad(`${at}.file must be a plain *.wasm file name`);
    if (typeof t.debug !== 'boolean') bad(`${at}.debug must be a boolean`);
    for (const k of ['ta_abi_version', 'size', 'initial_memory_pages', 'maximum_memory_pages']) if (!Number.isInteger(t[k]) || t[k] < 0) bad(`${at}.${k} must be a non-negative integer`);
    if (!Array.isArray(t.imports) || !t.imports.every((x: any) => isObj(x) && typeof x.module === 'string' && typeof x.name === 'string' && typeof x.signature === 'string')) bad(`${at}.imports must be [{module, name, signature}]`);
    if (!Array.isArray(t.exports) || !t.exports.every((x: any) => isObj(x) && typeof x.name === 'string' && typeof x.kind === 'string')) bad(`${at}.exports must be [{name, kind}]`);
    if (!Array.isArray(t.asc_args) || !t.asc_args.every((x: any) => typeof x === 'string')) bad(`${at}.asc_args must be an array of strings`);
    const key = `${t.name}/${t.debug}`;
    if (seen.has(key) || seen.has(`${t.uuid}/${t.debug}`)) bad(`${at} is listed twice`);
    seen.add(key); seen.add(`${t.uuid}/${t.debug}`);
  });
  if (m.client !== undefined) {
    const c = m.client;
    if (!isObj(c)) bad('client is not an object');
    for (const k of ['name', 'version', 'file', 'sha256', 'entry', 'bundler']) if (typeof c[k] !== 'string') bad(`client.${k} must be a string`);
    if (!HEX64.test(c.sha256)) bad('client.sha256 is not 64 lower-case hex digits');
    if (c.file !== CLIENT_FILE) bad(`client.file must be ${CLIENT_FILE}`);
    if (!Number.isInteger(c.size) || c.size <= 0) bad('client.size must be a positive integer');
  }
  if (hostAbiVersion !== undefined && m.host_abi_version !== hostAbiVersion) throw new LoadError('ABI_MISMATCH', `manifest is for host ABI v${m.host_abi_version}; this runtime implements v${hostAbiVersion}`);
  return m as Manifest;
}

