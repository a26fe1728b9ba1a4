// Canonical protobuf encodings for signed bytes (issue 17 §2). A verifier checks a signature over
// the exact bytes it received, then decodes them; protobuf decoding also takes bytes that are not
// what an encoder writes — unknown or repeated fields, fields out of order, over-long varints,
// non-packed repeated scalars, junk appended as extra fields — so one signed message would have
// many encodings, and bytes no signer produced could ride along under a valid signature. Every
// TrustTap encoder (protobufjs; the AS generator, byte for byte like it; the C host's writer)
// writes fields once, in field-number order, minimally: re-encoding the decoded message gives the
// same bytes, and anything else is refused.
import { equalBytes } from './hex.ts';

export interface ProtoType<T> {
  decode(bytes: Uint8Array): T;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- protobufjs takes the I-interface
  encode(message: any): { finish(): Uint8Array };
}

export class EncodingError extends Error {
  constructor(message: string) { super(message); this.name = 'EncodingError'; }
}

/** Decodes `bytes` as `type` and requires them to be the canonical encoding (throws
 * EncodingError naming `what` otherwise, or when they do not decode). */
export function decodeCanonical<T>(type: ProtoType<T>, bytes: Uint8Array, what: string): T {
  let m: T;
  try {
    m = type.decode(bytes);
  } catch (e) {
    throw new EncodingError(`${what} does not decode: ${(e as Error).message}`);
  }
  if (!equalBytes(type.encode(m).finish(), bytes)) throw new EncodingError(`${what} is not in canonical encoding (trailing, repeated, unknown or reordered fields)`);
  return m;
}
