// Worker entry: plain JS so it loads without a TypeScript loader, then registers tsx for the
// TypeScript worker body (a worker does not inherit its parent's module hooks on Node 20).
import { register } from 'tsx/esm/api';

register();
await import('./ta-worker.ts');
