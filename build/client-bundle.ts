// The REE client's shipped bundle and its measurement (issue 16 §2): `ree/index.ts` (the app API,
// `import … from 'trusttap'`) bundled by esbuild for any JavaScript engine (browser platform, ESM,
// minified, its licence notices at the end) into build/client/trusttap-client.js. Its SHA-256,
// size and version go into the signed manifest's `client` entry (common/manifest.ts), so the hash
// an app's client reports in its evidence can be checked against a release the build signed.
// Deterministic: the same sources, lockfile and esbuild give the same bytes, from any directory
// (packages resolve from the toolchain's node_modules when the sources are a bare copy).
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './paths.ts';
import { CLIENT_FILE, CLIENT_NAME, sha256Hex, type ManifestClient } from '../common/manifest.ts';

/** The bundle's entry, relative to the project root: the package's main entry point. */
export const CLIENT_ENTRY = 'ree/index.ts';
export const ESBUILD_VERSION: string = createRequire(import.meta.url)('esbuild/package.json').version;

/** Bundles the client from `root` and writes it to `<outDir>/client/trusttap-client.js`; answers
 * the manifest entry (its file path relative to outDir). */
export async function bundleClient(root: string, outDir: string, write: (path: string, data: Uint8Array) => void): Promise<ManifestClient> {
  const r = await build({
    entryPoints: [join(root, CLIENT_ENTRY)], bundle: true, platform: 'browser', format: 'esm', target: 'es2022',
    minify: true, legalComments: 'eof', charset: 'utf8', write: false, absWorkingDir: root, logLevel: 'silent',
    nodePaths: [join(PROJECT_ROOT, 'node_modules')],
  }).catch((e: { errors?: { text: string; location?: { file: string; line: number } | null }[]; message: string }) => {
    const lines = (e.errors ?? []).map((x) => `${x.location ? `${x.location.file}:${x.location.line}: ` : ''}${x.text}`);
    throw new Error(`the client (${CLIENT_ENTRY}) does not bundle for the browser: ${lines.join('; ') || e.message}`);
  });
  const bytes = r.outputFiles[0]!.contents;
  mkdirSync(join(outDir, 'client'), { recursive: true });
  write(join(outDir, CLIENT_FILE), bytes);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { name: CLIENT_NAME, version: pkg.version, file: CLIENT_FILE, sha256: sha256Hex(bytes), size: bytes.length, entry: CLIENT_ENTRY, bundler: `esbuild ${ESBUILD_VERSION}` };
}

/** Whether a project root has a client to bundle (a TA-only test project has none). */
export const hasClient = (root: string) => existsSync(join(root, CLIENT_ENTRY)) && existsSync(join(root, 'package.json'));
