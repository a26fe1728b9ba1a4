// The C host's memory safety (issue 17 §9), on the host built with AddressSanitizer and
// UndefinedBehaviorSanitizer (tee-c/build.ts variant 'sanitized': the first bad access ends the
// host with its report, which the transport turns into the error these tests would see). Each
// case is one class of bug the host had, with the input that reached it:
//  - the import-signature text of the wasm reader (strcat into a fixed buffer, many parameters)
//  - manifest.sig decoded into a fixed buffer before verification (172 base64 characters)
//  - the JSON reader: overlong UTF-8, surrogates, code points above U+10FFFF, numbers it cannot
//    hold exactly (they were accepted, or silently truncated) — on a manifest re-signed with a
//    key of the test's own, so the reader is reached
//  - a session pointer kept across a TA call that grows the session table; TA-to-TA sessions a
//    client tried to use; a killed nested call that left its caller without a deadline
// The kit runs the last three on both runtimes too (conformance/kit.ts); CI runs the whole kit
// and every C-host suite on the sanitized host (TRUSTTAP_C_SANITIZE=1, .ci/run).
import { describe, test, expect } from 'vitest';
import { generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeContext } from '../../ree/tee-client/index.ts';
import { Status, Origin } from '../../proto/status.ts';
import { probeImages, expectTeeError, rawRequest, PROBE_UUID, PROBE2_UUID } from '../../conformance/index.ts';
import { BUILD_DIR } from '../../build/paths.ts';
import { startCHost, startCHostFromBuild } from './c-host.ts';
import { onCHost } from './c-host-gate.ts';

const variant = 'sanitized' as const;
const data = () => mkdtempSync(join(tmpdir(), 'tt-cmem-'));
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
const uuid = (u: string) => Buffer.from(u.replace(/-/g, ''), 'hex');
const CMD = { LOOP: 2, WHOAMI: 8, ECHO: 9, HOLD: 13, HELD_CALL: 14, RELEASE: 15, CALL_THEN_LOOP: 16 };

/** A wasm module whose one type has `params` funcref parameters, imported as tee.random. */
function manyParamsModule(params: number): Uint8Array {
  const leb = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...leb(n >>> 7)]);
  const type = [0x01, 0x60, ...leb(params), ...Array(params).fill(0x70), 0x00];
  const name = (s: string) => [s.length, ...Buffer.from(s)];
  const imp = [0x01, ...name('tee'), ...name('random'), 0x00, 0x00];
  const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...section(1, type), ...section(2, imp)]);
}

/** A copy of the signed build (TAs + manifest), its manifest changed by `edit` and signed again
 * with a fresh key; returns the directory and that key's PEM path. */
function resigned(edit: (manifest: Buffer) => Buffer): { dir: string; keyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tt-cmem-build-'));
  for (const f of readdirSync(BUILD_DIR)) if (f.endsWith('.wasm')) copyFileSync(join(BUILD_DIR, f), join(dir, f));
  cpSync(join(BUILD_DIR, 'keys'), join(dir, 'keys'), { recursive: true });
  const manifest = edit(readFileSync(join(BUILD_DIR, 'manifest.json')));
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(dir, 'manifest.json'), manifest);
  writeFileSync(join(dir, 'manifest.sig'), sign(null, manifest, privateKey).toString('base64') + '\n');
  const keyPem = join(dir, 'keys', 'test-signing-key.pub.pem');
  writeFileSync(keyPem, publicKey.export({ type: 'spki', format: 'pem' }));
  return { dir, keyPem };
}
const replaceOnce = (m: Buffer, from: string, to: Buffer | string) => {
  const at = m.indexOf(from);
  if (at < 0) throw new Error(`manifest has no ${from}`);
  return Buffer.concat([m.subarray(0, at), Buffer.from(to), m.subarray(at + from.length)]);
};
const signer = (bytes: number[] | string) => (m: Buffer) => replaceOnce(m, '"signer": "development"', Buffer.concat([Buffer.from('"signer": "'), Buffer.from(typeof bytes === 'string' ? bytes : Uint8Array.from(bytes)), Buffer.from('"')]));

