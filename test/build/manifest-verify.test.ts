// The Node runtime verifies the manifest with OpenSSL's Ed25519 (tee/loader/manifest.ts, for a
// fast cold start), the back end and browsers with @noble's (common/manifest.ts). Both must
// accept and refuse exactly the same signatures: Wycheproof's Ed25519 cases (RFC 8032, strict).
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { nativeEd25519Verify } from '../../tee/loader/manifest.ts';
import { nobleEd25519Verify } from '../../common/manifest.ts';

const hexBytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const safe = (f: () => boolean) => { try { return f(); } catch { return false; } };

test('OpenSSL and @noble Ed25519 agree with every Wycheproof case (valid accepted, invalid refused)', () => {
  const w = JSON.parse(readFileSync(new URL('../vectors/published/wycheproof/ed25519_test.json', import.meta.url), 'utf8'));
  let n = 0, valid = 0;
  for (const g of w.testGroups) {
    const key = hexBytes(g.publicKey.pk);
    for (const t of g.tests) {
      const sig = hexBytes(t.sig), msg = hexBytes(t.msg);
      const want = t.result === 'valid';
      expect(safe(() => nativeEd25519Verify(sig, msg, key)), `tcId ${t.tcId} OpenSSL`).toBe(want);
      expect(safe(() => nobleEd25519Verify(sig, msg, key)), `tcId ${t.tcId} @noble`).toBe(want);
      n++;
      if (want) valid++;
    }
  }
  expect(n).toBeGreaterThan(100);
  expect(valid).toBeGreaterThan(50);
});
