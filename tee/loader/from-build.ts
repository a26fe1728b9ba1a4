// Loads the TA images of a build directory for the runtime, refusing anything the signed
// manifest does not vouch for: signature first, then each binary's size and SHA-256, then
// that the binary's imports, exports and memory are what the manifest lists.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadVerifiedManifest, verifyTaBinary, checkEntryMatchesModule } from './manifest.ts';
import { parseModule } from './imports.ts';
import type { TaImage } from '../runtime.ts';

export const DEFAULT_BUILD_DIR = new URL('../../build/', import.meta.url).pathname;
/** The development manifest key; a production runtime is configured with the OEM's key. */
export const DEV_MANIFEST_PUBLIC_KEY = join(DEFAULT_BUILD_DIR, 'keys', 'dev-signing-key.pub.pem');

export interface LoadOptions {
  buildDir?: string;
  /** PEM of the trusted manifest signing key; default: TRUSTTAP_MANIFEST_KEY or the dev key. */
  trustedKeyPem?: string | Uint8Array;
  /** Only these TAs (by name); default all release TAs. */
  only?: string[];
  debug?: boolean;
}

export function loadTaImages(opts: LoadOptions = {}): { images: TaImage[]; manifestSha256: string } {
  const dir = opts.buildDir ?? DEFAULT_BUILD_DIR;
  const key = opts.trustedKeyPem ?? readFileSync(process.env.TRUSTTAP_MANIFEST_KEY ?? DEV_MANIFEST_PUBLIC_KEY);
  const vm = loadVerifiedManifest(dir, key);
  const debug = opts.debug ?? false;
  const entries = vm.manifest.tas.filter((t) => t.debug === debug && (!opts.only || opts.only.includes(t.name)));
  const images = entries.map((entry) => {
    const wasm = new Uint8Array(readFileSync(join(dir, entry.file)));
    verifyTaBinary(entry, wasm);
    checkEntryMatchesModule(entry, parseModule(wasm));
    return { name: entry.name, uuid: entry.uuid, version: entry.version, wasm };
  });
  return { images, manifestSha256: vm.sha256 };
}
