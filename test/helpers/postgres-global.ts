// vitest globalSetup of the `postgres` project: one throwaway PostgreSQL cluster for the run
// (test/helpers/postgres.ts); each suite makes its own database on it (freshDatabase).
import type { TestProject } from 'vitest/node';
import { startCluster } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext { pgUrl: string }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const c = await startCluster();
  project.provide('pgUrl', c.url);
  return () => c.destroy();
}
