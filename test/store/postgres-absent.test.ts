// Stands in for the PostgreSQL suites (the `postgres` project of vitest.config.ts) where no
// PostgreSQL server is installed, so the run says what it skipped and why.
import { test } from 'vitest';
import { postgresMissing } from '../helpers/postgres.ts';

test.skip(`the PostgreSQL repository and back-end suites (skipped: ${postgresMissing() || 'PostgreSQL present'})`, () => {});
