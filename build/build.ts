// Builds every trusted app and the signed manifest (see build/README.md).
//
//   ta/<name>/ta.json  ──asc──▶  build/<name>.wasm (+ build/<name>.debug.wasm with --debug)
//                              build/manifest.json, build/manifest.sig
//
// asc runs in-process with a readFile hook rooted at the project root, so the output depends only
// on the source bytes and the options, never on the working directory or absolute paths. asc
// always reads ./asconfig.json implicitly; we pass it explicitly (--config asconfig.json --target
// release|debug) and it has no "entries". The cache (build/out/cache) records every file asc read
// (or probed and missed) with its hash, and is reused only when all of them are unchanged, so
// it cannot change an output.
import { createRequire } from 'node:module';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join, normalize, isAbsolute, resolve, sep } from 'node:path';
import { PROJECT_ROOT, DEV_KEY_PATH, DEV_PUBLIC_KEY_PATH, TEXT_TRANSFORM, TEXT_TRANSFORM_URL } from './paths.ts';
import { HOST_ABI_VERSION } from '../tee/abi/table.ts';
import { TA_ABI_VERSION } from '../tee/abi/ta-exports.ts';
import { moduleProblems, parseModule, importSignature } from '../tee/loader/imports.ts';
import { publicKeyId, signManifestBytes } from '../tee/loader/manifest.ts';
import { SBOM_FILE, makeSbom, type TaSources } from './sbom.ts';
import { bundleClient, hasClient } from './client-bundle.ts';
import {
  MANIFEST_FILE, MANIFEST_VERSION, SIGNATURE_FILE, serializeManifest, sha256Hex, type Manifest, type ManifestTa, type ManifestClient,
} from '../common/manifest.ts';

export { PROJECT_ROOT, DEV_KEY_PATH, DEV_PUBLIC_KEY_PATH, TEXT_TRANSFORM };
/** The compiler version, read without loading the compiler (it is imported only on a cache miss). */
export const ASC_VERSION: string = createRequire(import.meta.url)('assemblyscript/package.json').version;

export interface TaDescriptor {
  name: string;
  uuid: string;
  version: string;
  /** Entry file, relative to the project root. */
  entry: string;
  maximumMemoryPages: number;
}

export interface BuildOptions {
  /** Project root holding asconfig.json, ta/ and the entry files. Default: this repository. */
  root?: string;
  /** Where the wasm files and the manifest go. Default: <root>/build. */
  outDir?: string;
  /** Descriptor paths relative to root. Default: every ta/<dir>/ta.json, sorted. */
  descriptors?: string[];
  /** Also build the debug variants (<name>.debug.wasm, TA_DEBUG defined). */
  debug?: boolean;
  /** Ed25519 private key (PEM path). Default: $TRUSTTAP_SIGNING_KEY, else the development key. */
  keyPath?: string;
  /** Signer name written to the manifest when the key is not the development key. Default "release". */
  signer?: string;
  /** Reuse outputs whose recorded inputs are unchanged (build/out/cache under root). Default true. */
  cache?: boolean;
  /** Also write the SBOM (sbom.cdx.json, build/sbom.ts) beside the manifest. Default true. */
  sbom?: boolean;
  /** Bundle the REE client (build/client-bundle.ts) and record it in the manifest. Default: when
   * the root has ree/index.ts. */
  client?: boolean;
  log?: (line: string) => void;
}

export interface BuildResult {
  ok: boolean;
  errors: string[];
  manifest: Manifest | null;
  manifestPath: string | null;
  outputs: { file: string; sha256: string; size: number; cached: boolean }[];
  ms: number;
}

export class BuildError extends Error {
  constructor(message: string) { super(message); this.name = 'BuildError'; }
}

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** ta/<dir>/ta.json for every directory of ta/ that has one, sorted (repo-relative, '/' separated). */
export function discoverDescriptors(root: string = PROJECT_ROOT): string[] {
  const taDir = join(root, 'ta');
  if (!existsSync(taDir)) return [];
  return readdirSync(taDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(taDir, d.name, 'ta.json')))
    .map((d) => `ta/${d.name}/ta.json`)
    .sort();
}

