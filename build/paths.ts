// Where the build lives and the committed DEVELOPMENT ONLY signing key pair (see build/README.md).
// Kept free of heavy imports so `trusttap audit` does not load the compiler.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const BUILD_DIR = join(PROJECT_ROOT, 'build');
/** DEVELOPMENT ONLY private key: committed on purpose, so it protects nothing. */
export const DEV_KEY_PATH = join(BUILD_DIR, 'keys', 'dev-signing-key.pem');
export const DEV_PUBLIC_KEY_PATH = join(BUILD_DIR, 'keys', 'dev-signing-key.pub.pem');
