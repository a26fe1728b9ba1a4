import { defineConfig } from 'vitest/config';
import { existsSync, readdirSync } from 'node:fs';

// The repository and back-end suites run twice: on the embedded SQLite (project `default`, with
// everything else) and on PostgreSQL (project `postgres`: TRUSTTAP_TEST_DB=postgres, one
// throwaway cluster made by the global setup). Without a PostgreSQL server the second project
// holds one skipped test saying why; TRUSTTAP_REQUIRE_POSTGRES=1 (.ci/run) makes that an error.
const PG_SUITES = ['test/store/repository.test.ts', 'test/backend/*.test.ts'];
// crash: kill -9 of the SQLite file's one process (PostgreSQL's is test/scale/); upstream: the simulated
// upstream issuer opens the back end's HSM through its SQLite file.
const PG_SQLITE_ONLY = ['test/backend/crash.test.ts', 'test/backend/upstream.test.ts'];
// Whether a PostgreSQL server is installed (Debian's layout) decides which files the `postgres`
// project collects; test/helpers/postgres.ts (postgresMissing) says why it is absent and fails the
// run under TRUSTTAP_REQUIRE_POSTGRES=1 (this file may import libraries only: test/layout.test.ts).
const PG_ROOT = '/usr/lib/postgresql';
const pgMissing = !(existsSync(PG_ROOT) && readdirSync(PG_ROOT).some((v) => existsSync(`${PG_ROOT}/${v}/bin/initdb`)));

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores on the reference machine: keep the pool small so worker-isolation tests are not starved.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'], exclude: ['test/store/postgres-absent.test.ts', '**/node_modules/**'] } },
      pgMissing
        ? { extends: true, test: { name: 'postgres', include: ['test/store/postgres-absent.test.ts'] } }
        : {
          extends: true,
          test: {
            name: 'postgres', include: PG_SUITES, exclude: [...PG_SQLITE_ONLY, '**/node_modules/**'],
            env: { TRUSTTAP_TEST_DB: 'postgres' }, globalSetup: ['test/helpers/postgres-global.ts'],
          },
        },
    ],
  },
});
