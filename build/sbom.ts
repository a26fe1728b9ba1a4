// The software bill of materials of a build (issue 19 §5): one CycloneDX 1.5 JSON document,
// build/sbom.cdx.json, written by `trusttap build` (so `npm run build`) and by `trusttap sbom`.
//
//   metadata.component   the npm package (name, version, licence from package.json)
//   components           every package of package-lock.json (version, SHA-512 from its
//                        `integrity`, licence, scope: required / optional / excluded for dev),
//                        then one component per TA of the signed manifest: its `.wasm` SHA-256
//                        exactly as the manifest has it, and as nested `file` components every
//                        source file asc read to produce it (the compile's own read trace, not a
//                        guess from imports), each with its SHA-256
//   formulation          per TA, how it was made: the compiler (assemblyscript, the lockfile's
//                        component), the exact asc arguments and asconfig.json's target options
//
// Reproducible: no timestamp unless SOURCE_DATE_EPOCH is set (then that one), no serial number
// (the document's SHA-256 identifies it), no absolute path, every list sorted. The document is
// not signed; what binds it to a device is that its TA hashes equal the signed manifest's, which
// `trusttap audit build` checks (checkSbom below) — docs/attestation.md walks an auditor from a
// device's evidence to each TA's entry here.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, sha256Hex, type Manifest, type ManifestTa } from '../common/manifest.ts';
import { TEXT_TRANSFORM, TEXT_TRANSFORM_URL } from './paths.ts';

export const SBOM_FILE = 'sbom.cdx.json';
/** The property prefix of TrustTap's own facts in the SBOM (CycloneDX property taxonomy: a
 * namespace of the producer's choosing). */
const NS = 'trusttap';

export class SbomError extends Error {
  constructor(message: string) { super(message); this.name = 'SbomError'; }
}

/** The files (repository-relative, '/'-separated) asc read to compile each TA file of the
 * manifest, keyed by the TA's `file` (keystore.wasm). */
export type TaSources = Map<string, string[]>;

/** bom-ref of a TA component: one per manifest entry (a debug variant is its own file). */
export const taRef = (file: string): string => `ta:${file}`;

const hexOfBase64 = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

function purl(name: string, version: string): string {
  return `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;
}

/** A licence from package.json / package-lock.json: an SPDX id, or an SPDX expression. */
function licences(l: unknown): object[] | undefined {
  if (typeof l !== 'string' || !l) return undefined;
  const expr = l.replace(/^\((.*)\)$/, '$1');
  return / (OR|AND|WITH) /.test(expr) ? [{ expression: expr }] : [{ license: { id: expr } }];
}

interface LockPackage { version?: string; integrity?: string; resolved?: string; license?: string; dev?: boolean; optional?: boolean; devOptional?: boolean; link?: boolean }

/** One component per package of the lockfile (v2/v3 `packages`), deduplicated by purl. */
/** `shipped`: development packages whose code ships all the same, bundled into a file of the
 * package (package.json's trusttap.consoleBundle: the operators' console bundle). */
function npmComponents(lock: { packages?: Record<string, LockPackage> }, shipped: ReadonlySet<string>): object[] {
  const out = new Map<string, object>();
  for (const [path, p] of Object.entries(lock.packages ?? {})) {
    if (!path || p.link || !p.version) continue; // "" is the root package itself
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const ref = purl(name, p.version);
    if (out.has(ref)) continue;
    const slash = name.startsWith('@') ? name.indexOf('/') : -1;
    const [alg, digest] = (p.integrity ?? '').split('-', 2);
    const hashAlg = ({ sha512: 'SHA-512', sha384: 'SHA-384', sha256: 'SHA-256', sha1: 'SHA-1' } as Record<string, string>)[alg];
    out.set(ref, {
      type: 'library',
      'bom-ref': ref,
      ...(slash > 0 ? { group: name.slice(0, slash), name: name.slice(slash + 1) } : { name }),
      version: p.version,
      scope: shipped.has(name) ? 'required' : p.dev ? 'excluded' : p.optional || p.devOptional ? 'optional' : 'required',
      ...(shipped.has(name) ? { properties: [prop('shipped-in', 'build/console/app.js')] } : {}),
      ...(hashAlg && digest ? { hashes: [{ alg: hashAlg, content: hexOfBase64(digest) }] } : {}),
      ...(licences(p.license) ? { licenses: licences(p.license) } : {}),
      purl: ref,
      ...(p.resolved ? { externalReferences: [{ type: 'distribution', url: p.resolved }] } : {}),
    });
  }
  return [...out.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, c]) => c);
}

const prop = (name: string, value: string) => ({ name: `${NS}:${name}`, value });

/** The asconfig.json target options a TA was built with (--target in its asc arguments). */
function targetOptions(asconfig: any, args: string[]): object {
  const target = args[args.indexOf('--target') + 1];
  return { target, ...(asconfig?.options ?? {}), ...(asconfig?.targets?.[target] ?? {}) };
}

function taComponent(root: string, ta: ManifestTa, compiler: string, sources: string[], asconfig: unknown): object {
  const ref = taRef(ta.file);
  return {
    type: 'application',
    'bom-ref': ref,
    name: ta.name,
    version: ta.version,
    description: `TrustTap trusted app ${ta.name}${ta.debug ? ' (debug build)' : ''}: AssemblyScript compiled to WebAssembly (${ta.file})`,
    hashes: [{ alg: 'SHA-256', content: ta.sha256 }],
    properties: [
      prop('ta:uuid', ta.uuid),
      prop('ta:file', ta.file),
      prop('ta:debug', String(ta.debug)),
      prop('ta:size', String(ta.size)),
      prop('build:compiler', compiler),
      prop('build:asc_args', ta.asc_args.join(' ')),
      prop('build:asconfig', JSON.stringify(targetOptions(asconfig, ta.asc_args))),
      prop('build:asc_transform', `${TEXT_TRANSFORM} sha256:${sha256Hex(readFileSync(TEXT_TRANSFORM_URL))}`),
    ],
    components: sources.map((f) => ({
      type: 'file',
      'bom-ref': `${ref}#${f}`,
      name: f,
      hashes: [{ alg: 'SHA-256', content: sha256Hex(readFileSync(join(root, f))) }],
    })),
  };
}

