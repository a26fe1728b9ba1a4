// Bad input gives a typed PinBlockError, never a trap; messages name the rule, never a value.
import { describe, test, expect, beforeAll } from 'vitest';
import { PinblockAs, PIN_BLOCK_ERRORS } from './as-pinblock.ts';
import { rng } from './rng.ts';

const E = { PIN_LENGTH: -1, PIN_DIGIT: -2, PAN_LENGTH: -3, PAN_DIGIT: -4, BLOCK_LENGTH: -5, BUFFER_LENGTH: -6, CONTROL_FIELD: -7, FILL: -8, RANDOM: -9, KEY_LENGTH: -10, CIPHER: -11 };
const KEY = '00112233445566778899AABBCCDDEEFF';
const PAN = '4111111111111111';

let m: PinblockAs;
beforeAll(async () => { m = await PinblockAs.load(); });

describe('encode: input checks', () => {
  test.each([0, 1, 2, 3] as const)('format %i', (f) => {
    expect(m.encode(f, '123', PAN).status).toBe(E.PIN_LENGTH);
    expect(m.encode(f, '1234567890123', PAN).status).toBe(E.PIN_LENGTH);
    expect(m.encode(f, '', PAN).status).toBe(E.PIN_LENGTH);
    expect(m.encode(f, '12a4', PAN).status).toBe(E.PIN_DIGIT);
    expect(m.encode(f, '12 4', PAN).status).toBe(E.PIN_DIGIT);
    if (f === 0 || f === 3) {
      expect(m.encode(f, '1234', '').status).toBe(E.PAN_LENGTH);
      expect(m.encode(f, '1234', '12345678901234567890').status).toBe(E.PAN_LENGTH);
      expect(m.encode(f, '1234', '41111111111x1111').status).toBe(E.PAN_DIGIT);
    }
  });
  test('injected fills', () => {
    expect(m.encode(1, '1234', '', 'ABCDEF012').status).toBe(E.RANDOM); // 9 nibbles, 10 needed
    expect(m.encode(3, '1234', PAN, 'ABCDEFABC9').status).toBe(E.RANDOM); // 9 not in A..F
    expect(m.encode(3, '1234', PAN, 'ABCDEFABCD').status).toBe(0);
  });
  test('format 4', () => {
    expect(m.encipher4(KEY, '123', PAN).status).toBe(E.PIN_LENGTH);
    expect(m.encipher4(KEY, '12345678901x', PAN).status).toBe(E.PIN_DIGIT);
    expect(m.encipher4(KEY, '1234', '').status).toBe(E.PAN_LENGTH);
    expect(m.encipher4(KEY, '1234', 'x').status).toBe(E.PAN_DIGIT);
    expect(m.encipher4(KEY.slice(2), '1234', PAN).status).toBe(E.KEY_LENGTH);
    expect(m.encipher4(KEY + '00', '1234', PAN).status).toBe(E.KEY_LENGTH);
    expect(m.encipher4(KEY, '1234', PAN, '0011223344556677FF').status).toBe(E.RANDOM);
    expect(m.pinField4('1234', '00112233445566').status).toBe(E.RANDOM);
    expect(m.decipher4(KEY, '00'.repeat(15), PAN).status).toBe(E.BLOCK_LENGTH);
    expect(m.decipher4('', '00'.repeat(16), PAN).status).toBe(E.KEY_LENGTH);
    expect(m.pinField4Decode('441234AAAAAAAAAA00').status).toBe(E.BLOCK_LENGTH);
  });
  test('UnionPay SM4', () => {
    expect(m.sm4Encode('enciphered', '1234', PAN, KEY + '00').status).toBe(E.KEY_LENGTH);
    expect(m.sm4Encode('clear', '12', PAN).status).toBe(E.PIN_LENGTH);
    expect(m.sm4Decode('00'.repeat(8), PAN).status).toBe(E.BLOCK_LENGTH);
  });
});

