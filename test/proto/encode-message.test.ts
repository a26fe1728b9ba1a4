// common/proto-encode.ts: one reused protobufjs Writer gives the same bytes as a fresh one, each
// result is a copy of its own, and an encode that throws half-way leaves no trace in the next.
import { describe, test, expect } from 'vitest';
import { encodeMessage } from '../../common/proto-encode.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

const v1 = trusttap.tee.v1;

describe('encodeMessage', () => {
  const messages = [
    { id: 1, openSession: { name: 'keystore', login: 0 } },
    { id: 2, invoke: { session: 3, command: 4, payload: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff), responseCapacity: 70_000 } },
    { id: 0x7fffffff, invoke: { session: 1, command: 0, payload: new Uint8Array(64 * 1024).fill(0xa5) } },
    { id: 3, closeSession: { session: 9 } },
    {},
  ];

  test.each(messages.map((m, i) => [i, m] as const))('message %i: the bytes protobufjs writes with a fresh writer', (_, m) => {
    expect(same(encodeMessage(v1.ClientRequest, m), v1.ClientRequest.encode(m).finish())).toBe(true);
  });

  test('each result is its own copy', () => {
    const a = encodeMessage(v1.ClientRequest, messages[1]);
    const copy = a.slice();
    encodeMessage(v1.ClientRequest, messages[3]);
    encodeMessage(v1.ClientRequest, messages[2]);
    expect(same(a, copy)).toBe(true);
  });

  test('an encode that throws inside a nested message does not corrupt the next one', () => {
    const poisoned = { id: 7, invoke: { get session(): number { throw new Error('poisoned field'); } } };
    expect(() => encodeMessage(v1.ClientRequest, poisoned)).toThrow('poisoned field');
    for (const m of messages) expect(same(encodeMessage(v1.ClientRequest, m), v1.ClientRequest.encode(m).finish())).toBe(true);
  });
});
