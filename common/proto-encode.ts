// protobuf encoding (protobufjs) through one reused Writer. `Type.encode(m).finish()` allocates a
// writer and its 128-byte start buffer for every message (Node Buffers under Node, which cost
// more to make than plain Uint8Arrays); on the TEE client path, two envelopes per command, that
// was a third of the protobuf time. The bytes are protobufjs's own, so the encoding is the same
// one the canonical check (canonical.ts) expects.
import $protobuf from 'protobufjs/minimal.js';

/** A protobufjs static message class: encode into a given writer. */
export interface WriterEncoder<T> {
  encode(message: T, writer?: $protobuf.Writer): $protobuf.Writer;
}

let writer = new $protobuf.Writer();

/** `type.encode(message).finish()`, as a plain Uint8Array of its own. Synchronous, so one writer
 * serves every caller; what it held is zeroed after each message (an envelope may carry
 * sensitive bytes, and nothing should keep a copy), and a writer an encode threw out of is
 * replaced (it may hold an unfinished fork). */
export function encodeMessage<T>(type: WriterEncoder<T>, message: T): Uint8Array {
  const w = writer;
  w.reset();
  let out: Uint8Array;
  try {
    out = type.encode(message, w).finish();
  } catch (e) {
    writer = new $protobuf.Writer();
    throw e;
  }
  w.buf.fill(0, 0, w.pos);
  return out;
}
