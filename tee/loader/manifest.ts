// The signed build manifest (build/manifest.json + build/manifest.sig), runtime side.
//
// What is signed: the exact bytes of manifest.json as stored (UTF-8, written by
// serializeManifest: JSON.stringify with 2-space indent and a final newline). manifest.sig
// holds the Ed25519 signature (RFC 8032, pure Ed25519, no pre-hash) of those bytes as one line
// of base64. No canonicalisation happens at verification time: the bytes are verified first and
// parsed only after the signature holds, so a verifier in any language only needs Ed25519.
//
// Before a TA is instantiated: loadVerifiedManifest (signature), verifyTaBinary (size and
// sha256 of the wasm), checkTaModule (imports against the host ABI, exports, maximum memory).
// loadVerifiedTa does all three.
import { createHash, createPublicKey, createPrivateKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { HOST_ABI_VERSION } from '../abi/table.ts';
import { TA_ABI_VERSION } from '../abi/ta-exports.ts';
import { LoadError, checkTaModule, importKey, importSignature, type CheckOptions } from './imports.ts';
import type { WasmInfo } from './wasm-info.ts';

export { LoadError, type LoadErrorCode, checkTaModule, formatSignature, moduleProblems, type CheckOptions } from './imports.ts';

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
}

export interface VerifiedManifest {
  dir: string;
  manifest: Manifest;
  /** The verified bytes of manifest.json. */
  bytes: Uint8Array;
  /** Hex SHA-256 of manifest.json (what attestation reports as the manifest hash). */
  sha256: string;
  /** The TA by name or UUID; debug selects the debug variant (default: the release one). Throws UNKNOWN_TA. */
  find(nameOrUuid: string, opts?: { debug?: boolean }): ManifestTa;
}

/** Serialisation used by the build; these are the bytes that get signed. Key order is fixed by
 * construction in the build (object literal order), so the output is deterministic. */
export function serializeManifest(m: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m, null, 2) + '\n');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** "ed25519:sha256:<hex of the SPKI DER public key>". */
export function publicKeyId(key: string | Uint8Array | KeyObject): string {
  const k = typeof key === 'string' || key instanceof Uint8Array ? createPublicKey(key as any) : key.type === 'private' ? createPublicKey(key) : key;
  return `${k.asymmetricKeyType}:sha256:${sha256Hex(k.export({ type: 'spki', format: 'der' }))}`;
}

/** Signs manifest bytes with an Ed25519 private key (PEM); returns the contents of manifest.sig. */
export function signManifestBytes(bytes: Uint8Array, privateKeyPem: string | Uint8Array): string {
  const key = createPrivateKey(privateKeyPem as any);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`signing key must be Ed25519, got ${key.asymmetricKeyType}`);
  return sign(null, bytes, key).toString('base64') + '\n';
}

