// The byte-stream transport this phone maker defines between the app side (REE) and its TEE:
// length-prefixed frames over a pair of streams (here the TEE process's stdin/stdout; on a
// phone, whatever channel reaches the TEE driver). A frame is
//
//   u32 big-endian length of the rest | u32 big-endian request id | payload
//
// Id 0 is the start handshake (JSON); every other id carries one TEE Client API envelope
// (protobuf ClientRequest one way, ClientResponse the other) and its answer reuses the id, so
// many commands can be in flight at once and may be answered out of order (a PIN entry stays
// pending while other sessions keep working).

export const START_ID = 0;

/** Encodes one frame. */
export function frame(id, payload) {
  const out = new Uint8Array(8 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 4 + payload.length);
  view.setUint32(4, id);
  out.set(payload, 8);
  return out;
}

/** Calls onFrame(id, payload) for each complete frame read from a stream. */
export function readFrames(stream, onFrame) {
  let buf = new Uint8Array(0);
  stream.on('data', (chunk) => {
    const joined = new Uint8Array(buf.length + chunk.length);
    joined.set(buf);
    joined.set(chunk, buf.length);
    buf = joined;
    while (buf.length >= 4) {
      const len = new DataView(buf.buffer, buf.byteOffset).getUint32(0);
      if (len < 4) throw new Error(`bad frame length ${len}`);
      if (buf.length < 4 + len) break;
      const id = new DataView(buf.buffer, buf.byteOffset).getUint32(4);
      onFrame(id, buf.slice(8, 4 + len));
      buf = buf.subarray(4 + len);
    }
  });
}

export const json = (value) => new TextEncoder().encode(JSON.stringify(value));
export const unjson = (bytes) => JSON.parse(new TextDecoder().decode(bytes));