/** Reads and validates a TA descriptor; throws BuildError naming the file and the field. */
export function readDescriptor(root: string, path: string): TaDescriptor {
  let d: any;
  try {
    d = JSON.parse(readFileSync(join(root, path), 'utf8'));
  } catch (e) {
    throw new BuildError(`${path}: ${(e as Error).message}`);
  }
  const bad = (what: string): never => { throw new BuildError(`${path}: ${what}`); };
  if (typeof d !== 'object' || d === null) bad('not a JSON object');
  if (typeof d.name !== 'string' || !NAME.test(d.name)) bad(`name must match ${NAME}`);
  if (typeof d.uuid !== 'string' || !UUID.test(d.uuid)) bad('uuid must be a lower-case RFC 4122 UUID');
  if (typeof d.version !== 'string' || !/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(d.version)) bad('version must be semver (1.2.3)');
  if (typeof d.entry !== 'string' || !d.entry.endsWith('.ts') || isAbsolute(d.entry) || normalize(d.entry).split(sep).includes('..')) bad('entry must be a relative .ts path inside the project');
  if (!Number.isInteger(d.maximumMemoryPages) || d.maximumMemoryPages < 1 || d.maximumMemoryPages > 65536) bad('maximumMemoryPages must be an integer 1..65536');
  if (!existsSync(join(root, d.entry))) bad(`entry file ${d.entry} does not exist`);
  return { name: d.name, uuid: d.uuid, version: d.version, entry: d.entry.replace(/\\/g, '/'), maximumMemoryPages: d.maximumMemoryPages };
}

/** The asc arguments for one TA (without --outFile). These are recorded in the manifest. */
export function ascArgs(d: TaDescriptor, debug: boolean): string[] {
  return [d.entry, '--config', 'asconfig.json', '--target', debug ? 'debug' : 'release', '--maximumMemory', String(d.maximumMemoryPages)];
}

interface CacheRecord { key: string; reads: [string, string | null][]; sha256: string }

/** Compiles one TA in-process; every file read resolves against root. Also used for the
 * conformance kit's test TAs (build/conformance.ts). `sources` are the files asc read
 * (repo-relative, sorted): what the SBOM lists for the output. */
export async function compile(root: string, args: string[], cacheDir: string | null): Promise<{ bytes: Uint8Array; cached: boolean; sources: string[] }> {
  const transformSource = readFileSync(TEXT_TRANSFORM_URL, 'utf8');
  const key = sha256Hex(new TextEncoder().encode(JSON.stringify([ASC_VERSION, args, sha256Hex(new TextEncoder().encode(transformSource))])));
  const read = (name: string, baseDir: string): string | null => {
    try { return readFileSync(resolve(root, baseDir, name), 'utf8'); } catch { return null; }
  };
  const hashOf = (s: string | null) => (s === null ? null : sha256Hex(new TextEncoder().encode(s)));
  if (cacheDir) {
    try {
      const rec = JSON.parse(readFileSync(join(cacheDir, `${key}.json`), 'utf8')) as CacheRecord;
      if (rec.key === key && rec.reads.every(([p, h]) => hashOf(read(p, '.')) === h)) {
        const bytes = readFileSync(join(cacheDir, `${key}.wasm`));
        if (sha256Hex(bytes) === rec.sha256) return { bytes, cached: true, sources: rec.reads.filter(([, h]) => h !== null).map(([p]) => p) };
      }
    } catch { /* no usable cache entry */ }
  }
  const reads = new Map<string, string | null>();
  const stderr: string[] = [];
  let out: Uint8Array | null = null;
  const asc = (await import('assemblyscript/asc')).default;
  const transform = (await import(TEXT_TRANSFORM_URL.href)).default;
  if (asc.version !== ASC_VERSION) throw new BuildError(`asc reports version ${asc.version}, package.json ${ASC_VERSION}`);
  const { error } = await asc.main([...args, '--outFile', 'ta.wasm', '--noColors'], {
    stdout: { write: () => true } as any,
    stderr: { write: (s: string | Uint8Array) => { stderr.push(typeof s === 'string' ? s : Buffer.from(s).toString()); return true; } } as any,
    readFile: (name: string, baseDir: string) => {
      const text = read(name, baseDir);
      reads.set(normalize(join(baseDir, name)).replace(/\\/g, '/'), hashOf(text));
      return text;
    },
    writeFile: (name: string, contents: Uint8Array | string) => { if (name === 'ta.wasm') out = contents as Uint8Array; },
    listFiles: () => [],
    transforms: [transform],
  } as any);
  if (error || !out) throw new BuildError(`asc ${args.join(' ')} failed: ${error?.message ?? 'no output'}\n${stderr.join('').trim()}`);
  const bytes: Uint8Array = out;
  if (cacheDir) {
    mkdirSync(cacheDir, { recursive: true });
    writeAtomic(join(cacheDir, `${key}.wasm`), bytes);
    const rec: CacheRecord = { key, reads: [...reads].sort((a, b) => (a[0] < b[0] ? -1 : 1)), sha256: sha256Hex(bytes) };
    writeAtomic(join(cacheDir, `${key}.json`), JSON.stringify(rec));
  }
  return { bytes, cached: false, sources: [...reads].filter(([, h]) => h !== null).map(([p]) => p).sort() };
}

