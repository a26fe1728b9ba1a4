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
//   aes_cmac                       ta/lib/cmac.ts over tee.cipher_init/cipher_update (AES-ECB)
//   aes_gcm / sm4_gcm              GCM (crypto/gcm.ts) over the host's AES/SM4-ECB
//   SM2                            no Wycheproof file; sign/verify round trips with tampering
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeContext } from '../ree/tee-client/index.ts';
import { Alg } from '../tee/abi/algorithms.ts';
import { Status } from '../proto/status.ts';
import type { RuntimeFactory, RuntimeUnderTest } from './kit.ts';
import type { Harness } from './harness.ts';
import { KIT_ASSETS_DIR, KIT_WYCHEPROOF_FILES } from './assets.ts';
import { HostCrypto, cryptoProbeImage, readKitWycheproof, runWycheproofFile } from './wycheproof-host.ts';

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
