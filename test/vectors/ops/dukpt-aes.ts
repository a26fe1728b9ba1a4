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
  // Derivation key and working keys of the KSN's transaction; fields the vector lists.
  dukpt_aes_transaction: async (i, v) => {
    const p = await paylib();
    const ik = unhex(i.initial_key);
    const ksn = unhex(i.ksn);
    const [dk] = p.call('daDerivationKey', [], [ik, ksn]);
    const got: Record<string, unknown> = { derivation_key: hex(dk!) };
    const working: [string, number, number][] = [
      ['pin_encryption_key', USAGE.PIN, 0], ['mac_generation_key', USAGE.MAC_GEN, 0], ['data_encryption_request_key', USAGE.DATA_ENC, 0],
    ];
    for (const [name, usage] of working) {
      for (const [suffix, type] of [['aes128', KEY.AES128], ['aes192', KEY.AES192], ['aes256', KEY.AES256]] as const) {
        const field = `${name}_${suffix}`;
        if (field in v.expected) got[field] = hex(p.call('daWorkingKey', [usage, type], [dk!, ksn])[0]!);
      }
    }
    if ('encrypted_pin_block_iso4' in v.expected) {
      const [panField] = p.call('iso4PanField', [], [ascii(i.pan)]);
      got.encrypted_pin_block_iso4 = hex(p.call('daPin', [KEY.AES128], [ik, ksn, unhex(i.pin_field_iso4), panField!])[0]!);
    }
    return got;
  },
};
