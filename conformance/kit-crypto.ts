// The conformance kit's crypto category: every Project Wycheproof case (C2SP/wycheproof; the kit's
// copy is in build/conformance/wycheproof, see assets.ts) that matches a host primitive, run through the runtime's host
// crypto by a test TA (as/crypto-ta.ts) over the TEE Client API (wycheproof-host.ts says which
// primitive each file goes through). As Wycheproof's README asks:
// a `valid` case must give the right answer, an `invalid` one must be rejected (an error or
// SIGNATURE_INVALID, never a wrong answer accepted), an `acceptable` one may go either way.
//
//   ecdsa_secp256r1_sha256_p1363   tee.ecc_verify(ECDSA_P256) with raw r||s
//   ecdsa_secp256r1_sha256 (DER)   strict DER -> r||s in the test, then tee.ecc_verify; the DER
//                                  bytes as they are must never verify
//   ed25519                        tee.eddsa_verify(ED25519) with the raw key (host ABI 1.1)
//   ecdh_secp256r1_ecpoint         tee.ecdh with the raw peer point
//   hmac_sha256 / hmac_sm3         tee.hmac, tag truncated to the group's size
//   aes_cmac                       ta/lib/cmac.ts over the host's AES-ECB (tee.cipher_once, 1.3)
//   aes_gcm / sm4_gcm              GCM (crypto/gcm.ts) over the host's AES/SM4-ECB
//   SM2                            no Wycheproof file; sign/verify round trips with tampering
//   block ciphers                  no Wycheproof file for ECB/CBC: FIPS 197, SP 800-38A and
//                                  GB/T 32907 answers, then tee.cipher_once (host ABI 1.3) against
//                                  the operation handles on every algorithm, key size and mode
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeContext } from '../ree/tee-client/index.ts';
import { Alg } from '../tee/abi/algorithms.ts';
import { Status } from '../proto/status.ts';
import type { RuntimeFactory, RuntimeUnderTest } from './kit.ts';
import type { Harness } from './harness.ts';
import { KIT_ASSETS_DIR, KIT_WYCHEPROOF_FILES } from './assets.ts';
import { CipherPath, HostCrypto, cryptoProbeImage, readKitWycheproof, runWycheproofFile } from './wycheproof-host.ts';
import { randomBytes } from 'node:crypto';

const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const cat = (...p: Uint8Array[]) => new Uint8Array(Buffer.concat(p));
export { KIT_WYCHEPROOF_FILES };