/** How each TA was made: the compiler component and the exact command (CycloneDX formulation). */
function formulation(ta: ManifestTa, compilerRef: string | null, sources: string[]): object {
  const ref = taRef(ta.file);
  return {
    'bom-ref': `build:${ta.file}`,
    workflows: [{
      'bom-ref': `build:${ta.file}:asc`,
      uid: `asc:${ta.file}`,
      name: `asc ${ta.file}`,
      taskTypes: ['build'],
      steps: [{ name: 'asc', commands: [{ executed: ['asc', ...ta.asc_args, '--outFile', ta.file].join(' ') }] }],
      inputs: [...(compilerRef ? [compilerRef] : []), ...sources.map((f) => `${ref}#${f}`)].map((r) => ({ resource: { ref: r } })),
      outputs: [{ resource: { ref } }],
    }],
  };
}

export interface SbomInput {
  /** Project root: package.json, package-lock.json and the TA sources. */
  root: string;
  /** The signed manifest's bytes, as stored. */
  manifestBytes: Uint8Array;
  sources: TaSources;
  /** Seconds since 1970 for metadata.timestamp; default $SOURCE_DATE_EPOCH, else none. */
  sourceDateEpoch?: string;
}

/** The SBOM as text (2-space JSON, trailing newline): same inputs, same bytes. */
/** The REE client bundle the manifest records (issue 16 §2): what an app embeds, by its SHA-256;
 * the packages bundled into it are the package's own dependencies above. */
function clientComponent(manifest: Manifest) {
  const c = manifest.client;
  if (!c) return [];
  return [{
    type: 'library', 'bom-ref': `client:${c.file}`, name: c.name, version: c.version,
    hashes: [{ alg: 'SHA-256', content: c.sha256 }],
    properties: [prop('client:file', c.file), prop('client:size', String(c.size)), prop('client:entry', c.entry), prop('client:bundler', c.bundler)],
  }];
}