describe('decode: block checks', () => {
  test('control field, length, digits, fill', () => {
    // format 0 with the PAN 0000000000000 (PAN field all zero): the block is the PIN field.
    const Z = '0000000000000';
    expect(m.decode(0, '041234FFFFFFFFFF', Z)).toEqual({ status: 4, out: '1234' });
    expect(m.decode(0, '141234FFFFFFFFFF', Z).status).toBe(E.CONTROL_FIELD);
    expect(m.decode(0, '031234FFFFFFFFFF', Z).status).toBe(E.PIN_LENGTH);
    expect(m.decode(0, '0D1234FFFFFFFFFF', Z).status).toBe(E.PIN_LENGTH);
    expect(m.decode(0, '04123AFFFFFFFFFF', Z).status).toBe(E.PIN_DIGIT);
    expect(m.decode(0, '041234FFFFFFFFFE', Z).status).toBe(E.FILL);
    expect(m.decode(0, '041234FFFFFFFF', Z).status).toBe(E.BLOCK_LENGTH);
    expect(m.decode(2, '241234FFFFFFFFFA', '').status).toBe(E.FILL);
    expect(m.decode(3, '341234ABCDEF0BCD', Z).status).toBe(E.FILL); // 0 is not A..F
    expect(m.decode(3, '341234ABCDEFABCD', Z)).toEqual({ status: 4, out: '1234' });
    expect(m.decode(1, '1412340123456789', '')).toEqual({ status: 4, out: '1234' }); // any fill
    expect(m.decode(3, '041234FFFFFFFFFF', Z).status).toBe(E.CONTROL_FIELD);
    expect(m.pinField4Decode('441234AAAAAAAAAB' + '00'.repeat(8)).status).toBe(E.FILL);
    expect(m.pinField4Decode('341234AAAAAAAAAA' + '00'.repeat(8)).status).toBe(E.CONTROL_FIELD);
    expect(m.pinField4Decode('4D1234AAAAAAAAAA' + '00'.repeat(8)).status).toBe(E.PIN_LENGTH);
  });

  test('20,000 random blocks per format decode to a PIN or a typed error, never a trap', () => {
    const r = rng(7);
    const allowed = new Set([E.CONTROL_FIELD, E.PIN_LENGTH, E.PIN_DIGIT, E.FILL]);
    for (const f of [0, 1, 2, 3] as const) {
      for (let i = 0; i < 20_000; i++) {
        // bias the control nibble to this format so the deeper checks run too
        const block = (i & 1 ? String(f) : r.hexNibbles(1, 0, 15)) + r.hex(8).slice(1, 16);
        const res = m.decode(f, block, r.digits(16));
        if (res.status < 0) expect(allowed.has(res.status)).toBe(true);
        else expect(res.out).toMatch(/^[0-9]{4,12}$/);
      }
    }
    for (let i = 0; i < 20_000; i++) {
      const res = m.decipher4(r.hex(16), r.hex(16), r.digits(r.int(1, 19)));
      if (res.status < 0) expect(allowed.has(res.status)).toBe(true);
    }
  });

  test('random lengths never trap', () => {
    const r = rng(11);
    for (let i = 0; i < 2000; i++) {
      const block = r.hex(r.int(0, 40));
      for (const f of [0, 1, 2, 3] as const) expect(m.decode(f, block, r.digits(r.int(0, 25))).status).toBeLessThanOrEqual(12);
      expect(m.decipher4(r.hex(r.int(0, 40)), block, r.digits(r.int(0, 25))).status).toBeLessThanOrEqual(12);
      expect(m.pinField4Decode(block).status).toBeLessThanOrEqual(12);
    }
  });
});

test('every error has a message naming the rule, with no digits of any value', () => {
  for (const code of Object.values(E)) {
    const text = m.errorText(code);
    expect(PIN_BLOCK_ERRORS[code]).toBeDefined();
    expect(text.length).toBeGreaterThan(10);
    expect(text).not.toMatch(/unknown/);
    // Only the rule's own bounds (4, 12, 1, 19, 8, 16, 24, 32) may appear as numbers.
    for (const n of text.match(/[0-9]+/g) ?? []) expect(['0', '1', '4', '8', '9', '12', '16', '19', '24', '32']).toContain(n);
  }
});
