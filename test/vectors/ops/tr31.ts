// Vector operations of test/vectors/published/tr31.json (TR-31 / ANSI X9.143 / ISO 20038), run through
// ta/lib/tr31*.ts by way of the paylib harness.
import type { OpHandler } from '../runner.ts';
import { paylib, hex, unhex, ascii, text } from '../../as/paylib-host.ts';

/** The project's KCV of the unwrapped key (ta/lib/kcv.ts), by the header's algorithm: legacy
 * (TDES: 3 bytes of E(K, 0)) or CMAC (AES: 5 bytes of AES-CMAC(K, 0^16)); the runner compares
 * the leading bytes a vector states. Undefined for a key the host cipher refuses (single DES). */
async function kcvOf(key: Uint8Array, algorithm: string): Promise<string | undefined> {
  try {
    const [k] = (await paylib()).call('kcvOf', [algorithm === 'A' ? 1 : 0], [key]);
    return hex(k!);
  } catch {
    return undefined;
  }
}

/** ta/lib/tr31-kbpk.ts derivation per key block version: the variant (A, C), the TDES CMAC KDF
 * (B), the AES CMAC KDF with the CBC key block's usage (D) or the CTR one's (E, ISO 20038). */
const KBPK_METHOD: Readonly<Record<string, number>> = { A: 0, C: 0, B: 1, D: 2, E: 3 };

async function kbpkDerive(kbpk: Uint8Array, version: string): Promise<Record<string, unknown>> {
  const method = KBPK_METHOD[version];
  if (method === undefined) throw new Error(`unknown key block version '${version}'`);
  const [kbek, kbak] = (await paylib()).call('tr31Kbpk', [method], [kbpk]);
  return { kbek: hex(kbek!), kbak: hex(kbak!) };
}

/** A KBPK derivation operation: the key block version is the `key_block_version` input, else the
 * one the operation names; a version the operation does not cover is an error. */
const kbpkOp = (versions: string[]): OpHandler => async ({ kbpk, key_block_version }) => {
  const version = String(key_block_version ?? versions[0]);
  if (!versions.includes(version)) throw new Error(`key_block_version ${version} is not a version of this operation (${versions.join(', ')})`);
  return kbpkDerive(unhex(kbpk), version);
};

export const ops: Record<string, OpHandler> = {
  'tr31_kbpk_variant (versions A/C)': kbpkOp(['A', 'C']),
  'tr31_kbpk_derive_tdes_cmac (version B)': kbpkOp(['B']),
  'tr31_kbpk_derive_aes_cmac (version D)': kbpkOp(['D']),
  // ISO 20038:2017 has both AES key blocks: E (CTR, its B.2 example) and the CBC one of
  // version D (its B.3 example); the vector's key_block_version says which, E by default.
  'iso20038_kbpk_derive (version E, AES-CMAC KDF)': kbpkOp(['E', 'D']),

  tr31_payload_construct: async ({ key, padding }) => ({
    payload: hex((await paylib()).call('tr31Payload', [], [unhex(key), unhex(padding)])[0]!),
  }),

  // The key block, and the KBEK/KBAK derived from the KBPK for the header's version.
  tr31_wrap: async (i) => {
    const p = await paylib();
    const kbpk = unhex(i.kbpk);
    const [kb] = p.call('tr31Wrap', [i.masked_key_length_bytes ?? 0], [ascii(i.header), kbpk, unhex(i.key), unhex(i.padding)]);
    const version = String(i.header)[0]!;
    if (KBPK_METHOD[version] === undefined) return { key_block: text(kb!) };
    const keys = await kbpkDerive(kbpk, version);
    return { key_block: text(kb!), derived_kbek: keys.kbek, derived_kbak: keys.kbak };
  },

  tr31_unwrap: async (i) => {
    const outs = (await paylib()).call('tr31Unwrap', [], [ascii(i.key_block), unhex(i.kbpk)]);
    const [key, header, headerAlone] = outs;
    const got: Record<string, unknown> = { key: hex(key!), key_ascii: text(key!) };
    // psec renders a header on its own with its own length in the length field (str(Header)).
    got.header = text(headerAlone!);
    for (let j = 3; j + 1 < outs.length; j += 2) got[`optional_block_${text(outs[j]!)}`] = text(outs[j + 1]!);
    const kcv = await kcvOf(key!, text(header!)[7]!);
    if (kcv !== undefined) got.kcv = kcv;
    return got;
  },
};
