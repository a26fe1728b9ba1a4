// Where the published vectors live: test/vectors/published/, the repository's verbatim copy of
// the project's shared vector folder (JSON files, their README, and Project Wycheproof's files
// with licence and source in wycheproof/README.md). Tests, the conformance kit and the docs'
// `npm run vectors` examples use this copy, so a clone needs nothing beside it; the one test
// that looks outside the repository is published-copy.test.ts, which notices upstream updates.
// fileURLToPath, not URL.pathname, so a checkout path with spaces or non-ASCII characters works.
import { fileURLToPath } from 'node:url';

/** Absolute path of test/vectors/published/, ending in a separator. */
export const PUBLISHED_DIR = fileURLToPath(new URL('./published/', import.meta.url));
/** Absolute path of test/vectors/published/wycheproof/, ending in a separator. */
export const WYCHEPROOF_DIR = fileURLToPath(new URL('./published/wycheproof/', import.meta.url));

/** Absolute path of one published file, e.g. publishedFile('emv-sm.json'). */
export const publishedFile = (name: string): string => PUBLISHED_DIR + name;
