// The AssemblyScript codec against protobufjs: byte-identical encodings, each side decodes the
// other's, wire-compatibility rules, and typed errors (never a trap) on malformed input.
import Long from 'long';
import protobuf from 'protobufjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadHarness, type Harness } from './harness.ts';
import { randomMessage, rng } from './random.ts';
import { hex, pbjsReencode, root, staticClass, unhex } from './common.ts';

// DecodeError in proto/as/pb.ts
const E = { TRUNCATED: 1, VARINT_TOO_LONG: 2, BAD_WIRE_TYPE: 3, LENGTH_OUT_OF_RANGE: 4, INVALID_UTF8: 5, NESTING_TOO_DEEP: 6, BAD_FIELD_NUMBER: 7 };

let h: Harness;
const idx = (name: string) => {
  const t = h.types.find((x) => x.fullName === name);
  if (!t) throw new Error(`type ${name} not in harness`);
  return t.index;
};
const enc = (name: string, obj: object) => staticClass(name).encode(obj).finish();

beforeAll(async () => {
  h = await loadHarness();
});
afterEach(() => {
  expect(h.aborts).toEqual([]);
});

const RANDOM_PER_TYPE = 400;

describe('AS encoding is byte-identical to protobufjs', () => {
  it('covers every message type of proto/*.proto and the fixtures', () => {
    const all: string[] = [];
    const walk = (ns: protobuf.NamespaceBase) => {
      for (const o of ns.nestedArray) {
        if (o instanceof protobuf.Type) all.push(o.fullName.slice(1));
        if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) walk(o as protobuf.NamespaceBase);
      }
    };
    walk(root);
    expect(h.types.map((t) => t.fullName).sort()).toEqual(all.sort());
    expect(h.types.length).toBeGreaterThanOrEqual(10);
  });

  it(`${RANDOM_PER_TYPE} random messages per type: AS decode → re-encode equals protobufjs bytes`, () => {
    let checked = 0;
    for (const t of h.types) {
      const type = root.lookupType(t.fullName);
      const r = rng(0x5eed + t.index);
      for (let i = 0; i < RANDOM_PER_TYPE; i++) {
        const obj = randomMessage(type, r);
        const bytes = enc(t.fullName, obj);
        // the static module and reflection agree (the TS side is what we think it is)
        expect(hex(type.encode(type.fromObject(obj)).finish()), t.fullName).toBe(hex(bytes));
        const res = h.roundtrip(t.index, bytes);
        if (res.code < 0 || hex(res.out) !== hex(bytes)) {
          throw new Error(`${t.fullName} #${i}: input ${hex(bytes)} → AS ${res.code < 0 ? `error ${-res.code}@${res.pos}` : hex(res.out)}`);
        }
        // protobufjs decodes the AS output to the same object
        const C = staticClass(t.fullName);
        const opts = { longs: String, bytes: String, defaults: true, oneofs: true } as const;
        expect(C.toObject(C.decode(res.out), opts)).toEqual(C.toObject(C.decode(bytes), opts));
        checked++;
      }
    }
    expect(checked).toBe(RANDOM_PER_TYPE * h.types.length);
  });
});

