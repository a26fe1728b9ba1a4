// Vector operations of test/vectors/published/dukpt-aes.json (ANSI X9.24-3:2017), run through
// ta/lib/dukpt-aes.ts by way of the paylib harness.
import type { OpHandler } from '../runner.ts';
import { paylib, hex, unhex, ascii } from '../../as/paylib-host.ts';

// ta/lib/dukpt-aes.ts key types and usages.
const KEY = { AES128: 2, AES192: 3, AES256: 4 } as const;
const USAGE = { PIN: 0x1000, MAC_GEN: 0x2000, DATA_ENC: 0x3000 } as const;

const keyTypeOf = (name: string): number => {
  const t = ({ 'AES-128': KEY.AES128, 'AES-192': KEY.AES192, 'AES-256': KEY.AES256 } as Record<string, number>)[name];
  if (t === undefined) throw new Error(`unknown key type ${name}`);
  return t;
};

export const ops: Record<string, OpHandler> = {
  dukpt_aes_derive_initial_key: async ({ bdk, initial_key_id }) => ({
    initial_key: hex((await paylib()).call('daInitialKey', [], [unhex(bdk), unhex(initial_key_id)])[0]!),
  }),
  dukpt_aes_derive_transaction_key: async ({ initial_key, ksn }) => ({
    derivation_key: hex((await paylib()).call('daDerivationKey', [], [unhex(initial_key), unhex(ksn)])[0]!),
  }),
  'dukpt_aes_derive_update_key (from initial key, counter 0)': async ({ initial_key, initial_key_id, update_key_type }) => ({
    update_key: hex((await paylib()).call('daUpdateKey', [keyTypeOf(update_key_type)], [unhex(initial_key), unhex(initial_key_id)])[0]!),
  }),
  // Derivation key and the working keys of the KSN's transaction: PIN, MAC-generation and
  // data-request keys of every AES length up to the derivation key's (X9.24-3 derives no working
  // key longer than its derivation key); with a PAN and PIN field, the encrypted ISO 4 PIN block.
  dukpt_aes_transaction: async (i) => {
    const p = await paylib();
    const ik = unhex(i.initial_key);
    const ksn = unhex(i.ksn);
    const [dk] = p.call('daDerivationKey', [], [ik, ksn]);
    const got: Record<string, unknown> = { derivation_key: hex(dk!) };
    const working: [string, number][] = [['pin_encryption_key', USAGE.PIN], ['mac_generation_key', USAGE.MAC_GEN], ['data_encryption_request_key', USAGE.DATA_ENC]];
    const lengths = [['aes128', KEY.AES128, 16], ['aes192', KEY.AES192, 24], ['aes256', KEY.AES256, 32]] as const;
    for (const [name, usage] of working) {
      for (const [suffix, type, len] of lengths) {
        if (len <= dk!.length) got[`${name}_${suffix}`] = hex(p.call('daWorkingKey', [usage, type], [dk!, ksn])[0]!);
      }
    }
    if (i.pan !== undefined && i.pin_field_iso4 !== undefined) {
      const [panField] = p.call('iso4PanField', [], [ascii(i.pan)]);
      got.encrypted_pin_block_iso4 = hex(p.call('daPin', [KEY.AES128], [ik, ksn, unhex(i.pin_field_iso4), panField!])[0]!);
    }
    return got;
  },
};
