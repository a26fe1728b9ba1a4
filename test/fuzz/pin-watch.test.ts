// The fuzz's PIN watch (test/fuzz/pin-watch.ts) would see the canary PIN in a TEE answer in each
// encoding a leak could take, and does not see it in answers that do not hold it: otherwise the
// "no PIN in any answer" of a 10⁶-input run would mean nothing (or fail by chance).
import { describe, expect, it } from 'vitest';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { PinWatch, CANARY_PIN } from './pin-watch.ts';
import { DEMO_CARDS } from '../../sim/demo-cards.ts';
import { mulberry32, randomBytes as bytesOf } from './mutate.ts';

// Seeded: the same bytes every run (no test here can fail by chance).
const r = mulberry32(0x1708);
const randomBytes = (n: number) => Buffer.from(bytesOf(r, n));

const pan = DEMO_CARDS.unionpay!.pan;
const watch = new PinWatch([pan]);
const inAnswer = (b: Uint8Array) => trusttap.tee.v1.ClientResponse.encode({ status: 0, payload: b }).finish();
const detail = (text: string) => trusttap.tee.v1.ClientResponse.encode({ status: 0xffff0006, payload: Buffer.from(text) }).finish();

describe('the fuzz PIN watch', () => {
  const field0 = Buffer.from(`0C${CANARY_PIN}FF`, 'hex');
  const panField = Buffer.from(`0000${pan.slice(-13, -1)}`, 'hex');
  const cases: [string, Uint8Array][] = [
    ['the ASCII digits', Buffer.from(CANARY_PIN, 'ascii')],
    ['the digits as UTF-16LE (an AssemblyScript string)', Buffer.from(CANARY_PIN, 'utf16le')],
    ['the BCD digits shifted by half a byte', Buffer.from(`A${CANARY_PIN}B`, 'hex')],
    ['an ISO 9564 format 0 PIN field', field0],
    ['a format 0 clear PIN block (field XOR PAN field)', field0.map((b, i) => b ^ panField[i]!)],
    ['a format 4 PIN field', Buffer.from(`4C${CANARY_PIN}AA`, 'hex')],
    ['the hex text of the digits', Buffer.from(Buffer.from(CANARY_PIN, 'ascii').toString('hex'))],
    ['base64 of the format 0 field', Buffer.from(Buffer.concat([Buffer.of(1, 2), field0]).toString('base64'))],
  ];
  for (const [what, bytes] of cases) {
    it(`finds ${what} inside an answer`, () => {
      expect(watch.find(inAnswer(Buffer.concat([randomBytes(7), bytes, randomBytes(5)])))).not.toBeNull();
    });
  }
  it('finds the digits in an error detail, in lower or upper case hex text', () => {
    expect(watch.find(detail(`bad block ${Buffer.from(CANARY_PIN).toString('hex')}`))).not.toBeNull();
    expect(watch.find(detail(`bad block ${Buffer.from(CANARY_PIN).toString('hex').toUpperCase()}`))).not.toBeNull();
  });
  it('finds nothing in answers without the PIN: 2,000 random ones and a 4-digit prefix of it', () => {
    for (let i = 0; i < 2000; i++) expect(watch.find(inAnswer(randomBytes(1 + (i % 600))))).toBeNull();
    expect(watch.find(inAnswer(Buffer.from(`04${CANARY_PIN.slice(0, 4)}FFFFFFFFFF`, 'hex')))).toBeNull();
  });
});
