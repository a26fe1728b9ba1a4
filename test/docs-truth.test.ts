// Issue 17 §10: key statements of the security docs pinned to the code they describe, so they
// stay true when either changes.
import { test, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { PAYMENT_OPS, DEVICE_OPS } from '../backend/service.ts';

const doc = (f: string) => readFileSync(new URL(`../docs/${f}`, import.meta.url), 'utf8');

test('docs/backend-api.md names exactly the routes a suspended device is still answered on', () => {
  const text = doc('backend-api.md');
  const table = text.slice(text.indexOf('What a **suspended** device is still answered on'), text.indexOf('A **disabled** device'));
  const rows = table.split('\n').filter((l) => l.startsWith('| `'));
  const routes = (row: string) => [...row.split('|')[1].matchAll(/`([a-z-]+)`/g)].map((m) => m[1]);
  const answered = rows.filter((r) => r.split('|')[2].includes('200')).flatMap(routes).map((r) => DEVICE_OPS[r]).sort();
  const refused = rows.filter((r) => r.split('|')[2].includes('403')).flatMap(routes).map((r) => DEVICE_OPS[r]).sort();
  expect(answered).toEqual([...PAYMENT_OPS].sort());
  // enrol is not a device's request (it has no device id yet): only a registered terminal enrols.
  expect(refused).toEqual(Object.values(DEVICE_OPS).filter((o) => !PAYMENT_OPS.has(o) && o !== 'enrol').sort());
});

test('docs/attestation.md: worker isolation attests; docs/threat-model.md: signals self-reported, issuer PIN limit, static SM4 key', () => {
  expect(doc('attestation.md')).not.toMatch(/worker isolation today\) the function answers\s+NOT_SUPPORTED/);
  expect(doc('attestation.md')).toMatch(/Both isolation modes attest/);
  const tm = doc('threat-model.md');
  expect(tm).toMatch(/\*\*the REE's own word\*\*/);
  expect(tm).toMatch(/The PIN try limit is the issuer's/);
  expect(tm).toMatch(/SM4-ECB under a \*\*static\*\* PIN key/);
  // The SM4 PIN path is what the doc says: the keystore's static-key command, no KSN.
  expect(readFileSync(new URL('../ta/keystore/sm4.ts', import.meta.url), 'utf8')).toMatch(/under a static SM4 P0 key/);
  expect(readFileSync(new URL('../proto/pinpad.proto', import.meta.url), 'utf8')).toMatch(/The DUKPT KSN; empty for UNIONPAY_SM4 \(static key\)/);
});
