// Vector operations of test/vectors/published/pinblock.json, run through the AssemblyScript PIN block
// code (ta/lib/pinblock.ts, pinblock-sm4.ts) compiled with test/as/pinblock-harness.ts and the
// real host imports. Where a vector encodes, the handler also decodes the result and checks that
// the PIN comes back (an error names the check, never the PIN).
import type { OpHandler } from '../runner.ts';
import { pinblockAs, must } from '../../pinblock/as-pinblock.ts';

async function roundTrip(pin: string, back: () => string, what: string): Promise<void> {
  if (back() !== pin) throw new Error(`${what}: decoding the encoded block does not give the PIN back`);
}

export const ops: Record<string, OpHandler> = {
  iso9564_format0_encode: async ({ pin, pan }) => {
    const m = await pinblockAs();
    const block = must(m.encode(0, pin, pan), 'format 0 encode');
    await roundTrip(pin, () => must(m.decode(0, block, pan), 'format 0 decode'), 'format 0');
    return { pin_block: block };
  },
  iso9564_format0_decode: async ({ pin_block, pan }) => ({ pin: must((await pinblockAs()).decode(0, pin_block, pan), 'format 0 decode') }),

  iso9564_format1_encode: async ({ pin, fill_nibbles }) => {
    const m = await pinblockAs();
    const block = must(m.encode(1, pin, '', fill_nibbles), 'format 1 encode');
    await roundTrip(pin, () => must(m.decode(1, block), 'format 1 decode'), 'format 1');
    return { pin_block: block };
  },
  iso9564_format1_decode: async ({ pin_block }) => ({ pin: must((await pinblockAs()).decode(1, pin_block), 'format 1 decode') }),

  iso9564_format2_encode: async ({ pin }) => {
    const m = await pinblockAs();
    const block = must(m.encode(2, pin), 'format 2 encode');
    await roundTrip(pin, () => must(m.decode(2, block), 'format 2 decode'), 'format 2');
    return { pin_block: block };
  },

  iso9564_format3_encode: async ({ pin, pan, fill_nibbles }) => {
    const m = await pinblockAs();
    const block = must(m.encode(3, pin, pan, fill_nibbles), 'format 3 encode');
    await roundTrip(pin, () => must(m.decode(3, block, pan), 'format 3 decode'), 'format 3');
    return { pin_block: block };
  },
  iso9564_format3_decode: async ({ pin_block, pan }) => ({ pin: must((await pinblockAs()).decode(3, pin_block, pan), 'format 3 decode') }),

  iso9564_format0_3_pan_field: async ({ pan }) => ({ pan_field: must((await pinblockAs()).panField03(pan), 'format 0/3 PAN field') }),

  // The random half comes from the TEE random source: only the first 8 bytes are determined.
  iso9564_format4_pin_field_prefix: async ({ pin }) => {
    const m = await pinblockAs();
    const field = must(m.pinField4(pin), 'format 4 PIN field');
    await roundTrip(pin, () => must(m.pinField4Decode(field), 'format 4 PIN field decode'), 'format 4 PIN field');
    return { pin_field_first8: field.slice(0, 16) };
  },
  iso9564_format4_pin_field_decode: async ({ pin_field }) => ({ pin: must((await pinblockAs()).pinField4Decode(pin_field), 'format 4 PIN field decode') }),
  iso9564_format4_pin_field: async ({ pin, random_fill }) => {
    const m = await pinblockAs();
    const field = must(m.pinField4(pin, random_fill), 'format 4 PIN field');
    await roundTrip(pin, () => must(m.pinField4Decode(field), 'format 4 PIN field decode'), 'format 4 PIN field');
    return { pin_field: field };
  },
  iso9564_format4_pan_field: async ({ pan }) => ({ pan_field: must((await pinblockAs()).panField4(pan), 'format 4 PAN field') }),

  iso9564_format4_encipher_aes: async ({ key, pin, pan, random_fill }) => {
    const m = await pinblockAs();
    const block = must(m.encipher4(key, pin, pan, random_fill), 'format 4 encipher');
    await roundTrip(pin, () => must(m.decipher4(key, block, pan), 'format 4 decipher'), 'format 4');
    return { pin_block: block };
  },
  iso9564_format4_decipher_aes: async ({ key, pin_block, pan }) => ({ pin: must((await pinblockAs()).decipher4(key, pin_block, pan), 'format 4 decipher') }),

  // Informative only (see the vector's note): the clear fields and block, no key given.
  unionpay_sm4_pin_block_format0_128bit: async ({ pin, pan }) => {
    const m = await pinblockAs();
    const block = must(m.sm4Encode('clear', pin, pan), 'UnionPay SM4 block');
    await roundTrip(pin, () => must(m.sm4Decode(block, pan), 'UnionPay SM4 decode'), 'UnionPay SM4');
    return {
      pin_field: must(m.sm4Encode('pin_field', pin, pan), 'UnionPay SM4 PIN field'),
      pan_field: must(m.sm4Encode('pan_field', pin, pan), 'UnionPay SM4 PAN field'),
      pin_block: block,
    };
  },
};
