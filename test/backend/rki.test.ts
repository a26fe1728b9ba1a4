// Remote key injection end to end through the HTTP service: ECDH between the device identity key
// (attest TA) and a back-end ephemeral key, SP 800-56C KDF, bilateral key confirmation, the KEK
// handed to the keystore TA (command 100), then the AES DUKPT initial key as a TR-31 version D
// block from the software HSM, imported by the real keystore; and the same block checked by an
// independent TR-31 D unwrap and AES DUKPT derivation (test/paylib/ref.ts).
import { test, expect, beforeAll, afterAll, describe } from 'vitest';
import { readFileSync } from 'node:fs';
import { cbc } from '@noble/ciphers/aes.js';
import { KeystoreClient } from '../../ree/tee-client/index.ts';
import { BackendLink, BackendError } from '../../ree/attestation/backend-link.ts';
import { signManifestBytes } from '../../tee/loader/manifest.ts';
import { serializeManifest, type Manifest } from '../../common/manifest.ts';
import { createHash } from 'node:crypto';
import type { SoftwareHsm } from '../../backend/hsm/software-hsm.ts';
import { aesCmac, dukptAesInitialKey } from '../paylib/ref.ts';
import { peerImage } from '../attest/device.ts';
import { a, Admin, startTestBackend, enrolledDevice, buildManifest, tableRows, type Backend } from './harness.ts';

let be: Backend;
let admin: Admin;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  be = await startTestBackend();
  admin = new Admin(be);
});
afterAll(async () => {
  for (const c of closers) await c().catch(() => undefined);
  await be.close();
});

/** X9.143 version D: KBEK/KBAK = AES-CMAC(KBPK, counter || usage || 00 || algorithm || length). */
function unwrapD(block: string, kbpk: Uint8Array) {
  const hdrLen = (() => {
    let n = 16;
    const blocks = Number(block.slice(12, 14));
    for (let i = 0; i < blocks; i++) n += parseInt(block.slice(n + 2, n + 4), 16);
    return n;
  })();
  const header = Buffer.from(block.slice(0, hdrLen), 'latin1');
  const body = Buffer.from(block.slice(hdrLen), 'hex');
  const ct = body.subarray(0, body.length - 16), mac = body.subarray(body.length - 16);
  const derive = (usage: number) => Buffer.concat([1, 2].map((i) => aesCmac(kbpk, Uint8Array.of(i, 0, usage, 0, 0, 4, 1, 0))));
  const kbek = derive(0), kbak = derive(1);
  const payload = cbc(kbek, mac, { disablePadding: true }).decrypt(ct);
  expect(Buffer.from(aesCmac(kbak, Buffer.concat([header, payload]))).equals(mac)).toBe(true);
  const bits = (payload[0] << 8) | payload[1];
  return { header: header.toString('latin1'), key: payload.subarray(2, 2 + bits / 8) };
}

