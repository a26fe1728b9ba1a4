// The primitives common/ and ree/ now compute without node:crypto or Buffer, checked against
// their standards' examples and differentially against node:crypto / Buffer: SM3, base64, hex,
// EMV RSA recovery by BigInt, the Ed25519 PEM reader of the manifest check, the terminal
// configuration signature.
import { describe, expect, test } from 'vitest';
import { constants, createHash, createPublicKey, generateKeyPairSync, publicDecrypt, randomBytes } from 'node:crypto';
import { sm3 } from '../../common/sm3.ts';
import { Base64Error, fromBase64, latin1, toBase64 } from '../../common/base64.ts';
import { fromHex, toHex, HexError } from '../../common/hex.ts';
import { rsaRecover } from '../../ree/emv/oda/rsa.ts';
import { ed25519FromPem, ed25519KeyId, verifyManifestSignature } from '../../common/manifest.ts';
import { LoadError } from '../../common/load-error.ts';
import { publicKeyId, signManifestBytes } from '../../tee/loader/manifest.ts';
import { ConfigError, loadSignedConfig, signConfig } from '../../common/emv/signed-config.ts';
import { testConfigSigningKey, testTerminalConfig } from '../../sim/test-terminal-config.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('SM3 (GB/T 32905-2016)', () => {
  test('the standard\'s examples A.1 ("abc") and A.2 (64 bytes)', () => {
    expect(toHex(sm3(enc('abc')))).toBe('66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0');
    expect(toHex(sm3(enc('abcd'.repeat(16))))).toBe('DEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732');
  });
  test('equals node:crypto sm3 at every length across the padding boundaries, and over parts', () => {
    for (let n = 0; n <= 200; n++) {
      const m = randomBytes(n);
      expect(toHex(sm3(m)), `length ${n}`).toBe(createHash('sm3').update(m).digest('hex').toUpperCase());
    }
    const m = randomBytes(300);
    expect(sm3(m.subarray(0, 7), m.subarray(7, 150), m.subarray(150))).toEqual(sm3(m));
  });
});

describe('base64, hex, Latin-1 without Buffer', () => {
  test('equal Buffer\'s encodings at every length; decoding takes both alphabets', () => {
    for (let n = 0; n < 70; n++) {
      const b = randomBytes(n);
      expect(toBase64(b)).toBe(b.toString('base64'));
      expect(toBase64(b, true)).toBe(b.toString('base64url'));
      expect(fromBase64(b.toString('base64'))).toEqual(new Uint8Array(b));
      expect(fromBase64(b.toString('base64url'))).toEqual(new Uint8Array(b));
      expect(toHex(b)).toBe(b.toString('hex').toUpperCase());
      expect(fromHex(b.toString('hex'))).toEqual(new Uint8Array(b));
    }
    expect(latin1(Uint8Array.of(0x43, 0x50, 0xe9))).toBe(Buffer.from([0x43, 0x50, 0xe9]).toString('latin1'));
  });
  test('malformed input is a typed error, not a silent truncation', () => {
    expect(() => fromBase64('ab$d')).toThrow(Base64Error);
    expect(() => fromBase64('abcde')).toThrow(Base64Error);
    for (const bad of ['abc===', 'ab=d', 'ab€d', 'ab d', 'a===']) expect(() => fromBase64(bad)).toThrow(Base64Error);
    expect(fromBase64('YQ')).toEqual(Uint8Array.of(0x61)); // padding optional
    expect(fromBase64('YQ==')).toEqual(Uint8Array.of(0x61));
    expect(fromBase64('-_8')).toEqual(fromBase64('+/8')); // both alphabets, mixed too
    expect(() => fromHex('0G')).toThrow(HexError);
    expect(() => fromHex('ABC')).toThrow(HexError);
  });
});

describe('EMV RSA recovery (BigInt)', () => {
  test('equals OpenSSL RSA_NO_PADDING for e = 3 and e = 65537', () => {
    for (const publicExponent of [3, 65537]) {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024, publicExponent });
      const jwk = publicKey.export({ format: 'jwk' });
      const key = { modulus: new Uint8Array(Buffer.from(jwk.n!, 'base64url')), exponent: new Uint8Array(Buffer.from(jwk.e!, 'base64url')) };
      for (let i = 0; i < 5; i++) {
        const x = randomBytes(key.modulus.length);
        x[0] = 0x6a; // below the modulus (its top bit is set)
        expect(rsaRecover(key, x)).toEqual(new Uint8Array(publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, x)));
      }
      expect(() => rsaRecover(key, new Uint8Array(key.modulus.length).fill(0xff))).toThrow(RangeError);
      expect(() => rsaRecover(key, new Uint8Array(10))).toThrow(RangeError);
    }
  });
});

describe('the manifest\'s Ed25519 key handling (@noble, no node:crypto)', () => {
  test('reads an SPKI PEM, names the key as node:crypto does, verifies what node:crypto signed', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const raw = ed25519FromPem(pem);
    expect(raw).toEqual(new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')));
    expect(ed25519KeyId(raw)).toBe(publicKeyId(publicKey));
    const bytes = enc('{"version":1}\n');
    const sig = signManifestBytes(bytes, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    expect(() => verifyManifestSignature(bytes, sig, pem)).not.toThrow();
    expect(() => verifyManifestSignature(enc('{"version":2}\n'), sig, pem)).toThrow(/BAD_SIGNATURE/);
  });
  test('anything but an Ed25519 public key is BAD_SIGNATURE with the reason', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    for (const [key, why] of [[p256, /must be Ed25519/], ['not a key', /unreadable/]] as const) {
      try { ed25519FromPem(key); expect.unreachable(); } catch (e) {
        expect(e).toBeInstanceOf(LoadError);
        expect((e as LoadError).code).toBe('BAD_SIGNATURE');
        expect((e as LoadError).message).toMatch(why);
      }
    }
  });
});

describe('the signed terminal configuration (raw Ed25519 keys)', () => {
  test('a configuration signed with the seed loads with the public key; another key or an edit is refused', () => {
    const key = testConfigSigningKey();
    const doc = signConfig(testTerminalConfig(), key.privateKey);
    expect(loadSignedConfig(doc, key.publicKey).version).toBe(1);
    const other = createPublicKey({ key: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) }).export({ format: 'jwk' });
    expect(() => loadSignedConfig(doc, new Uint8Array(Buffer.from(other.x!, 'base64url')))).toThrow(ConfigError);
    expect(() => loadSignedConfig({ ...doc, config: { ...doc.config, terminalType: '21' } }, key.publicKey)).toThrow(/does not verify/);
    expect(() => loadSignedConfig(doc, key.publicKey.subarray(0, 31))).toThrow(ConfigError);
  });
});
