// The signed build manifest, runtime side: reading build/manifest.json + manifest.sig and the
// TA files from disk and checking them before a TA is instantiated. The format itself (types,
// signature, validation) is common/manifest.ts, shared with the back end.
//
// Before a TA is instantiated: loadVerifiedManifest (signature), verifyTaBinary (size and
// sha256 of the wasm), checkTaModule (imports against the host ABI, exports, maximum memory).
// loadVerifiedTa does all three.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_ABI_VERSION } from '../abi/table.ts';
import { TA_ABI_VERSION } from '../abi/ta-exports.ts';
import { LoadError, checkTaModule, importKey, importSignature, type CheckOptions } from './imports.ts';
import type { WasmInfo } from './wasm-info.ts';
import { MANIFEST_FILE, SIGNATURE_FILE, parseManifest, sha256Hex, verifyManifestSignature, type Ed25519Verify, type Manifest, type ManifestTa } from '../../common/manifest.ts';

export { LoadError, type LoadErrorCode, checkTaModule, formatSignature, moduleProblems, type CheckOptions } from './imports.ts';

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

// The platform's SHA-256 and Ed25519 (OpenSSL through node:crypto) for the checks before a TA
// starts: the same standards as common/manifest.ts's @noble code, which a fresh process would
// first have to warm up (its Ed25519 builds precomputed tables on first use), the largest part
// of a cold start before this. OpenSSL's Ed25519 is strict RFC 8032 like the @noble call.
export const nativeEd25519Verify: Ed25519Verify = (sig, msg, rawKey) => {
  if (rawKey.length !== 32) return false;
  // The raw key as a JWK (RFC 8037): OpenSSL imports it directly, ten times faster than
  // decoding the same key as SPKI DER through its decoder framework.
  const x = Buffer.from(rawKey.buffer, rawKey.byteOffset, rawKey.byteLength).toString('base64url');
  return verify(null, msg, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }), sig);
};
const nativeSha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

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
  verifyManifestSignature(bytes, sig ? new TextDecoder().decode(sig) : null, trustedPublicKeyPem, nativeEd25519Verify);
  const manifest = parseManifest(bytes, HOST_ABI_VERSION);
  return {
    dir,
    manifest,
    bytes,
    sha256: nativeSha256Hex(bytes),
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
  const got = nativeSha256Hex(bytes);
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