describe('remote key injection', () => {
  test('with the real keystore: KEK agreed in the TEE, DUKPT initial key imported from its TR-31 block, KCVs agree', async () => {
    const { dev, link } = await enrolledDevice(be, admin);
    closers.push(() => dev.close());
    const { kekKeyId, keys } = await link.injectKeys();
    const ks = await KeystoreClient.open(dev.ctx);
    const kek = await ks.getKeyInfo(kekKeyId);
    expect(kek.attributes!.usage).toBe(5); // K1
    expect(keys).toHaveLength(1);
    expect(keys[0].tr31.slice(0, 1)).toBe('D');
    expect(keys[0].tr31.slice(5, 7)).toBe('B1');
    const ik = await ks.importKeyBlock('dukpt.ik', kekKeyId, keys[0].tr31);
    expect(Buffer.from(ik.kcv).toString('hex')).toBe(Buffer.from(keys[0].kcv).toString('hex'));
    await ks.close();
    const h = await admin.history(link.state.deviceId);
    expect(h.filter((x) => x.kind === 'key_injection').map((x) => x.detail).join()).toMatch(/AES DUKPT initial key [0-9a-f]{16} sent/);
  });

  describe('with a stand-in keystore (the test sees the KEK)', () => {
    let link: BackendLink;
    let ctx: import('../../ree/tee-client/index.ts').TeeContext;

    beforeAll(async () => {
      // Allow the stand-in keystore's image through a test manifest signed with the dev key.
      const fake = await peerImage('keystore');
      const m = JSON.parse(Buffer.from(buildManifest().bytes).toString()) as Manifest;
      m.tas = [{ ...m.tas[0], name: 'keystore', uuid: fake.uuid, version: fake.version, file: 'fake-keystore.wasm', sha256: createHash('sha256').update(fake.wasm).digest('hex'), size: fake.wasm.length }];
      const bytes = serializeManifest(m);
      const sig = signManifestBytes(bytes, readFileSync(new URL('../../build/keys/dev-signing-key.pem', import.meta.url)));
      const r = await admin.req('POST', '/v1/admin/manifests', a.UploadManifestRequest.encode({ manifest: bytes, signature: sig }).finish());
      expect(r.status).toBe(200);
      const d = await enrolledDevice(be, admin, { only: ['attest'], extra: [fake] });
      closers.push(() => d.dev.close());
      link = d.link;
      ctx = d.dev.ctx;
    });

    test('the TR-31 D block unwraps under the KEK the keystore received to the DUKPT IK derived from the BDK', async () => {
      const ks = await ctx.openSession('keystore'); // keeps the stand-in's record alive
      const { keys } = await link.injectKeys();
      const last = await ks.invoke(2);
      await ks.close();
      const raw = last.subarray(16);
      const at = raw.indexOf(0x12);
      const kek = raw.subarray(at + 2, at + 34);
      const { header, key } = unwrapD(keys[0].tr31, kek);
      expect(header).toMatch(/^D\d{4}B1AX00N0200IK14[0-9A-F]{16}PB/);
      const hsm = be.service.hsm as SoftwareHsm;
      const bdk = hsm.unwrap('bdk/bdk-default', (await be.service.repo.getSecret('bdk/bdk-default'))!);
      expect(Buffer.from(key).toString('hex')).toBe(Buffer.from(dukptAesInitialKey(bdk, keys[0].initialKeyId)).toString('hex'));
      expect(header.slice(20, 36)).toBe(Buffer.from(keys[0].initialKeyId).toString('hex').toUpperCase());
    });

    test('a wrong device confirmation tag is refused (401) and the session is single use', async () => {
      const x = (await link.call('key-exchange', { keyExchange: {} })).keyExchange!;
      const offer = a.KeyAgreementOffer.decode(x.offer!);
      const agreed = await link.attest.agreeKek(x.offer!, x.offerSignature!);
      const bad = Buffer.from(agreed.macTagU);
      bad[0] ^= 1;
      const e = await link.call('key-download', { keyDownload: { sessionId: offer.sessionId, macTagU: bad } }).catch((z) => z);
      expect(e).toBeInstanceOf(BackendError);
      expect([(e as BackendError).http, (e as BackendError).codeName]).toEqual([401, 'ERROR_KEY_CONFIRMATION_FAILED']);
      const again = await link.call('key-download', { keyDownload: { sessionId: offer.sessionId, macTagU: agreed.macTagU } }).catch((z) => z);
      expect([(again as BackendError).http, (again as BackendError).codeName]).toEqual([409, 'ERROR_NONCE_UNKNOWN']);
    });
  });

  test('no key injection without a fresh ALLOW attestation', async () => {
    const { dev, link } = await enrolledDevice(be, admin);
    closers.push(() => dev.close());
    dev.health.developerOptions = true;
    await link.attestNow();
    const e = await link.injectKeys().catch((z) => z);
    expect([(e as BackendError).http, (e as BackendError).codeName]).toEqual([403, 'ERROR_ATTESTATION_REQUIRED']);
  });

  test('BDKs and service keys are stored only wrapped under the master key', async () => {
    const rows = (await tableRows(be, 'SELECT id, wrapped FROM secrets')).map((r) => ({ id: r.id as string, wrapped: Buffer.from(r.wrapped as Uint8Array) }));
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(['bdk/bdk-default', 'service-key/token']));
    const hsm = be.service.hsm as SoftwareHsm;
    const bdk = hsm.unwrap('bdk/bdk-default', rows.find((r) => r.id === 'bdk/bdk-default')!.wrapped);
    for (const r of rows) expect(r.wrapped.includes(Buffer.from(bdk))).toBe(false);
    expect(() => hsm.unwrap('bdk/other-id', rows.find((r) => r.id === 'bdk/bdk-default')!.wrapped)).toThrow(/tampered or moved/);
  });
});