/** The manifest entry for a built TA; the field order here is the manifest's byte layout. */
export function manifestEntry(d: TaDescriptor, file: string, bytes: Uint8Array, debug: boolean, args: string[]): ManifestTa {
  const info = parseModule(bytes);
  return {
    name: d.name,
    uuid: d.uuid,
    version: d.version,
    ta_abi_version: TA_ABI_VERSION,
    file,
    debug,
    sha256: sha256Hex(bytes),
    size: bytes.length,
    initial_memory_pages: info.memory?.initialPages ?? 0,
    maximum_memory_pages: info.memory?.maximumPages ?? 0,
    imports: info.imports.map((i) => ({ module: i.module, name: i.name, signature: importSignature(i) || i.kind })),
    exports: info.exports.map((e) => ({ name: e.name, kind: e.kind })),
    asc_args: args,
  };
}

export function readSigningKey(keyPath: string): { pem: string; id: string; isDevelopment: boolean } {
  let pem: string;
  try { pem = readFileSync(keyPath, 'utf8'); } catch (e) { throw new BuildError(`signing key ${keyPath}: ${(e as Error).message}`); }
  let key;
  try { key = createPrivateKey(pem); } catch (e) { throw new BuildError(`signing key ${keyPath} is not a PEM private key: ${(e as Error).message}`); }
  if (key.asymmetricKeyType !== 'ed25519') throw new BuildError(`signing key ${keyPath} must be Ed25519, is ${key.asymmetricKeyType}`);
  const id = publicKeyId(key);
  const isDevelopment = existsSync(DEV_PUBLIC_KEY_PATH) && publicKeyId(createPublicKey(readFileSync(DEV_PUBLIC_KEY_PATH))) === id;
  return { pem, id, isDevelopment };
}

/** Assembles, serialises and signs a manifest into outDir (manifest.json + manifest.sig). */
export function writeSignedManifest(outDir: string, tas: ManifestTa[], keyPath: string, signerName = 'release', client?: ManifestClient): { manifest: Manifest; path: string } {
  const key = readSigningKey(keyPath);
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    signer: key.isDevelopment ? 'development' : signerName,
    signing_key: key.id,
    host_abi_version: HOST_ABI_VERSION,
    ta_abi_version: TA_ABI_VERSION,
    compiler: `assemblyscript ${ASC_VERSION}`,
    tas,
    ...(client ? { client } : {}),
  };
  const bytes = serializeManifest(manifest);
  mkdirSync(outDir, { recursive: true });
  writeAtomic(join(outDir, MANIFEST_FILE), bytes);
  writeAtomic(join(outDir, SIGNATURE_FILE), signManifestBytes(bytes, key.pem));
  return { manifest, path: join(outDir, MANIFEST_FILE) };
}