await onCHost('C host memory safety (sanitized build)', () => describe('C host memory safety (sanitized build)', () => {
  test('an import type with many parameters is refused by name, never written past the signature buffer', async () => {
    for (const n of [16, 40, 127]) {
      const tas = [{ name: 'wide', uuid: '0c0fe7a0-0000-4000-8000-0000000000f1', version: '1', wasm: manyParamsModule(n) }];
      await expect(startCHost(tas, data(), { variant })).rejects.toThrow(/BAD_IMPORT_SIGNATURE: import tee\.random has signature \(signature too long\)/);
    }
  });

  test('manifest.sig longer than an Ed25519 signature is refused before it is decoded', async () => {
    const { dir, keyPem } = resigned((m) => m);
    for (const chars of [92, 172, 4096]) {
      writeFileSync(join(dir, 'manifest.sig'), 'A'.repeat(chars));
      await expect(startCHostFromBuild(dir, data(), { variant, keyPem })).rejects.toThrow(/BAD_SIGNATURE: manifest\.sig is not a base64 Ed25519 signature/);
    }
  });

  test('a manifest re-signed with the test key loads (the JSON cases below reach the reader)', async () => {
    const { dir, keyPem } = resigned((m) => m);
    const t = await startCHostFromBuild(dir, data(), { variant, keyPem });
    const ctx = await TeeContext.initialize(t);
    expect((await (await ctx.openSession('keystore')).ping()).name).toBe('keystore');
    await ctx.finalize();
    await t.close();
  });

  const cases: [string, (m: Buffer) => Buffer, RegExp][] = [
    ['overlong UTF-8 (C0 AF for "/")', signer([0xc0, 0xaf]), /invalid UTF-8|overlong UTF-8/],
    ['overlong UTF-8 (E0 80 AF)', signer([0xe0, 0x80, 0xaf]), /overlong UTF-8/],
    ['overlong UTF-8 (F0 80 80 AF)', signer([0xf0, 0x80, 0x80, 0xaf]), /overlong UTF-8/],
    ['a UTF-8 surrogate (ED A0 80)', signer([0xed, 0xa0, 0x80]), /UTF-8 encodes a surrogate/],
    ['a code point above U+10FFFF (F4 90 80 80)', signer([0xf4, 0x90, 0x80, 0x80]), /UTF-8 beyond U\+10FFFF/],
    ['a lone high surrogate escape', signer('dev\\ud800x'), /bad string/],
    ['a lone low surrogate escape', signer('dev\\udc00'), /bad string/],
    ['an integer beyond 2^53 - 1', (m) => replaceOnce(m, '"version": 1', '"version": 9007199254740993'), /integer beyond 2\^53 - 1/],
    ['a number longer than any double needs (once read as 1 after truncation)', (m) => replaceOnce(m, '"version": 1', `"version": 1.${'0'.repeat(70)}1`), /number too long/],
    ['a number that overflows a double', (m) => replaceOnce(m, '"version": 1', '"version": 1e999'), /number out of range/],
  ];
  for (const [what, edit, reason] of cases) {
    test(`the manifest's JSON reader refuses ${what}`, async () => {
      const { dir, keyPem } = resigned(edit);
      const err = await startCHostFromBuild(dir, data(), { variant, keyPem }).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/^BAD_MANIFEST: manifest\.json: not valid UTF-8 JSON: /);
      expect(err?.message).toMatch(reason);
    });
  }

  describe('sessions and the watchdog', () => {
    test('a TA growing the session table inside an invoke; a client cannot use the sessions it holds', async () => {
      const t = await startCHost(await probeImages(), data(), { variant });
      const ctx = await TeeContext.initialize(t);
      const a = await ctx.openSession('probe');
      const ids = await a.invoke(CMD.HOLD, Buffer.concat([uuid(PROBE2_UUID), u32(200)]));
      expect(ids.length).toBe(200 * 4);
      for (const at of [0, 199 * 4]) {
        const sid = Buffer.from(ids).readUInt32LE(at);
        for (const op of [{ invoke: { session: sid, command: CMD.WHOAMI } }, { cancel: { session: sid } }, { closeSession: { session: sid } }]) {
          expect((await rawRequest(t, op)).status >>> 0).toBe(Status.ERROR_BAD_PARAMETERS >>> 0);
        }
      }
      const who = await a.invoke(CMD.HELD_CALL, Buffer.concat([u32(199), u32(CMD.WHOAMI)]));
      expect(Buffer.from(who.subarray(4)).toString('hex')).toBe(PROBE_UUID.replace(/-/g, ''));
      await a.close(); // the probe instance goes, and the 200 sessions it held with it
      await ctx.finalize();
      await t.close();
    });

    test('a caller whose nested callee was killed by the watchdog is stopped too', async () => {
      const t = await startCHost(await probeImages(), data(), { variant, timeBudgetMs: 300 });
      const ctx = await TeeContext.initialize(t);
      const s = await ctx.openSession('probe');
      await expectTeeError(s.invoke(CMD.CALL_THEN_LOOP, Buffer.concat([uuid(PROBE2_UUID), u32(CMD.LOOP)])), Status.ERROR_TARGET_DEAD, Origin.TEE);
      const again = await ctx.openSession('probe2');
      expect(Array.from(await again.invoke(CMD.ECHO, Uint8Array.of(3)))).toEqual([3]);
      await ctx.finalize();
      await t.close();
    });
  });
}));
