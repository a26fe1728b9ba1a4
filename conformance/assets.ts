// What the conformance kit loads at run time, and where: its test TAs compiled to Wasm and the
// Project Wycheproof files of its crypto category. `npm run build` (build/conformance.ts) writes
// them into build/conformance/ with an index, kit.json (file, SHA-256, asc arguments); the
// package ships that folder, so the kit runs with plain node and never needs the AssemblyScript
// compiler or a checkout. This module is the one list of those assets (the build reads it too).
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** build/conformance/ beside this folder: in a checkout <repo>/build/conformance, in the package
 * dist/build/conformance (the package mirrors build/ next to the compiled conformance/). */
export const KIT_ASSETS_DIR = fileURLToPath(new URL('../build/conformance/', import.meta.url));
export const KIT_INDEX_FILE = 'kit.json';

/** The kit's test TAs: AssemblyScript entry (repository-relative) and the declared maximum
 * memory (pages) each is built with. */
export const KIT_TAS = {
  probe: { entry: 'conformance/as/probe-ta.ts', maximumMemoryPages: 48 },
  rogue: { entry: 'conformance/as/rogue-ta.ts', maximumMemoryPages: 16 },
  tui: { entry: 'conformance/as/tui-ta.ts', maximumMemoryPages: 16 },
  crypto: { entry: 'conformance/as/crypto-ta.ts', maximumMemoryPages: 32 },
} as const;
export type KitTaName = keyof typeof KIT_TAS;

/** The Wycheproof files the crypto category runs (each matches a host primitive). */
export const KIT_WYCHEPROOF_FILES = ['ecdsa_secp256r1_sha256_p1363_test.json', 'ecdsa_secp256r1_sha256_test.json', 'ecdh_secp256r1_ecpoint_test.json',
  'hmac_sha256_test.json', 'hmac_sm3_test.json', 'aes_cmac_test.json', 'aes_gcm_test.json', 'sm4_gcm_test.json', 'ed25519_test.json'] as const;
/** Shipped with them: Wycheproof's licence and where the files come from. */
export const KIT_WYCHEPROOF_NOTICES = ['LICENSE', 'README.md'] as const;
export const KIT_WYCHEPROOF_SUBDIR = 'wycheproof';

export interface KitIndexEntry { file: string; sha256: string; size: number }
export interface KitIndex {
  version: 1;
  compiler: string;
  tas: Record<KitTaName, KitIndexEntry & { asc_args: string[] }>;
  wycheproof: KitIndexEntry[];
}

/** The kit's assets are missing, stale or damaged: says which and what to do. */
export class KitAssetError extends Error {
  constructor(message: string) { super(message); this.name = 'KitAssetError'; }
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const indexCache = new Map<string, KitIndex>();

export function readKitIndex(dir: string = KIT_ASSETS_DIR): KitIndex {
  const hit = indexCache.get(dir);
  if (hit) return hit;
  const path = join(dir, KIT_INDEX_FILE);
  if (!existsSync(path)) {
    throw new KitAssetError(`conformance kit assets not found: ${path} is missing (in a checkout run \`npm run build\`; the package ships them in build/conformance/)`);
  }
  const index = JSON.parse(readFileSync(path, 'utf8')) as KitIndex;
  if (index.version !== 1 || !index.tas || !Array.isArray(index.wycheproof)) throw new KitAssetError(`${path}: not a version 1 conformance kit index`);
  indexCache.set(dir, index);
  return index;
}

/** Reads one asset and checks it against the index, so a stale or partial copy is named, not
 * run (a wrong probe TA would make the kit's verdicts meaningless). */
function readChecked(dir: string, entry: KitIndexEntry): Uint8Array {
  const path = join(dir, entry.file);
  if (!existsSync(path)) throw new KitAssetError(`conformance kit asset ${path} is missing (run \`npm run build\`)`);
  const bytes = new Uint8Array(readFileSync(path));
  if (sha256Hex(bytes) !== entry.sha256) throw new KitAssetError(`conformance kit asset ${path} does not match ${KIT_INDEX_FILE} (stale or damaged: run \`npm run build\`)`);
  return bytes;
}

/** The Wasm of one of the kit's test TAs. */
export function kitTaWasm(name: KitTaName, dir: string = KIT_ASSETS_DIR): Uint8Array {
  const entry = readKitIndex(dir).tas[name];
  if (!entry) throw new KitAssetError(`${join(dir, KIT_INDEX_FILE)} has no test TA "${name}" (run \`npm run build\`)`);
  return readChecked(dir, entry);
}

/** One of the kit's Wycheproof files, as text. */
export function kitWycheproofText(file: string, dir: string = KIT_ASSETS_DIR): string {
  const entry = readKitIndex(dir).wycheproof.find((w) => w.file === `${KIT_WYCHEPROOF_SUBDIR}/${file}`);
  if (!entry) throw new KitAssetError(`${file} is not one of the conformance kit's Wycheproof files (${KIT_WYCHEPROOF_FILES.join(', ')})`);
  return new TextDecoder().decode(readChecked(dir, entry));
}