export function writeAtomic(path: string, data: Uint8Array | string): void {
  // unique temp name: two builds may run at once (e.g. two `npm test` in one tree)
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Builds every TA descriptor; on any error nothing is signed (and a stale manifest is removed). */
export async function buildTas(opts: BuildOptions = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const root = resolve(opts.root ?? PROJECT_ROOT);
  const outDir = resolve(opts.outDir ?? join(root, 'build'));
  const log = opts.log ?? (() => {});
  const keyPath = opts.keyPath ?? process.env.TRUSTTAP_SIGNING_KEY ?? DEV_KEY_PATH;
  const cacheDir = opts.cache === false ? null : join(root, 'build', 'out', 'cache');
  const errors: string[] = [];
  const tas: ManifestTa[] = [];
  const outputs: BuildResult['outputs'] = [];
  const sources: TaSources = new Map();
  const paths = opts.descriptors ?? discoverDescriptors(root);
  if (!existsSync(join(root, 'asconfig.json'))) errors.push(`${join(root, 'asconfig.json')} is missing`);
  if (!paths.length) errors.push(`no TA descriptors (ta/*/ta.json) under ${root}`);
  const names = new Set<string>(), uuids = new Set<string>();
  for (const p of errors.length ? [] : paths) {
    let d: TaDescriptor;
    try { d = readDescriptor(root, p); } catch (e) { errors.push((e as Error).message); continue; }
    if (names.has(d.name) || uuids.has(d.uuid)) { errors.push(`${p}: name ${d.name} or uuid ${d.uuid} is already used by another TA`); continue; }
    names.add(d.name); uuids.add(d.uuid);
    for (const debug of opts.debug ? [false, true] : [false]) {
      const file = `${d.name}${debug ? '.debug' : ''}.wasm`;
      const args = ascArgs(d, debug);
      try {
        const { bytes, cached, sources: read } = await compile(root, args, cacheDir);
        const problems = moduleProblems(parseModule(bytes), { release: !debug });
        if (problems.length) throw new BuildError(`${p} → ${file} breaks the ABI:\n  ${problems.map((x) => x.message).join('\n  ')}`);
        const entry = manifestEntry(d, file, bytes, debug, args);
        if (entry.maximum_memory_pages !== d.maximumMemoryPages) throw new BuildError(`${file}: maximum memory ${entry.maximum_memory_pages} pages, descriptor says ${d.maximumMemoryPages}`);
        mkdirSync(outDir, { recursive: true });
        writeAtomic(join(outDir, file), bytes);
        tas.push(entry);
        sources.set(file, read);
        outputs.push({ file, sha256: entry.sha256, size: entry.size, cached });
        log(`${file.padEnd(24)} ${String(entry.size).padStart(7)} B  sha256 ${entry.sha256}${cached ? '  (cached)' : ''}`);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  }
  if (errors.length) {
    for (const f of [MANIFEST_FILE, SIGNATURE_FILE, SBOM_FILE]) rmSync(join(outDir, f), { force: true });
    return { ok: false, errors, manifest: null, manifestPath: null, outputs, ms: performance.now() - t0 };
  }
  tas.sort((a, b) => (a.name === b.name ? Number(a.debug) - Number(b.debug) : a.name < b.name ? -1 : 1));
  let manifest: Manifest, path: string;
  try {
    const client = (opts.client ?? hasClient(root)) ? await bundleClient(root, outDir, writeAtomic) : undefined;
    if (client) log(`${client.file.padEnd(24)} ${String(client.size).padStart(7)} B  sha256 ${client.sha256}  (the REE client, ${client.name} ${client.version})`);
    ({ manifest, path } = writeSignedManifest(outDir, tas, keyPath, opts.signer, client));
  } catch (e) {
    return { ok: false, errors: [(e as Error).message], manifest: null, manifestPath: null, outputs, ms: performance.now() - t0 };
  }
  if (opts.sbom !== false) {
    try {
      writeAtomic(join(outDir, SBOM_FILE), makeSbom({ root, manifestBytes: readFileSync(path), sources }));
    } catch (e) {
      rmSync(join(outDir, SBOM_FILE), { force: true });
      return { ok: false, errors: [`${SBOM_FILE}: ${(e as Error).message}`], manifest: null, manifestPath: null, outputs, ms: performance.now() - t0 };
    }
    log(`${SBOM_FILE} written: the package's dependencies and ${tas.length} TA file(s) with their sources (CycloneDX 1.5)`);
  }
  log(`${MANIFEST_FILE} signed by ${manifest.signer} key ${manifest.signing_key}${manifest.signer === 'development' ? '  (DEVELOPMENT ONLY key)' : ''}`);
  return { ok: true, errors, manifest, manifestPath: path, outputs, ms: performance.now() - t0 };
}
