// The pure checks of a signed device request (backend/request-verify.ts), each decision by table:
// canonical decoding (trailing bytes, repeated and reordered fields, over-long varints), the
// request's operation, the signature over the exact labelled bytes (the enclosed key for a first
// contact, the enrolled key otherwise; high-S twins refused), the time window exactly at its edge
// and one ms beyond, and the counter bound exactly at the bound and one above.
import { describe, expect, it } from 'vitest';
import {
  boundedCounter, checkTime, counterBound, decodeRequest, MAX_COUNTER_STEP, MAX_SKEW_MS, verifyDeviceSignature, verifyFirstContact, type DecodedRequest,
} from '../../backend/request-verify.ts';
import { ApiError } from '../../backend/errors.ts';
import { u64 } from '../../backend/util.ts';
import { generateP256, signP256 } from '../../backend/crypto/p256.ts';
import { labelled, LABEL } from '../../common/signature-labels.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const a = trusttap.attest.v1;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** (r, n − s): the high-S twin of a low-S signature, valid for plain ECDSA. */
const twin = (sig: Uint8Array) => {
  const out = Uint8Array.from(sig);
  out.set(Buffer.from((N - BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`)).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
};
const cat = (...parts: Array<Uint8Array | number[]>) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** [http, ErrorCode name] of what fn throws, or 'ok'. */
function outcome(fn: () => unknown): [number, string] | 'ok' {
  try { fn(); return 'ok'; } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return [e.http, e.codeName];
  }
}
function thrown(fn: () => unknown): ApiError {
  try { fn(); } catch (e) { if (e instanceof ApiError) return e; throw e; }
  throw new Error('did not throw');
}

const key = generateP256();
const other = generateP256();
const request = (o: trusttap.attest.v1.IDeviceRequest = {}) =>
  a.DeviceRequest.encode({ deviceId: 'dev-1', counter: u64(7), timeMs: u64(1_000), heartbeat: {}, ...o }).finish();
const sign = (req: Uint8Array, priv = key.privateKey) => signP256(priv, labelled(LABEL.deviceRequest, req));
const body = (req = request(), o: trusttap.attest.v1.ISignedDeviceRequest = {}) =>
  a.SignedDeviceRequest.encode({ request: req, signature: sign(req), ...o }).finish();

describe('the bounds', () => {
  it('five minutes of clock skew; a counter step of 2^32', () => {
    expect([MAX_SKEW_MS, MAX_COUNTER_STEP]).toEqual([300_000, 2 ** 32]);
  });
  it('counterBound: the larger of the last accepted and the clock + skew in µs, plus the step, at most 2^53 − 1', () => {
    expect(counterBound(0, 1_000)).toBe(301_000_000 + 2 ** 32);
    expect(counterBound(301_000_000, 1_000)).toBe(301_000_000 + 2 ** 32);
    expect(counterBound(301_000_001, 1_000)).toBe(301_000_001 + 2 ** 32);
    expect(counterBound(5, 0)).toBe(300_000_000 + 2 ** 32);
    expect(counterBound(Number.MAX_SAFE_INTEGER - 2 ** 32, 0)).toBe(Number.MAX_SAFE_INTEGER);
    expect(counterBound(Number.MAX_SAFE_INTEGER - 2 ** 32 + 1, 0)).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('the counter against the bound (409 ERROR_COUNTER_JUMP)', () => {
  const bound = counterBound(10, 1_000);
  const table: Array<[string, unknown, number | [number, string]]> = [
    ['exactly at the bound', bound, bound],
    ['one above the bound', bound + 1, [409, 'ERROR_COUNTER_JUMP']],
    ['below the last accepted (the store refuses it as a replay, not this check)', 3, 3],
    ['absent: 0', undefined, 0],
    ['null: 0', null, 0],
    ['a Long-like decimal within the bound', { toString: () => String(bound) }, bound],
    ['a Long-like decimal one above', { toString: () => String(bound + 1) }, [409, 'ERROR_COUNTER_JUMP']],
    ['2^64 − 1', { toString: () => '18446744073709551615' }, [409, 'ERROR_COUNTER_JUMP']],
    ['negative', -1, [409, 'ERROR_COUNTER_JUMP']],
    ['not an integer', 1.5, [409, 'ERROR_COUNTER_JUMP']],
    ['not a number', { toString: () => 'x' }, [409, 'ERROR_COUNTER_JUMP']],
  ];
  for (const [what, counter, want] of table) {
    it(what, () => {
      if (typeof want === 'number') expect(boundedCounter(counter, 10, 1_000)).toBe(want);
      else expect(outcome(() => boundedCounter(counter, 10, 1_000))).toEqual(want);
    });
  }
  it('the refusal names the bound and the last accepted', () => {
    expect(thrown(() => boundedCounter(bound + 1, 10, 1_000)).message).toContain(`at most ${bound} now, last accepted 10`);
  });
});

describe('the request time (400 when absent, 409 ERROR_REPLAY outside the window)', () => {
  const now = 10_000_000;
  const table: Array<[string, number | undefined, [number, string] | 'ok']> = [
    ['the back end\'s own time', now, 'ok'],
    ['exactly 5 min behind', now - MAX_SKEW_MS, 'ok'],
    ['5 min and 1 ms behind', now - MAX_SKEW_MS - 1, [409, 'ERROR_REPLAY']],
    ['exactly 5 min ahead', now + MAX_SKEW_MS, 'ok'],
    ['5 min and 1 ms ahead', now + MAX_SKEW_MS + 1, [409, 'ERROR_REPLAY']],
    ['absent', undefined, [400, 'ERROR_MALFORMED']],
    ['0 (the protobuf default)', 0, [400, 'ERROR_MALFORMED']],
  ];
  for (const [what, timeMs, want] of table) it(what, () => expect(outcome(() => checkTime({ timeMs }, now))).toEqual(want));
});

describe('decoding (400 ERROR_MALFORMED): canonical bytes only, the endpoint\'s operation, a 64-byte signature', () => {
  it('a canonical request decodes; the signed message is the labelled request bytes', () => {
    const req = request();
    const d = decodeRequest(body(req), 'heartbeat');
    expect(d.req.deviceId).toBe('dev-1');
    expect(d.signed.request).toEqual(req);
    expect(d.message).toEqual(labelled(LABEL.deviceRequest, req));
  });
  const req = request();
  const sig = sign(req);
  const table: Array<[string, Uint8Array, RegExp]> = [
    ['trailing bytes after the SignedDeviceRequest', cat(body(req), [0x78, 0x01]), /the SignedDeviceRequest is not in canonical/],
    ['trailing bytes inside the request', body(cat(req, [0x78, 0x01])), /the request is not in canonical/],
    ['a repeated field in the request', body(cat(req, a.DeviceRequest.encode({ counter: u64(7) }).finish())), /canonical/],
    ['fields out of order in the request', body(cat(a.DeviceRequest.encode({ counter: u64(7), timeMs: u64(1_000), heartbeat: {} }).finish(), a.DeviceRequest.encode({ deviceId: 'dev-1' }).finish())), /canonical/],
    ['an over-long varint (the counter 7 as 0x87 0x00)', body(cat([0x0a, 5, ...Buffer.from('dev-1'), 0x10, 0x87, 0x00], a.DeviceRequest.encode({ timeMs: u64(1_000), heartbeat: {} }).finish())), /canonical/],
    ['the signed envelope\'s fields reordered', cat(a.SignedDeviceRequest.encode({ signature: sig }).finish(), a.SignedDeviceRequest.encode({ request: req }).finish()), /canonical/],
    ['bytes that do not decode', Uint8Array.of(0x0a, 0x7f, 0x01), /does not decode/],
    ['an empty request', a.SignedDeviceRequest.encode({ signature: sig }).finish(), /request is empty/],
    ['a 63-byte signature', body(req, { signature: sig.subarray(0, 63) }), /64 bytes/],
    ['a 65-byte signature', body(req, { signature: cat(sig, [0]) }), /64 bytes/],
    ['no signature', body(req, { signature: new Uint8Array(0) }), /64 bytes/],
    ['another operation\'s request', body(request({ heartbeat: null, attest: {} })), /takes a heartbeat request, the body holds attest/],
    ['a request without an operation', body(a.DeviceRequest.encode({ deviceId: 'dev-1', counter: u64(7), timeMs: u64(1_000) }).finish()), /the body holds nothing/],
  ];
  for (const [what, bytes, message] of table) {
    it(what, () => {
      const e = thrown(() => decodeRequest(bytes, 'heartbeat'));
      expect([e.http, e.codeName]).toEqual([400, 'ERROR_MALFORMED']);
      expect(e.message).toMatch(message);
    });
  }
});

describe('the signature over the exact labelled bytes', () => {
  const firstReq = request({ deviceId: '', heartbeat: null, challenge: {} });
  const first = (o: trusttap.attest.v1.ISignedDeviceRequest = {}, bodyField = 'challenge'): DecodedRequest =>
    decodeRequest(body(firstReq, { publicKey: key.publicKey, ...o }), bodyField);
  const unlabelled = signP256(key.privateKey, firstReq);
  const firstTable: Array<[string, () => DecodedRequest, boolean, [number, string] | 'ok']> = [
    ['first contact signed by the enclosed key', () => first(), true, 'ok'],
    ['first contact on an operation that needs a device id', () => first(), false, [400, 'ERROR_MALFORMED']],
    ['no enclosed key', () => first({ publicKey: new Uint8Array(0) }), true, [400, 'ERROR_MALFORMED']],
    ['an enclosed key that is not a P-256 point', () => first({ publicKey: cat([4], new Uint8Array(64).fill(1)) }), true, [400, 'ERROR_MALFORMED']],
    ['a compressed point', () => first({ publicKey: cat([2], key.publicKey.subarray(1, 33)) }), true, [400, 'ERROR_MALFORMED']],
    ['signed by another key than the enclosed one', () => first({ publicKey: other.publicKey }), true, [401, 'ERROR_BAD_SIGNATURE']],
    ['the high-S twin of the signature', () => first({ signature: twin(sign(firstReq)) }), true, [401, 'ERROR_BAD_SIGNATURE']],
    ['a signature over the bare request (no label)', () => first({ signature: unlabelled }), true, [401, 'ERROR_BAD_SIGNATURE']],
  ];
  for (const [what, d, firstOp, want] of firstTable) it(what, () => expect(outcome(() => verifyFirstContact(d(), firstOp))).toEqual(want));
  it('first contact returns the enclosed key', () => expect(Buffer.from(verifyFirstContact(first(), true))).toEqual(Buffer.from(key.publicKey)));

  const req = request();
  const dev = (o: trusttap.attest.v1.ISignedDeviceRequest = {}) => decodeRequest(body(req, o), 'heartbeat');
  const deviceTable: Array<[string, () => DecodedRequest, Uint8Array | undefined, [number, string] | 'ok']> = [
    ['signed by the enrolled key', () => dev(), key.publicKey, 'ok'],
    ['no such device', () => dev(), undefined, [404, 'ERROR_UNKNOWN_DEVICE']],
    ['a device with no key (not yet enrolled)', () => dev(), new Uint8Array(0), [404, 'ERROR_UNKNOWN_DEVICE']],
    ['signed by another key', () => dev(), other.publicKey, [401, 'ERROR_BAD_SIGNATURE']],
    ['an enclosed key is not what is checked', () => dev({ publicKey: other.publicKey, signature: sign(req, other.privateKey) }), key.publicKey, [401, 'ERROR_BAD_SIGNATURE']],
    ['the high-S twin of the signature', () => dev({ signature: twin(sign(req)) }), key.publicKey, [401, 'ERROR_BAD_SIGNATURE']],
    ['a signature over the bare request (no label)', () => dev({ signature: signP256(key.privateKey, req) }), key.publicKey, [401, 'ERROR_BAD_SIGNATURE']],
    ['a signature over another request', () => dev({ signature: sign(request({ counter: u64(8) })) }), key.publicKey, [401, 'ERROR_BAD_SIGNATURE']],
  ];
  for (const [what, d, deviceKey, want] of deviceTable) it(what, () => expect(outcome(() => verifyDeviceSignature(d(), deviceKey))).toEqual(want));
  it('the unknown device is named', () => expect(thrown(() => verifyDeviceSignature(dev(), undefined)).message).toContain('dev-1'));
});