// The same values as test/proto/as/samples.ts builds with the generated AS API.
const L = (s: string, unsigned = false) => Long.fromString(s, unsigned);
const SAMPLES: Array<[string, object]> = [
  ['trusttap.test.v1.Scalars', {
    i32: -2, i64: L('-9007199254740993'), u32: 4294967295, u64: L('18446744073709551615', true),
    s32: -2147483648, s64: L('9223372036854775807'), f32: 0xdeadbeef, f64: Long.fromBits(0x89abcdef, 0x01234567, true),
    sf32: -1, sf64: L('-9223372036854775808'), flag: true, text: 'PIN é€🔑', data: new Uint8Array([0, 255, 1]),
    color: -5, type: 7, keyId: 'k-1',
  }],
  ['trusttap.test.v1.Packed', {
    i32: [-1, 0, 1, 2147483647], i64: [Long.fromInt(-1), Long.fromBits(0, 256)], u32: [0, 300, 4294967295],
    u64: [L('18446744073709551615', true)], s32: [-1, 1, -2147483648], s64: [Long.fromInt(-1), Long.MIN_VALUE],
    f32: [1, 0xffffffff], f64: [Long.fromInt(2, true)], sf32: [-3], sf64: [Long.fromInt(-4)], flag: [true, false, true],
    color: [1, -5, 99],
  }],
  ['trusttap.test.v1.Unpacked', {
    i32: [-1, 5], u64: [Long.fromInt(1, true), L('18446744073709551615', true)], s32: [-5], f32: [7, 8],
    sf64: [Long.fromInt(-9)], flag: [false, true], color: [2], text: ['', 'a'], data: [new Uint8Array(0), new Uint8Array([1, 2])],
  }],
  ['trusttap.test.v1.Optionals', {
    i32: 0, u64: Long.UZERO, s32: 0, f64: Long.UZERO, flag: false, text: '', data: new Uint8Array(0), color: 0, leaf: {},
  }],
  ['trusttap.test.v1.Outer', {
    nested: { kind: 2, note: 'n' }, msg: {}, items: [{ kind: 1 }, {}],
    ref: { id: new Uint8Array([9]), color: 2, deltas: [Long.fromInt(-1), Long.fromInt(1)] }, depColor: 1, code: 0, last: -1,
  }],
];

describe('each side decodes the other', () => {
  SAMPLES.forEach(([name, obj], k) => {
    it(`${name}: AS-built message = protobufjs bytes; AS decodes protobufjs's to the same values`, () => {
      const pb = enc(name, obj);
      const as = h.sample(k);
      expect(hex(as)).toBe(hex(pb));
      const C = staticClass(name);
      const opts = { longs: String, bytes: String, defaults: true } as const;
      expect(C.toObject(C.decode(as), opts)).toEqual(C.toObject(C.decode(pb), opts));
      expect(h.verify(k, pb)).toBe(1);
    });
  });

  it('the empty active oneof member and present-but-default optionals are on the wire', () => {
    expect(hex(h.sample(4))).toContain('5200'); // Outer.msg = {} (field 10, length 0)
    expect(hex(h.sample(3))).toBe('080010001800210000000000000000280032003a0040004a00');
  });
});

describe('wire compatibility', () => {
  const Packed = 'trusttap.test.v1.Packed';
  const Unpacked = 'trusttap.test.v1.Unpacked';
  const Scalars = 'trusttap.test.v1.Scalars';
  const Outer = 'trusttap.test.v1.Outer';
  const cases: Array<[string, string, string]> = [
    // [type, input, why]
    [Packed, '1801 1802 18ac02', 'unpacked input for a packed field'],
    [Packed, '1a0101 1a020203', 'two packed runs are concatenated'],
    [Unpacked, '0a03 01 02 7f', 'packed input for a [packed=false] field'],
    [Unpacked, '0801 0a020203 0804', 'packed and unpacked mixed'],
    [Scalars, '0805 0807', 'last scalar wins'],
    [Scalars, 'a80601 0801 b2060161 f50601020304 f9060102030405060708', 'unknown fields of every wire type are skipped'],
    [Scalars, '0a0101 0801', 'a known field with another wire type is skipped like an unknown one'],
    [Outer, '0a020801 0a03120161', 'a repeated embedded message merges'],
    [Outer, '5a0161 6001', 'a later oneof member replaces the earlier one'],
    [Outer, '52020801 520312 01aa', 'the same oneof message member merges'],
    [Outer, '52020801 5a00 52031201aa', 'another oneof member in between: the message starts afresh'],
    [Scalars, '', 'empty input is the default message'],
  ];
  for (const [type, input, why] of cases) {
    it(why, () => {
      const bytes = unhex(input);
      const res = h.roundtrip(idx(type), bytes);
      expect(res.code, `${type} ${input}`).toBeGreaterThanOrEqual(0);
      expect(hex(res.out)).toBe(hex(pbjsReencode(type, bytes)!));
    });
  }
});