export function makeSbom(input: SbomInput): string {
  const { root } = input;
  const manifest = parseManifest(input.manifestBytes);
  const readJson = (f: string, what: string): any => {
    const p = join(root, f);
    if (!existsSync(p)) throw new SbomError(`${what} ${f} is missing under ${root}`);
    return JSON.parse(readFileSync(p, 'utf8'));
  };
  const pkg = readJson('package.json', 'the package description');
  const lock = readJson('package-lock.json', 'the lockfile');
  const asconfig = existsSync(join(root, 'asconfig.json')) ? JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8')) : null;
  const deps = npmComponents(lock, new Set<string>(pkg.trusttap?.consoleBundle ?? [])) as { 'bom-ref': string; name: string; group?: string }[];
  // the compiler as the lockfile pins it: "assemblyscript 0.28.20" -> pkg:npm/assemblyscript@0.28.20
  const [compilerName, compilerVersion] = manifest.compiler.split(' ');
  const compilerRef = deps.find((d) => d['bom-ref'] === purl(compilerName, compilerVersion))?.['bom-ref'] ?? null;
  const tas = manifest.tas.map((ta) => {
    const src = input.sources.get(ta.file);
    if (!src) throw new SbomError(`no source list for ${ta.file} (the build did not record what asc read)`);
    return { ta, src: [...src].sort() };
  });
  const rootRef = purl(pkg.name, pkg.version);
  const epoch = input.sourceDateEpoch ?? process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && !/^\d+$/.test(epoch)) throw new SbomError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, is "${epoch}"`);
  const direct = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).sort();
  const refOfDirect = (name: string) => deps.find((d) => (d.group ? `${d.group}/${d.name}` : d.name) === name)?.['bom-ref'];
  const bom = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    version: 1,
    metadata: {
      ...(epoch !== undefined ? { timestamp: new Date(Number(epoch) * 1000).toISOString().replace(/\.000Z$/, 'Z') } : {}),
      tools: { components: [{ type: 'application', name: 'trusttap sbom', version: pkg.version }] },
      component: {
        type: 'library',
        'bom-ref': rootRef,
        name: pkg.name,
        version: pkg.version,
        ...(pkg.description ? { description: pkg.description } : {}),
        ...(licences(pkg.license) ? { licenses: licences(pkg.license) } : {}),
        purl: rootRef,
      },
      properties: [
        prop('manifest:sha256', sha256Hex(input.manifestBytes)),
        prop('manifest:signing_key', manifest.signing_key),
        prop('manifest:host_abi_version', String(manifest.host_abi_version)),
        prop('manifest:ta_abi_version', String(manifest.ta_abi_version)),
        prop('build:compiler', manifest.compiler),
      ],
    },
    components: [...deps, ...tas.map(({ ta, src }) => taComponent(root, ta, manifest.compiler, src, asconfig)), ...clientComponent(manifest)],
    dependencies: [
      { ref: rootRef, dependsOn: [...direct.map(refOfDirect).filter((r): r is string => !!r), ...tas.map(({ ta }) => taRef(ta.file)), ...clientComponent(manifest).map((c) => c['bom-ref'])] },
    ],
    formulation: tas.map(({ ta, src }) => formulation(ta, compilerRef, src)),
  };
  return JSON.stringify(bom, null, 2) + '\n';
}

export interface SbomCheck {
  status: 'ok' | 'mismatch' | 'missing' | 'invalid';
  problems: { ta: string | null; code: 'SBOM_MISMATCH' | 'SBOM_INVALID'; message: string }[];
}

/** The SBOM of a build directory against its manifest: every manifest TA has exactly one TA
 * component with the same SHA-256, and the SBOM names no TA the manifest lacks. */
export function checkSbom(sbomText: string | null, manifest: Manifest): SbomCheck {
  if (sbomText === null) return { status: 'missing', problems: [] };
  const problems: SbomCheck['problems'] = [];
  let bom: any;
  try { bom = JSON.parse(sbomText); } catch (e) {
    return { status: 'invalid', problems: [{ ta: null, code: 'SBOM_INVALID', message: `${SBOM_FILE} is not JSON: ${(e as Error).message}` }] };
  }
  if (bom?.bomFormat !== 'CycloneDX' || bom?.specVersion !== '1.5' || !Array.isArray(bom?.components)) {
    return { status: 'invalid', problems: [{ ta: null, code: 'SBOM_INVALID', message: `${SBOM_FILE} is not a CycloneDX 1.5 document` }] };
  }
  const tas = new Map<string, any>();
  for (const c of bom.components) if (typeof c?.['bom-ref'] === 'string' && c['bom-ref'].startsWith('ta:')) tas.set(c['bom-ref'], c);
  for (const ta of manifest.tas) {
    const label = ta.name + (ta.debug ? ' (debug)' : '');
    const c = tas.get(taRef(ta.file));
    tas.delete(taRef(ta.file));
    const sha = c?.hashes?.find((h: any) => h?.alg === 'SHA-256')?.content;
    if (!c) problems.push({ ta: label, code: 'SBOM_MISMATCH', message: `${SBOM_FILE} has no component for ${ta.file}` });
    else if (sha !== ta.sha256) problems.push({ ta: label, code: 'SBOM_MISMATCH', message: `${SBOM_FILE} gives ${ta.file} sha256 ${sha ?? '(none)'}, the manifest ${ta.sha256}` });
  }
  for (const ref of tas.keys()) problems.push({ ta: null, code: 'SBOM_MISMATCH', message: `${SBOM_FILE} names ${ref.slice(3)}, which the manifest does not` });
  return { status: problems.length ? 'mismatch' : 'ok', problems };
}

/** The TA component of an SBOM whose `.wasm` has this SHA-256 (an evidence measurement), or null. */
export function sbomTaByHash(sbomText: string, sha256: string): { name: string; version: string; file: string; sources: { name: string; sha256: string }[]; compiler: string; ascArgs: string } | null {
  const bom = JSON.parse(sbomText);
  for (const c of bom.components ?? []) {
    if (!String(c['bom-ref']).startsWith('ta:')) continue;
    if (c.hashes?.find((h: any) => h.alg === 'SHA-256')?.content !== sha256) continue;
    const p = (n: string) => c.properties?.find((x: any) => x.name === `${NS}:${n}`)?.value ?? '';
    return {
      name: c.name, version: c.version, file: p('ta:file'), compiler: p('build:compiler'), ascArgs: p('build:asc_args'),
      sources: (c.components ?? []).map((f: any) => ({ name: f.name, sha256: f.hashes?.[0]?.content })),
    };
  }
  return null;
}
