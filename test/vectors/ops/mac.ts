// Vector operations of test/vectors/published/mac.json, run through ta/lib (AssemblyScript) by way of
// the paylib harness: ISO 9797-1 padding and MAC algorithms 1 and 3, AES-CMAC, TDES-CMAC.
import type { OpHandler } from '../runner.ts';
import { paylib, hex, unhex } from '../../as/paylib-host.ts';

const padMethod = (p: string): number => {
  const m = /^iso9797_1_method_([123])$/.exec(p);
  if (!m) throw new Error(`unknown padding ${p}`);
  return Number(m[1]);
};

/** The MAC and, when the vector lists it, its leftmost 4 bytes. */
const macFields = (mac: Uint8Array) => ({ mac: hex(mac), mac_4bytes: hex(mac.subarray(0, 4)) });

export const ops: Record<string, OpHandler> = {
  iso9797_1_padding_method_1: async ({ data, block_len }) => ({ padded: hex((await paylib()).call('padData', [1, block_len], [unhex(data)])[0]!) }),
  iso9797_1_padding_method_2: async ({ data, block_len }) => ({ padded: hex((await paylib()).call('padData', [2, block_len], [unhex(data)])[0]!) }),
  iso9797_1_padding_method_3: async ({ data, block_len }) => ({ padded: hex((await paylib()).call('padData', [3, block_len], [unhex(data)])[0]!) }),

  // X9.19 retail MAC: a double-length key K || K', or K and K' given apart (single DES each).
  iso9797_1_mac_alg3_retail: async (i) => {
    const p = await paylib();
    const [mac] = i.key !== undefined
      ? p.call('retail', [padMethod(i.padding)], [unhex(i.key), unhex(i.data)])
      : p.call('mac3', [padMethod(i.padding)], [unhex(i.key1_K), unhex(i.key2_K_prime), unhex(i.data)]);
    return macFields(mac!);
  },
  // Library generalisation: CBC under TDES key1, last block decrypted under key2, encrypted under key1.
  iso9797_1_mac_alg3_generalised: async (i) => {
    const [mac] = (await paylib()).call('mac3', [padMethod(i.padding)], [unhex(i.key1), unhex(i.key2), unhex(i.data)]);
    return macFields(mac!);
  },
  iso9797_1_mac_alg1_cbc_tdes: async (i) => {
    const [mac] = (await paylib()).call('mac1', [0, padMethod(i.padding)], [unhex(i.key), unhex(i.data)]);
    return macFields(mac!);
  },
  aes_cmac: async ({ key, message, message_len }) => {
    const m = unhex(message);
    if (m.length !== message_len) throw new Error('message_len does not match message');
    return { cmac: hex((await paylib()).call('cmacOf', [1], [unhex(key), m])[0]!) };
  },
  tdes_cmac: async ({ key, message, message_len }) => {
    const m = unhex(message);
    if (m.length !== message_len) throw new Error('message_len does not match message');
    return { cmac: hex((await paylib()).call('cmacOf', [0], [unhex(key), m])[0]!) };
  },
};
