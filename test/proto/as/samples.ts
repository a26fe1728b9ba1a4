// Known messages built with the generated AS API. sample(k) encodes one into OUT for the test to
// decode with protobufjs; verify(k, len) decodes IN[0..len) (written by protobufjs from the
// same values, see codec.test.ts SAMPLES) and checks every field here, so the AS decoder is
// checked against fixed values and not only against its own encoder.
import {
  Scalars, Packed, Unpacked, Optionals, Leaf, Outer, Outer_Nested, Outer_Nested_Kind, Color,
} from "../gen/as/codec_test";
import { Ref, Color as DepColor } from "../gen/as/codec_import";

function bytesOf(a: i32[]): Uint8Array {
  const b = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) b[i] = <u8>a[i];
  return b;
}

function eqBytes(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}

function scalars(): Scalars {
  const m = new Scalars();
  m.i32 = -2;
  m.i64 = -9007199254740993;
  m.u32 = 4294967295;
  m.u64 = 18446744073709551615;
  m.s32 = -2147483648;
  m.s64 = 9223372036854775807;
  m.f32 = 0xdeadbeef;
  m.f64 = 0x0123456789abcdef;
  m.sf32 = -1;
  m.sf64 = -9223372036854775808;
  m.flag = true;
  m.text = "PIN \u00e9\u20ac\ud83d\udd11";
  m.data = bytesOf([0, 255, 1]);
  m.color = Color.COLOR_NEGATIVE;
  m.type = 7;
  m.keyId = "k-1";
  return m;
}

function packed(): Packed {
  const m = new Packed();
  m.i32 = [-1, 0, 1, 2147483647];
  m.i64 = [-1, <i64>1 << 40];
  m.u32 = [0, 300, 4294967295];
  m.u64 = [18446744073709551615];
  m.s32 = [-1, 1, -2147483648];
  m.s64 = [-1, -9223372036854775808];
  m.f32 = [1, 0xffffffff];
  m.f64 = [2];
  m.sf32 = [-3];
  m.sf64 = [-4];
  m.flag = [true, false, true];
  m.color = [Color.COLOR_RED, Color.COLOR_NEGATIVE, <Color>99];
  return m;
}

function unpacked(): Unpacked {
  const m = new Unpacked();
  m.i32 = [-1, 5];
  m.u64 = [1, 18446744073709551615];
  m.s32 = [-5];
  m.f32 = [7, 8];
  m.sf64 = [-9];
  m.flag = [false, true];
  m.color = [Color.COLOR_GREEN];
  m.text = ["", "a"];
  m.data = [new Uint8Array(0), bytesOf([1, 2])];
  return m;
}

function optionals(): Optionals {
  // Every field present with its default value: presence must survive.
  const m = new Optionals();
  m.setI32(0).setU64(0).setS32(0).setF64(0).setFlag(false).setText("").setData(new Uint8Array(0));
  m.setColor(Color.COLOR_UNSPECIFIED).setLeaf(new Leaf());
  return m;
}

function outer(): Outer {
  const m = new Outer();
  const n = new Outer_Nested();
  n.kind = Outer_Nested_Kind.KIND_B;
  n.note = "n";
  m.nested = n;
  m.setMsg(new Leaf()); // empty, but the active member: must be written as 52 00
  const a = new Outer_Nested();
  a.kind = Outer_Nested_Kind.KIND_A;
  m.items.push(a);
  m.items.push(new Outer_Nested());
  const ref = new Ref();
  ref.id = bytesOf([9]);
  ref.color = DepColor.COLOR_MAGENTA;
  ref.deltas = [-1, 1];
  m.ref = ref;
  m.depColor = DepColor.COLOR_CYAN;
  m.setCode(0); // scalar member with its default value: still written
  m.last = -1;
  return m;
}

export function sample(k: i32, out: usize): i32 {
  let b: Uint8Array;
  switch (k) {
    case 0: b = scalars().encode(); break;
    case 1: b = packed().encode(); break;
    case 2: b = unpacked().encode(); break;
    case 3: b = optionals().encode(); break;
    case 4: b = outer().encode(); break;
    default: return -1;
  }
  memory.copy(out, b.dataStart, <usize>b.length);
  return b.length;
}

/** 1 if input decodes to exactly sample k's values, 0 if not, -err if it does not decode. */
export function verify(k: i32, input: Uint8Array): i32 {
  switch (k) {
    case 0: {
      const m = Scalars.decode(input);
      if (m == null) return -1;
      const e = scalars();
      return <i32>(m.i32 == e.i32 && m.i64 == e.i64 && m.u32 == e.u32 && m.u64 == e.u64 && m.s32 == e.s32 &&
        m.s64 == e.s64 && m.f32 == e.f32 && m.f64 == e.f64 && m.sf32 == e.sf32 && m.sf64 == e.sf64 &&
        m.flag == e.flag && m.text == e.text && eqBytes(m.data, e.data) && m.color == e.color &&
        m.type == e.type && m.keyId == e.keyId);
    }
    case 1: {
      const m = Packed.decode(input);
      if (m == null) return -1;
      const e = packed();
      return <i32>(m.i32.join() == e.i32.join() && m.i64.join() == e.i64.join() && m.u32.join() == e.u32.join() &&
        m.u64.join() == e.u64.join() && m.s32.join() == e.s32.join() && m.s64.join() == e.s64.join() &&
        m.f32.join() == e.f32.join() && m.f64.join() == e.f64.join() && m.sf32.join() == e.sf32.join() &&
        m.sf64.join() == e.sf64.join() && m.flag.join() == e.flag.join() && m.color.join() == e.color.join());
    }
    case 2: {
      const m = Unpacked.decode(input);
      if (m == null) return -1;
      const e = unpacked();
      return <i32>(m.i32.join() == e.i32.join() && m.u64.join() == e.u64.join() && m.s32.join() == e.s32.join() &&
        m.f32.join() == e.f32.join() && m.sf64.join() == e.sf64.join() && m.flag.join() == e.flag.join() &&
        m.color.join() == e.color.join() && m.text.join("|") == e.text.join("|") && m.data.length == 2 &&
        eqBytes(m.data[0], e.data[0]) && eqBytes(m.data[1], e.data[1]));
    }
    case 3: {
      const m = Optionals.decode(input);
      if (m == null) return -1;
      return <i32>(m.hasI32 && m.hasU64 && m.hasS32 && m.hasF64 && m.hasFlag && m.hasText && m.hasData &&
        m.hasColor && m.hasLeaf && m.leaf != null && m.i32 == 0 && !m.flag && m.text == "");
    }
    case 4: {
      const m = Outer.decode(input);
      if (m == null) return -1;
      const n = m.nested;
      const ref = m.ref;
      return <i32>(n != null && n.kind == Outer_Nested_Kind.KIND_B && n.note == "n" &&
        m.bodyCase == Outer.BODY_MSG && m.msg != null && m.items.length == 2 &&
        m.items[0].kind == Outer_Nested_Kind.KIND_A && m.items[1].note == "" &&
        ref != null && eqBytes(ref!.id, bytesOf([9])) && ref!.color == DepColor.COLOR_MAGENTA &&
        ref!.deltas.join() == "-1,1" && m.depColor == DepColor.COLOR_CYAN &&
        m.choiceCase == Outer.CHOICE_CODE && m.code == 0 && m.last == -1 && m.leaf == null);
    }
  }
  return -2;
}