describe('malformed input gives a typed error, never a trap', () => {
  const S = 'trusttap.test.v1.Scalars';
  const P = 'trusttap.test.v1.Packed';
  const O = 'trusttap.test.v1.Outer';
  const T = 'trusttap.test.v1.Tree';
  // The last column marks the one place we are stricter than protobufjs: it skips unknown
  // groups (proto2), we refuse wire types 3 and 4 everywhere.
  const cases: Array<[string, string, number, string, boolean?]> = [
    [O, '0a', E.TRUNCATED, 'length prefix missing'],
    [S, '08', E.TRUNCATED, 'varint missing'],
    [S, '0880', E.TRUNCATED, 'varint cut in the middle'],
    [S, '4101020304', E.TRUNCATED, 'fixed64 cut'],
    [S, '3d0102', E.TRUNCATED, 'fixed32 cut'],
    [S, '08ffffffffffffffffffff01', E.VARINT_TOO_LONG, '11-byte varint'],
    [S, '0b', E.BAD_WIRE_TYPE, 'wire type 3 (start group)'],
    [S, '0c', E.BAD_WIRE_TYPE, 'wire type 4 (end group)'],
    [S, '0e00', E.BAD_WIRE_TYPE, 'wire type 6'],
    [S, '0f00', E.BAD_WIRE_TYPE, 'wire type 7'],
    [S, '9303 9403', E.BAD_WIRE_TYPE, 'unknown field as a group', true],
    [S, '6a050102', E.LENGTH_OUT_OF_RANGE, 'bytes length past the end'],
    [S, '6affffffff0f00', E.LENGTH_OUT_OF_RANGE, 'length 2^32-1'],
    [S, '6affffffffffffffffff0100', E.LENGTH_OUT_OF_RANGE, 'length 2^64-1'],
    [O, '0a03 1205 41 4243444546', E.LENGTH_OUT_OF_RANGE, 'nested length past the end of its parent'],
    [O, '0a05 1a02 08', E.LENGTH_OUT_OF_RANGE, 'message length past the end of the buffer'],
    [P, '3a05 01000000 02', E.TRUNCATED, 'packed fixed32 with a partial element'],
    [P, '1a01 80 08', E.TRUNCATED, 'packed varint running past the packed length'],
    [S, '0000', E.BAD_FIELD_NUMBER, 'field number 0'],
    [S, '8080808080 01 00', E.BAD_FIELD_NUMBER, 'tag wider than 32 bits'],
    [S, '888080808000 00', E.BAD_FIELD_NUMBER, 'tag of field 1 in 6 bytes (overlong)'],
    [S, '88808080808080808074 00', E.BAD_FIELD_NUMBER, 'tag in 10 bytes whose bits above 64 would wrap to field 1'],
    [S, '6202 c328', E.INVALID_UTF8, 'bad continuation byte'],
    [S, '6202 c080', E.INVALID_UTF8, 'overlong NUL'],
    [S, '6203 eda080', E.INVALID_UTF8, 'UTF-16 surrogate'],
    [S, '6204 f4908080', E.INVALID_UTF8, 'above U+10FFFF'],
    [S, '6201 e2', E.INVALID_UTF8, 'sequence cut by the field end'],
    [S, '6201 ff', E.INVALID_UTF8, '0xff byte'],
  ];
  for (const [type, input, code, why, pbjsAccepts] of cases) {
    it(`${why} → ${Object.entries(E).find(([, v]) => v === code)![0]}`, () => {
      const bytes = unhex(input);
      const res = h.roundtrip(idx(type), bytes);
      expect(-res.code, `${type} ${input}`).toBe(code);
      expect(res.pos).toBeGreaterThanOrEqual(0);
      expect(res.pos).toBeLessThanOrEqual(bytes.length);
      // protobufjs rejects it too: the two sides never disagree on these
      if (pbjsAccepts) expect(pbjsReencode(type, bytes)).not.toBeNull();
      else expect(pbjsReencode(type, bytes)).toBeNull();
    });
  }

  it('reports where the error is', () => {
    const res = h.roundtrip(idx(S), unhex('0801 6a050102'));
    expect(res.code).toBe(-E.LENGTH_OUT_OF_RANGE);
    expect(res.pos).toBe(4); // after the length varint
  });

  const chain = (depth: number) => {
    // Tree{next: Tree{next: ...}} with depth levels below the top
    let b = new Uint8Array(0);
    for (let i = 0; i < depth; i++) {
      const lenBytes = protobuf.Writer.create().uint32(b.length).finish();
      b = new Uint8Array([0x1a, ...lenBytes, ...b]);
    }
    return b;
  };
  it('nesting: 31 levels below the top decode, 32 are NESTING_TOO_DEEP, 5000 do not trap', () => {
    expect(h.roundtrip(idx(T), chain(31)).code).toBe(chain(31).length);
    expect(-h.roundtrip(idx(T), chain(32)).code).toBe(E.NESTING_TOO_DEEP);
    expect(-h.roundtrip(idx(T), chain(5000)).code).toBe(E.NESTING_TOO_DEEP);
    // a huge claimed depth inside a packed/bytes field is just bytes
    const deepBytes = new Uint8Array([0x6a, 0x7f, ...new Uint8Array(127).fill(0x1a)]);
    expect(h.roundtrip(idx(S), deepBytes).code).toBe(deepBytes.length);
  });

  it('truncation at every offset of rich messages of every type: AS and protobufjs agree, never a trap', () => {
    let cuts = 0;
    for (const t of h.types) {
      const type = root.lookupType(t.fullName);
      const r = rng(0xc0ffee + t.index);
      // the largest of a few random messages, so most fields are present
      let bytes: Uint8Array = new Uint8Array(0);
      for (let i = 0; i < 20; i++) {
        const b = enc(t.fullName, randomMessage(type, r));
        if (b.length > bytes.length) bytes = b;
      }
      for (let n = 0; n < bytes.length; n++) {
        const cut = bytes.subarray(0, n);
        const res = h.roundtrip(t.index, cut);
        const pb = pbjsReencode(t.fullName, cut);
        if (res.code >= 0) {
          expect(pb, `${t.fullName} cut ${n} of ${hex(bytes)}`).not.toBeNull();
          expect(hex(res.out)).toBe(hex(pb!));
        } else {
          expect(-res.code).toBeGreaterThanOrEqual(1);
          expect(-res.code).toBeLessThanOrEqual(7);
          expect(pb, `${t.fullName} cut ${n} of ${hex(bytes)}: AS error ${-res.code}`).toBeNull();
        }
        cuts++;
      }
    }
    expect(cuts).toBeGreaterThan(1000);
  });
});

describe('runtime varint reader', () => {
  const cases: Array<[string, bigint, number, number]> = [
    ['00', 0n, 0, 1],
    ['7f', 127n, 0, 1],
    ['8001', 128n, 0, 2],
    ['ffffffffffffffffff01', 0xffffffffffffffffn, 0, 10],
    ['ffffffffffffffffff7f', 0xffffffffffffffffn, 0, 10], // bits past 64 dropped, as protobufjs
    ['80808080808080808080', 0n, E.VARINT_TOO_LONG, 10],
    ['ff', 0n, E.TRUNCATED, 1],
    ['', 0n, E.TRUNCATED, 0],
  ];
  for (const [input, value, err, pos] of cases) {
    it(`${input || '(empty)'} → ${err ? `error ${err}` : value}`, () => {
      const r = h.readVarint(unhex(input));
      expect(r.err).toBe(err);
      if (!err) {
        expect(r.value).toBe(value);
        expect(r.pos).toBe(pos);
      }
    });
  }
});
