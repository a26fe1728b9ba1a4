// The attest TA through the TEE Client API on the signed build: identity key and its OEM chain,
// evidence over the runtime's own measurements, domain-separated signatures, SIGN only for
// txsign (stand-in TA under its UUID), and the device side of the RKI key agreement checked
// against an independent TypeScript computation (stand-in keystore receives the KEK). The same
// file runs on the C host (c-host-attest.test.ts sets the device runtime hook); the runtime
// version in the measurements is the one expectation that differs (the factory's capability).
import { isLowS } from '../../common/verdict-token.ts';
import { test, expect, beforeAll, afterAll, describe } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, createECDH } from 'node:crypto';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { Status, Origin } from '../../proto/status.ts';
import { expectTeeError } from '../../conformance/index.ts';
import { DEFAULT_BUILD_DIR } from '../../tee/index.ts';
import { TEST_OEM_ROOT } from '../../sim/oem/index.ts';
import { verifyP256, signP256, generateP256, sha256 } from '../../backend/crypto/p256.ts';
import { labelled, LABEL } from '../../common/signature-labels.ts';
import { startDevice, peerImages, deviceRuntime, type Device } from './device.ts';
import { referenceKeys } from './rki-reference.ts';

const a = trusttap.attest.v1;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const num = (x: any) => (typeof x === 'number' ? x : x.toNumber());
const ATTEST_UUID = 'a77e57000d1c4e0a9b5ea77e57a77e57';
const TXSIGN_UUID = '7a1c5e007e5f4c0d9a117857a7e5f160';
const manifest = JSON.parse(readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json'), 'utf8'));

describe('attest TA', () => {
  let dev: Device;
  let peers: Awaited<ReturnType<typeof peerImages>>;

  beforeAll(async () => {
    peers = await peerImages();
    dev = await startDevice({ only: ['attest'], extra: [peers.txsign, peers.keystore, peers.other] });
  });
  afterAll(() => dev.close());

  test('PING names the TA', async () => {
    const p = await dev.attest.ping();
    expect(p.name).toBe('attest');
    expect(hex(p.uuid)).toBe(ATTEST_UUID);
  });

  // Issue 17 §2: the attest TA gives every signature in low-S form (ta/lib/ecdsa-low-s.ts), whatever
  // the runtime's ecc_sign draws, and OEM leaf certificates are low-S too: the verifiers take no other.
  test('signatures leave the TEE in low-S form (requests; OEM leaf certificates of fresh devices)', async () => {
    for (let i = 0; i < 24; i++) expect(isLowS(await dev.attest.signRequest(new Uint8Array([i])))).toBe(true);
    for (let i = 0; i < 4; i++) {
      const d = await startDevice({ only: ['attest'] });
      try {
        const leaf = (await d.attest.getIdentity()).chain.certificates[0] as { signature: Uint8Array };
        expect(isLowS(leaf.signature)).toBe(true);
      } finally {
        await d.close();
      }
    }
  });

  test('identity key: made once, survives a restart, certified by the OEM chain for the attest TA only', async () => {
    const id = await dev.attest.getIdentity();
    expect(id.publicKey.length).toBe(65);
    expect(hex((await dev.attest.getIdentity()).publicKey)).toBe(hex(id.publicKey));
    const [leaf, device] = id.chain.certificates as Array<{ tbs: Uint8Array; signature: Uint8Array }>;
    expect(id.chain.certificates.length).toBe(2);
    const deviceBody = a.CertificateBody.decode(device.tbs);
    expect(deviceBody.kind).toBe(a.CertificateKind.CERTIFICATE_KIND_DEVICE_ATTESTATION);
    expect(verifyP256(TEST_OEM_ROOT.publicKey, labelled(LABEL.oemCert, device.tbs), device.signature)).toBe(true);
    const leafBody = a.CertificateBody.decode(leaf.tbs);
    expect(leafBody.kind).toBe(a.CertificateKind.CERTIFICATE_KIND_TA_KEY);
    expect(hex(leafBody.subjectPublicKey)).toBe(hex(id.publicKey));
    expect(hex(leafBody.taUuid)).toBe(ATTEST_UUID);
    expect(hex(leafBody.taSha256)).toBe(manifest.tas.find((t: any) => t.name === 'attest' && !t.debug).sha256);
    expect(verifyP256(deviceBody.subjectPublicKey, labelled(LABEL.oemCert, leaf.tbs), leaf.signature)).toBe(true);
    expect(isLowS(leaf.signature)).toBe(true); // issue 17 §2: the runtime's OEM signer gives low-S
    // Restart on the same device state: same key.
    const again = await startDevice({ dataDir: dev.dataDir, only: ['attest'] });
    expect(hex((await again.attest.getIdentity()).publicKey)).toBe(hex(id.publicKey));
    await again.close();
  });

  test('an unprovisioned device has a key but no OEM chain: GET_IDENTITY says so', async () => {
    const d = await startDevice({ only: ['attest'], provision: false });
    const e = await expectTeeError(d.attest.getIdentity(), Status.ERROR_ITEM_NOT_FOUND, Origin.TRUSTED_APP);
    expect(e.detail).toMatch(/provisioned/);
    await d.close();
  });

  test('evidence: signed over the exact bytes, measurements from the runtime, signals and nonce carried', async () => {
    const nonce = new Uint8Array(32).fill(7);
    const ree = dev.collector.collect();
    const se = await dev.attest.getEvidence(nonce, ree);
    const id = await dev.attest.getIdentity();
    expect(verifyP256(id.publicKey, labelled(LABEL.evidence, se.evidence), se.signature)).toBe(true);
    expect(verifyP256(id.publicKey, se.evidence, se.signature)).toBe(false); // the label is part of it
    const ev = a.Evidence.decode(se.evidence);
    expect(ev.formatVersion).toBe(1);
    expect(hex(ev.nonce)).toBe(hex(nonce));
    expect(hex(ev.devicePublicKey)).toBe(hex(id.publicKey));
    const m = ev.measurements! as trusttap.attest.v1.Measurements;
    const tas = m.tas as trusttap.attest.v1.TaMeasurement[];
    expect(m.runtimeVersion).toBe(deviceRuntime().caps.runtimeVersion); // each runtime names itself
    expect(m.hostAbiVersion).toBe(1);
    expect(hex(m.manifestSha256)).toBe(dev.manifestSha256);
    expect(m.bootState).toBe(a.BootState.BOOT_STATE_VERIFIED);
    // The replay-protected storage's write counter, read when the evidence was made (issue 17 §1):
    // the identity key's sealed object was written, so it is above 0, and it never goes down.
    expect(m.rpmbWriteCounter).toBeGreaterThan(0);
    const later = a.Evidence.decode((await dev.attest.getEvidence(nonce, ree)).evidence).measurements!;
    expect(later.rpmbWriteCounter).toBeGreaterThanOrEqual(m.rpmbWriteCounter);
    const attestEntry = manifest.tas.find((t: any) => t.name === 'attest' && !t.debug);
    expect(tas.map((t) => t.name)).toEqual(['attest', 'txsign', 'keystore', 'other']);
    expect(hex(tas[0].sha256)).toBe(attestEntry.sha256);
    expect(hex(tas[1].sha256)).toBe(createHash('sha256').update((await peerImages()).txsign.wasm).digest('hex'));
    expect(ev.ree!.deviceId).toBe('android-id-0001');
    expect(ev.ree!.location!.latitudeE6).toBe(31230400);
    // Re-encoding the decoded evidence gives the same bytes (canonical codec), but verifiers never rely on it.
    expect(hex(a.Evidence.encode(ev).finish())).toBe(hex(se.evidence));
  });

  test('evidence carries the REE client\'s measurement as given, signed with the rest (issue 16 §2)', async () => {
    const client = { name: 'com.acquirer.pos', version: '42', sha256: new Uint8Array(32).fill(0x5a), source: 'platform' as const, signerSha256: [new Uint8Array(32).fill(1)] };
    const se = await dev.attest.getEvidence(new Uint8Array(32).fill(8), null, client);
    const id = await dev.attest.getIdentity();
    expect(verifyP256(id.publicKey, labelled(LABEL.evidence, se.evidence), se.signature)).toBe(true);
    const ev = a.Evidence.decode(se.evidence);
    expect(ev.client).toMatchObject({ name: 'com.acquirer.pos', version: '42', source: a.ClientMeasurementSource.CLIENT_MEASUREMENT_SOURCE_PLATFORM });
    expect(hex(ev.client!.sha256!)).toBe('5a'.repeat(32));
    expect(ev.client!.signerSha256!.map((x) => hex(x))).toEqual(['01'.repeat(32)]);
    // Another client in the same evidence bytes breaks the device's signature: it cannot be changed after signing.
    const forged = a.Evidence.encode({ ...ev, client: { ...ev.client!, sha256: new Uint8Array(32).fill(0x5b) } }).finish();
    expect(verifyP256(id.publicKey, labelled(LABEL.evidence, forged), se.signature)).toBe(false);
    // Without one, the evidence has none.
    expect(a.Evidence.decode((await dev.attest.getEvidence(new Uint8Array(32).fill(8), null)).evidence).client).toBeNull();
  });

  test('evidence nonce must be 16..64 bytes; malformed requests are BAD_FORMAT', async () => {
    await expectTeeError(dev.attest.getEvidence(new Uint8Array(15), null), Status.ERROR_BAD_PARAMETERS, Origin.TRUSTED_APP);
    await expectTeeError(dev.attest.getEvidence(new Uint8Array(65), null), Status.ERROR_BAD_PARAMETERS, Origin.TRUSTED_APP);
    await expectTeeError(dev.attest.session.invoke(a.Command.COMMAND_GET_EVIDENCE, Uint8Array.of(0x0a, 0x05, 1)), Status.ERROR_BAD_FORMAT, Origin.TRUSTED_APP);
    await expectTeeError(dev.attest.session.invoke(99), Status.ERROR_BAD_PARAMETERS, Origin.TRUSTED_APP);
  });

  test('boot state and manifest hash follow the runtime configuration, not the REE', async () => {
    const d = await startDevice({ dataDir: dev.dataDir, only: ['attest'], bootState: 'unlocked' });
    const ev = a.Evidence.decode((await d.attest.getEvidence(new Uint8Array(16), null)).evidence);
    expect(ev.measurements!.bootState).toBe(a.BootState.BOOT_STATE_UNLOCKED);
    expect(ev.measurements!.tas!.map((t) => t.name)).toEqual(['attest']);
    await d.close();
  });

  test('device requests are signed under their own label', async () => {
    const req = a.DeviceRequest.encode({ deviceId: 'd1', counter: 5 as any, heartbeat: {} }).finish();
    const sig = await dev.attest.signRequest(req);
    const pub = (await dev.attest.getIdentity()).publicKey;
    expect(verifyP256(pub, labelled(LABEL.deviceRequest, req), sig)).toBe(true);
    expect(verifyP256(pub, labelled(LABEL.evidence, req), sig)).toBe(false);
    await expectTeeError(dev.attest.signRequest(new Uint8Array(0)), Status.ERROR_BAD_PARAMETERS);
  });

  test('SIGN: only the txsign TA; the caller UUID is part of the signed bytes', async () => {
    const msg = new TextEncoder().encode('canonical transaction record');
    const body = a.SignRequest.encode({ message: msg }).finish();
    await expectTeeError(dev.attest.session.invoke(a.Command.COMMAND_SIGN, body), Status.ERROR_ACCESS_DENIED, Origin.TRUSTED_APP);
    const other = await dev.ctx.openSession('other');
    await expectTeeError(other.invoke(1, Buffer.concat([Buffer.of(a.Command.COMMAND_SIGN), body])), Status.ERROR_ACCESS_DENIED);
    await other.close();
    const tx = await dev.ctx.openSession('txsign');
    const res = a.SignResponse.decode(await tx.invoke(1, Buffer.concat([Buffer.of(a.Command.COMMAND_SIGN), body])));
    await tx.close();
    const pub = (await dev.attest.getIdentity()).publicKey;
    expect(hex(res.publicKey)).toBe(hex(pub));
    expect(verifyP256(pub, labelled(LABEL.taSign, Buffer.concat([Buffer.from(TXSIGN_UUID, 'hex'), msg])), res.signature)).toBe(true);
  });

  describe('remote key injection, device side', () => {
    const backend = generateP256();
    let pub: Uint8Array;

    function offer(o: { sessionId?: string; expires?: number; eph?: ReturnType<typeof generateP256>; forKey?: Uint8Array; badTag?: boolean; signer?: Uint8Array } = {}) {
      const eph = o.eph ?? generateP256();
      const sessionId = o.sessionId ?? 'rki-1';
      const e = createECDH('prime256v1');
      e.setPrivateKey(eph.privateKey);
      const z = e.computeSecret(pub);
      const ref = referenceKeys(z, pub, eph.publicKey, sessionId);
      const tag = Buffer.from(ref.tagV);
      if (o.badTag) tag[0] ^= 1;
      const bytes = a.KeyAgreementOffer.encode({
        sessionId, deviceId: 'dev-1', deviceKeySha256: sha256(o.forKey ?? pub), backendEphemeralPublicKey: eph.publicKey,
        expiresMs: (o.expires ?? Date.now() + 60_000) as any, macTagV: tag, kekKeyId: 'rki.kek',
      }).finish();
      return { bytes, sig: signP256(o.signer ?? backend.privateKey, bytes), ref };
    }

    beforeAll(async () => { pub = (await dev.attest.getIdentity()).publicKey; });

    test('before a back-end key is pinned, AGREE_KEK is BAD_STATE', async () => {
      const o = offer();
      await expectTeeError(dev.attest.agreeKek(o.bytes, o.sig), Status.ERROR_BAD_STATE, Origin.TRUSTED_APP);
    });

    test('the back-end key pins once; a different one is refused', async () => {
      expect(await dev.attest.pinBackendKey(backend.publicKey)).toBe(true);
      expect(await dev.attest.pinBackendKey(backend.publicKey)).toBe(false);
      await expectTeeError(dev.attest.pinBackendKey(generateP256().publicKey), Status.ERROR_ACCESS_CONFLICT);
      await expectTeeError(dev.attest.pinBackendKey(new Uint8Array(33)), Status.ERROR_BAD_PARAMETERS);
    });

    test('KEK = SP 800-56C one-step KDF of the ECDH secret; the keystore receives exactly INSTALL_AGREED_KEK', async () => {
      const ks = await dev.ctx.openSession('keystore'); // keeps the stand-in's instance (and its record) alive
      const o = offer();
      const r = await dev.attest.agreeKek(o.bytes, o.sig);
      expect(hex(r.macTagU)).toBe(hex(o.ref.tagU));
      expect(r.keyId).toBe('rki.kek');
      const last = await ks.invoke(2);
      await ks.close();
      expect(hex(last.subarray(0, 16))).toBe(ATTEST_UUID); // the keystore sees attest as its client
      const msg = trusttap.keystore.v1.KeyAttributes; // attributes decoded below
      const raw = last.subarray(16);
      // InstallAgreedKekRequest {key_id = 1, material = 2, attributes = 3}
      const reader = new (await import('protobufjs/minimal.js')).default.Reader(raw);
      const fields: Record<number, Uint8Array> = {};
      while (reader.pos < reader.len) { const t = reader.uint32(); fields[t >>> 3] = reader.bytes(); }
      expect(Buffer.from(fields[1]).toString()).toBe('rki.kek');
      expect(hex(fields[2])).toBe(hex(o.ref.kek));
      const attrs = msg.decode(fields[3]);
      expect(attrs.algorithm).toBe(trusttap.keystore.v1.KeyAlgorithm.KEY_ALGORITHM_AES_256);
      expect(attrs.usage).toBe(trusttap.keystore.v1.KeyUsage.KEY_USAGE_K1_TR31_KBPK);
      expect(attrs.modeOfUse).toBe(trusttap.keystore.v1.ModeOfUse.MODE_OF_USE_D_DECRYPT);
      expect(attrs.exportability).toBe(trusttap.keystore.v1.Exportability.EXPORTABILITY_N_NON_EXPORTABLE);
      expect(r.kcv.length).toBe(5);
    });

    test.each([
      ['signed by another key', { signer: generateP256().privateKey }, Status.ERROR_SIGNATURE_INVALID],
      ['for another device key', { forKey: generateP256().publicKey }, Status.ERROR_BAD_PARAMETERS],
      ['expired', { expires: Date.now() - 1 }, Status.ERROR_BAD_STATE],
      ['wrong back-end confirmation tag', { badTag: true }, Status.ERROR_MAC_INVALID],
    ])('an offer %s is refused and nothing is installed', async (_, o, status) => {
      const ks = await dev.ctx.openSession('keystore');
      const before = hex(await ks.invoke(2));
      const x = offer(o as any);
      await expectTeeError(dev.attest.agreeKek(x.bytes, x.sig), status, Origin.TRUSTED_APP);
      expect(hex(await ks.invoke(2))).toBe(before);
      await ks.close();
    });
  });
});
