// Generated reference docs stay true to their sources.
import { test, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { protoDocsMarkdown } from '../build/proto-docs.ts';

test('docs/ta-commands.md is generated from proto/*.proto (run: node bin/trusttap.mjs proto-docs > docs/ta-commands.md)', () => {
  expect(readFileSync(new URL('../docs/ta-commands.md', import.meta.url), 'utf8')).toBe(protoDocsMarkdown());
});
