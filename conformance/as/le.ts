// Little-endian u32 fields of the kit's test-TA commands (one copy for every test TA).

export function u32At(b: Uint8Array, o: i32): u32 {
  return <u32>b[o] | (<u32>b[o + 1] << 8) | (<u32>b[o + 2] << 16) | (<u32>b[o + 3] << 24);
}

export function i32Bytes(v: i32): Uint8Array {
  const o = new Uint8Array(4);
  o[0] = <u8>v; o[1] = <u8>(v >> 8); o[2] = <u8>(v >> 16); o[3] = <u8>(v >> 24);
  return o;
}