/** The crypto category of the kit, for one runtime. */
export function cryptoConformanceSuite(h: Harness, factory: RuntimeFactory, assetsDir: string = KIT_ASSETS_DIR): void {
  const { describe, test, beforeAll, afterAll, expect } = h;
  describe(`crypto (Wycheproof through the host ABI): ${factory.name}`, () => {
    let rt: RuntimeUnderTest;
    let ctx: TeeContext;
    let hc: HostCrypto;
    const summary: Record<string, string> = {};
    beforeAll(async () => {
      rt = await factory.start([await cryptoProbeImage(assetsDir)], mkdtempSync(join(tmpdir(), 'tt-crypto-')));
      ctx = await TeeContext.initialize(rt.transport);
      hc = new HostCrypto(await ctx.openSession('crypto-probe'));
    });
    afterAll(async () => {
      await ctx?.finalize();
      await rt?.close();
      if (Object.keys(summary).length) console.log(`Wycheproof on ${factory.name}:\n${Object.entries(summary).map(([f, s]) => `  ${f}: ${s}`).join('\n')}`);
    });

    for (const file of KIT_WYCHEPROOF_FILES) {
      test(`${file}: valid cases right, invalid rejected`, async () => {
        const wp = readKitWycheproof(file, assetsDir);
        const results = (await runWycheproofFile(wp, hc))!;
        expect(results.length).toBe(wp.numberOfTests);
        const n = (r: string, v?: string) => results.filter((x) => x.result === r && (!v || x.verdict === v)).length;
        summary[file] = `${n('valid')} valid, ${n('invalid')} invalid, ${n('acceptable')} acceptable (${results.filter((x) => x.result === 'acceptable' && x.detail === 'accepted').length} accepted), ${results.filter((x) => x.verdict === 'skip').length} skipped`;
        expect(results.filter((x) => x.verdict === 'fail').map((x) => `tc ${x.tcId} (${x.result}): ${x.detail}`)).toEqual([]);
        expect(results.filter((x) => x.verdict === 'skip')).toEqual([]);
      });
    }

    test('Ed25519 (tee.eddsa_verify, host ABI 1.1): RFC 8032 test 1 verifies; a key or signature of another length is SIGNATURE_INVALID; another EdDSA alg (TEE_ALG_ED448) is NOT_SUPPORTED', async () => {
      const pub = unhex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
      const sig = unhex('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');
      const none = new Uint8Array(0);
      expect(await hc.eddsaVerifyStatus(Alg.ED25519, pub, none, sig)).toBe(0);
      expect(await hc.eddsaVerifyStatus(Alg.ED25519, pub, Uint8Array.of(0), sig) >>> 0).toBe(Status.ERROR_SIGNATURE_INVALID);
      expect(await hc.eddsaVerifyStatus(Alg.ED25519, pub.subarray(1), none, sig) >>> 0).toBe(Status.ERROR_SIGNATURE_INVALID);
      expect(await hc.eddsaVerifyStatus(Alg.ED25519, pub, none, sig.subarray(1)) >>> 0).toBe(Status.ERROR_SIGNATURE_INVALID);
      expect(await hc.eddsaVerifyStatus(Alg.ED25519, pub, none, cat(sig, Uint8Array.of(0))) >>> 0).toBe(Status.ERROR_SIGNATURE_INVALID);
      expect(await hc.eddsaVerifyStatus(0x70006044 /* TEE_ALG_ED448 */, pub, none, sig) >>> 0).toBe(Status.ERROR_NOT_SUPPORTED);
      // the ECDSA import does not take an Ed25519 key: each algorithm goes through its own import
      expect(await hc.verify(Alg.ED25519, pub, none, sig)).toBe(false);
    });

    /** A block cipher through one host path: hex of the output, or the status as a number. */
    const run = async (path: number, alg: number, mode: number, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Promise<string | number> => {
      const r = await hc.cipher(path, alg, mode, key, iv, data);
      return typeof r === 'number' ? r : Buffer.from(r).toString('hex');
    };
    const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

    test('block ciphers: published answers through tee.cipher_once (host ABI 1.3), the operation handles and cipher_once in place', async () => {
      const none = new Uint8Array(0);
      const cases: [string, number, Uint8Array, Uint8Array, Uint8Array, Uint8Array][] = [
        // FIPS 197 Appendix C.1 / C.3
        ['AES-128 ECB', Alg.AES_ECB_NOPAD, unhex('000102030405060708090a0b0c0d0e0f'), none, unhex('00112233445566778899aabbccddeeff'), unhex('69c4e0d86a7b0430d8cdb78070b4c55a')],
        ['AES-256 ECB', Alg.AES_ECB_NOPAD, unhex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'), none, unhex('00112233445566778899aabbccddeeff'), unhex('8ea2b7ca516745bfeafc49904b496089')],
        // SP 800-38A F.2.1 CBC-AES128.Encrypt, blocks 1-2
        ['AES-128 CBC', Alg.AES_CBC_NOPAD, unhex('2b7e151628aed2a6abf7158809cf4f3c'), unhex('000102030405060708090a0b0c0d0e0f'),
          unhex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51'), unhex('7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2')],
        // GB/T 32907-2016 Appendix A.1
        ['SM4 ECB', Alg.SM4_ECB_NOPAD, unhex('0123456789abcdeffedcba9876543210'), none, unhex('0123456789abcdeffedcba9876543210'), unhex('681edf34d206965e86b3e94f536e4246')],
      ];
      for (const [name, alg, key, iv, plain, cipher] of cases) {
        for (const path of [CipherPath.ONCE, CipherPath.HANDLES, CipherPath.ONCE_IN_PLACE]) {
          expect([name, path, await run(path, alg, 0, key, iv, plain)]).toEqual([name, path, hexOf(cipher)]);
          expect([name, path, await run(path, alg, 1, key, iv, cipher)]).toEqual([name, path, hexOf(plain)]);
        }
      }
    });

    test('tee.cipher_once (host ABI 1.3) gives what cipher_init + cipher_update give, on every algorithm, key size (double-length TDES is K1|K2|K1) and mode, and the same status for each bad parameter', async () => {
      const algs: [number, number, number[], boolean][] = [
        [Alg.AES_ECB_NOPAD, 16, [16, 24, 32], false], [Alg.AES_CBC_NOPAD, 16, [16, 24, 32], true],
        [Alg.DES3_ECB_NOPAD, 8, [16, 24], false], [Alg.DES3_CBC_NOPAD, 8, [16, 24], true],
        [Alg.SM4_ECB_NOPAD, 16, [16], false], [Alg.SM4_CBC_NOPAD, 16, [16], true],
      ];
      const none = new Uint8Array(0);
      for (const [alg, block, keyLens, cbc] of algs) {
        for (const kl of keyLens) {
          const key = new Uint8Array(randomBytes(kl)), iv = cbc ? new Uint8Array(randomBytes(block)) : none;
          const data = new Uint8Array(randomBytes(3 * block));
          const once = await run(CipherPath.ONCE, alg, 0, key, iv, data);
          expect(typeof once).toBe('string');
          expect([alg, kl, await run(CipherPath.HANDLES, alg, 0, key, iv, data)]).toEqual([alg, kl, once]);
          expect([alg, kl, await run(CipherPath.ONCE_IN_PLACE, alg, 0, key, iv, data)]).toEqual([alg, kl, once]);
          expect([alg, kl, await run(CipherPath.ONCE, alg, 1, key, iv, unhex(once as string))]).toEqual([alg, kl, hexOf(data)]);
          expect([alg, kl, await run(CipherPath.HANDLES, alg, 1, key, iv, unhex(once as string))]).toEqual([alg, kl, hexOf(data)]);
          if (block === 8 && kl === 16) {
            // keying option 2 of ANSI X9.52: a 16-byte key is the 24-byte key K1|K2|K1
            expect(await run(CipherPath.ONCE, alg, 0, cat(key, key.subarray(0, 8)), iv, data)).toBe(once);
          }
          expect(await run(CipherPath.ONCE, alg, 0, key, iv, none)).toBe('');
        }
        const key = new Uint8Array(randomBytes(keyLens[0]!)), iv = cbc ? new Uint8Array(randomBytes(block)) : none, data = new Uint8Array(randomBytes(block));
        const bad: [string, number, number, Uint8Array, Uint8Array, Uint8Array, number][] = [
          ['short key', alg, 0, key.subarray(1), iv, data, Status.ERROR_BAD_PARAMETERS],
          ['long key', alg, 0, new Uint8Array(Math.max(...keyLens) + 1), iv, data, Status.ERROR_BAD_PARAMETERS],
          ['mode', alg, 2, key, iv, data, Status.ERROR_BAD_PARAMETERS],
          ['IV length', alg, 0, key, cbc ? iv.subarray(1) : new Uint8Array(block), data, Status.ERROR_BAD_PARAMETERS],
          ['algorithm', 0x10000111 /* TEE_ALG_AES_CTS */, 0, key, iv, data, Status.ERROR_NOT_SUPPORTED],
          ['partial block', alg, 0, key, iv, cat(data, Uint8Array.of(0)), Status.ERROR_BAD_PARAMETERS],
        ];
        for (const [what, a, mode, k, v, d, status] of bad) {
          expect([alg, what, await run(CipherPath.ONCE, a, mode, k, v, d)]).toEqual([alg, what, status | 0]);
          expect([alg, what, await run(CipherPath.HANDLES, a, mode, k, v, d)]).toEqual([alg, what, status | 0]);
        }
      }
    });

    test('SM2/SM3 (GB/T 32918.2, default ID): a signature verifies, any changed bit of message, signature or key does not', async () => {
      const d = unhex('3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8');
      const pub = unhex('0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13');
      const msg = new TextEncoder().encode('message digest');
      const sig = (await hc.sign(Alg.SM2_DSA_SM3, d, msg))!;
      expect(sig).not.toBeNull();
      expect(await hc.verify(Alg.SM2_DSA_SM3, pub, msg, sig)).toBe(true);
      // GB/T 32918.2 Annex A example signature on sm2p256v1 (A.2 uses its own test curve; this is
      // the widely published sm2p256v1 vector for d above with the default ID)
      const known = unhex('f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa');
      expect(await hc.verify(Alg.SM2_DSA_SM3, pub, msg, known)).toBe(true);
      for (const [m, s, q] of [[cat(msg, Uint8Array.of(0)), sig, pub], [msg, Uint8Array.from(sig, (b, i) => (i === 63 ? b ^ 1 : b)), pub], [msg, sig, Uint8Array.from(pub, (b, i) => (i === 64 ? b ^ 1 : b))]] as const) {
        expect(await hc.verify(Alg.SM2_DSA_SM3, q, m, s)).toBe(false);
      }
    });
  });
}
