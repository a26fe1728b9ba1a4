// Where the build lives and the committed DEVELOPMENT ONLY signing key pair (see build/README.md).
// Kept free of heavy imports so `trusttap audit` does not load the compiler.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const BUILD_DIR = join(PROJECT_ROOT, 'build');
/** DEVELOPMENT ONLY private key: committed on purpose, so it protects nothing. */
export const DEV_KEY_PATH = join(BUILD_DIR, 'keys', 'dev-signing-key.pem');
export const DEV_PUBLIC_KEY_PATH = join(BUILD_DIR, 'keys', 'dev-signing-key.pub.pem');
/** The asc transform every TA compile applies (string literals as UTF-8, build/text-transform.mjs),
 * passed to asc.main directly since asc resolves a `--transform` path against the working
 * directory; recorded in the cache key and in each TA's SBOM entry. */
export const TEXT_TRANSFORM = 'build/text-transform.mjs';
export const TEXT_TRANSFORM_URL = new URL('./text-transform.mjs', import.meta.url);
