// Installs a packed trusttap tarball into an empty project the way a user does (`npm ci` of a
// project that depends on it), without the network: the project gets a package-lock.json whose
// dependency entries are the repository's own (same versions, same integrity), with the
// registry's tarball URLs, so `npm ci --offline` takes every tarball from the npm cache, where
// the repository's `npm ci` put them. (A plain `npm install --offline ./trusttap-*.tgz` needs the
// registry's package documents, which `npm ci` never caches.)
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';

export const REPO = new URL('../../', import.meta.url).pathname;

interface LockEntry {
  version?: string; resolved?: string; integrity?: string; dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>; optional?: boolean; dev?: boolean; devOptional?: boolean; peer?: boolean; [k: string]: unknown;
}

export class InstallError extends Error {
  constructor(message: string) { super(message); this.name = 'InstallError'; }
}

function tarballUrl(name: string, version: string): string {
  return `https://registry.npmjs.org/${name}/-/${basename(name)}-${version}.tgz`;
}

/** The lock entries of everything `deps` needs, resolved the way npm lays out node_modules. */
function closure(lock: Record<string, LockEntry>, deps: Record<string, string>): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const visit = (from: string, name: string, optional: boolean) => {
    // npm looks in the requiring package's own node_modules, then each enclosing one.
    let dir = from;
    for (;;) {
      const path = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock[path]) {
        if (out[path]) return;
        const { dev: _d, devOptional: _o, peer: _p, ...entry } = lock[path];
        out[path] = { ...entry, resolved: tarballUrl(name, entry.version!) };
        for (const n of Object.keys(entry.dependencies ?? {})) visit(path, n, false);
        for (const n of Object.keys(entry.optionalDependencies ?? {})) visit(path, n, true);
        return;
      }
      if (!dir) break;
      const i = dir.lastIndexOf('/node_modules/');
      dir = i < 0 ? '' : dir.slice(0, i);
    }
    if (!optional) throw new InstallError(`${name} (needed by ${from || 'trusttap'}) is not in the repository's package-lock.json`);
  };
  for (const n of Object.keys(deps)) visit('', n, false);
  return out;
}

export interface Installed { project: string; pkgDir: string; log: string }

/** Creates `project` (empty but for package.json and package-lock.json) and installs `tarball` into it. */
export function installTarball(tarball: string, project: string): Installed {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; bin: Record<string, string>; engines: Record<string, string>; license: string };
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  mkdirSync(project, { recursive: true });
  const local = basename(tarball);
  copyFileSync(tarball, join(project, local));
  const spec = `file:${local}`;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const manifest = { name: 'trusttap-consumer', version: '1.0.0', private: true, type: 'module', dependencies: { [pkg.name]: spec } };
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({
    name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true,
    packages: {
      '': { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies },
      [`node_modules/${pkg.name}`]: {
        version: pkg.version, resolved: spec, integrity, license: pkg.license,
        dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines,
      },
      ...closure(lock.packages, pkg.dependencies),
    },
  }, null, 2));
  // --ignore-scripts: better-sqlite3's install script downloads a prebuilt binary or compiles
  // SQLite (network, minutes); the repository's own copy was built for this very Node by its
  // `npm ci`, so it is copied in below instead. A user's `npm install` runs the script.
  const r = spawnSync('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project, encoding: 'utf8' });
  const log = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new InstallError(`npm ci --offline in ${project} failed (exit ${r.status}):\n${log}`);
  const pkgDir = join(project, 'node_modules', pkg.name);
  copyNativeBinding('better-sqlite3', project);
  return { project, pkgDir, log };
}

/** Copies the repository's built native addon of `name` into the project (same version only). */
function copyNativeBinding(name: string, project: string): void {
  const from = join(REPO, 'node_modules', name);
  const to = join(project, 'node_modules', name);
  const v = (d: string) => (JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { version: string }).version;
  if (v(from) !== v(to)) throw new InstallError(`${name}: the repository has ${v(from)}, the package installed ${v(to)}`);
  const release = join(from, 'build', 'Release');
  if (!existsSync(release)) throw new InstallError(`${name}: the repository's copy has no build/Release (did its npm ci run the install script?)`);
  for (const f of readdirSync(release).filter((x) => x.endsWith('.node'))) {
    mkdirSync(join(to, 'build', 'Release'), { recursive: true });
    copyFileSync(join(release, f), join(to, 'build', 'Release', f));
  }
}