/** Verifies manifest.sig text over manifest bytes; throws UNSIGNED or BAD_SIGNATURE. */
export function verifyManifestSignature(bytes: Uint8Array, signatureText: string | null, trustedPublicKeyPem: string | Uint8Array): void {
  if (signatureText === null || signatureText.trim() === '') throw new LoadError('UNSIGNED', `the manifest has no signature (${SIGNATURE_FILE} missing or empty)`);
  let key: KeyObject;
  try {
    key = createPublicKey(trustedPublicKeyPem as any);
  } catch (e) {
    throw new LoadError('BAD_SIGNATURE', `the trusted public key is unreadable: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new LoadError('BAD_SIGNATURE', `the trusted key must be Ed25519, got ${key.asymmetricKeyType}`);
  const text = signatureText.trim();
  const sig = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || sig.length !== 64) throw new LoadError('BAD_SIGNATURE', `${SIGNATURE_FILE} is not a base64 Ed25519 signature (64 bytes)`);
  if (!verify(null, bytes, key, sig)) {
    throw new LoadError('BAD_SIGNATURE', `${SIGNATURE_FILE} does not verify over ${MANIFEST_FILE} with the trusted key ${publicKeyId(key)}`);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Parses and validates manifest bytes (call after verifying them); throws BAD_MANIFEST / ABI_MISMATCH. */
export function parseManifest(bytes: Uint8Array): Manifest {
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
    if (t.file !== basename(t.file) || t.file.startsWith('.') || !t.file.endsWith('.wasm')) bad(`${at}.file must be a plain *.wasm file name`);
    if (typeof t.debug !== 'boolean') bad(`${at}.debug must be a boolean`);
    for (const k of ['ta_abi_version', 'size', 'initial_memory_pages', 'maximum_memory_pages']) if (!Number.isInteger(t[k]) || t[k] < 0) bad(`${at}.${k} must be a non-negative integer`);
    if (!Array.isArray(t.imports) || !t.imports.every((x: any) => isObj(x) && typeof x.module === 'string' && typeof x.name === 'string' && typeof x.signature === 'string')) bad(`${at}.imports must be [{module, name, signature}]`);
    if (!Array.isArray(t.exports) || !t.exports.every((x: any) => isObj(x) && typeof x.name === 'string' && typeof x.kind === 'string')) bad(`${at}.exports must be [{name, kind}]`);
    if (!Array.isArray(t.asc_args) || !t.asc_args.every((x: any) => typeof x === 'string')) bad(`${at}.asc_args must be an array of strings`);
    const key = `${t.name}/${t.debug}`;
    if (seen.has(key) || seen.has(`${t.uuid}/${t.debug}`)) bad(`${at} is listed twice`);
    seen.add(key); seen.add(`${t.uuid}/${t.debug}`);
  });
  if (m.host_abi_version !== HOST_ABI_VERSION) throw new LoadError('ABI_MISMATCH', `manifest is for host ABI v${m.host_abi_version}; this runtime implements v${HOST_ABI_VERSION}`);
  return m as Manifest;
}

function readOrNull(path: string): Uint8Array | null {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Reads dir/manifest.json and dir/manifest.sig, verifies the signature with the trusted public
 * key (PEM), then parses. Throws LoadError: NO_MANIFEST, UNSIGNED, BAD_SIGNATURE, BAD_MANIFEST, ABI_MISMATCH. */
export function loadVerifiedManifest(dir: string, trustedPublicKeyPem: string | Uint8Array): VerifiedManifest {
  const bytes = readOrNull(join(dir, MANIFEST_FILE));
  if (!bytes) throw new LoadError('NO_MANIFEST', `no ${MANIFEST_FILE} in ${dir}`);
  const sig = readOrNull(join(dir, SIGNATURE_FILE));
  verifyManifestSignature(bytes, sig ? Buffer.from(sig).toString('utf8') : null, trustedPublicKeyPem);
  const manifest = parseManifest(bytes);
  return {
    dir,
    manifest,
    bytes,
    sha256: sha256Hex(bytes),
    find(nameOrUuid, opts = {}) {
      const debug = opts.debug ?? false;
      const key = nameOrUuid.toLowerCase();
      const t = manifest.tas.find((x) => (x.name === nameOrUuid || x.uuid === key) && x.debug === debug);
      if (!t) throw new LoadError('UNKNOWN_TA', `no ${debug ? 'debug' : 'release'} TA '${nameOrUuid}' in the manifest (has: ${manifest.tas.map((x) => x.name + (x.debug ? ' (debug)' : '')).join(', ') || 'none'})`);
      return t;
    },
  };
}

/** Checks wasm bytes against their manifest entry: size, then SHA-256. Throws HASH_MISMATCH. */
export function verifyTaBinary(entry: ManifestTa, bytes: Uint8Array): void {
  if (bytes.length !== entry.size) {
    throw new LoadError('HASH_MISMATCH', `${entry.file} (TA ${entry.name}) is ${bytes.length} bytes; the manifest says ${entry.size}`);
  }
  const got = sha256Hex(bytes);
  if (got !== entry.sha256) {
    throw new LoadError('HASH_MISMATCH', `${entry.file} (TA ${entry.name}) has sha256 ${got}; the manifest says ${entry.sha256}`);
  }
}

/** Checks that the manifest's description of a TA (imports, exports, memory) is what the binary
 * holds. Throws MANIFEST_MISMATCH. */
export function checkEntryMatchesModule(entry: ManifestTa, info: WasmInfo): void {
  const mis = (what: string): never => { throw new LoadError('MANIFEST_MISMATCH', `TA ${entry.name}: ${what}`); };
  const imps = info.imports.map((i) => `${importKey(i)} ${importSignature(i)}`).join('; ');
  const want = entry.imports.map((i) => `${i.module}.${i.name} ${i.signature}`).join('; ');
  if (imps !== want) mis(`the binary imports [${imps}], the manifest lists [${want}]`);
  const exps = info.exports.map((e) => `${e.name}:${e.kind}`).join(',');
  if (exps !== entry.exports.map((e) => `${e.name}:${e.kind}`).join(',')) mis('the binary\'s exports differ from the manifest');
  if (info.memory?.maximumPages !== entry.maximum_memory_pages) mis(`the binary's maximum memory is ${info.memory?.maximumPages ?? 'unset'} pages, the manifest says ${entry.maximum_memory_pages}`);
  if (entry.ta_abi_version !== TA_ABI_VERSION) throw new LoadError('ABI_MISMATCH', `TA ${entry.name} is built for TA ABI v${entry.ta_abi_version}; this runtime speaks v${TA_ABI_VERSION}`);
}

export interface VerifiedTa { entry: ManifestTa; bytes: Uint8Array; info: WasmInfo }

/** Everything the runtime checks before compiling a TA: the manifest entry (UNKNOWN_TA), the
 * file's size and hash (HASH_MISMATCH), the module against the host ABI and TA ABI, and that the
 * manifest describes it truthfully. In release mode a debug TA is refused (DEBUG_TA_IN_RELEASE). */
export function loadVerifiedTa(vm: VerifiedManifest, nameOrUuid: string, opts: CheckOptions & { debug?: boolean }): VerifiedTa {
  const entry = vm.find(nameOrUuid, { debug: opts.debug });
  if (opts.release && entry.debug) throw new LoadError('DEBUG_TA_IN_RELEASE', `TA ${entry.name} is a debug build`);
  const bytes = readOrNull(join(vm.dir, entry.file));
  if (!bytes) throw new LoadError('HASH_MISMATCH', `${entry.file} (TA ${entry.name}) is missing from ${vm.dir}`);
  verifyTaBinary(entry, bytes);
  const info = checkTaModule(bytes, { release: opts.release });
  checkEntryMatchesModule(entry, info);
  return { entry, bytes, info };
}
