// Vector operations of test/vectors/published/dukpt-tdes.json (ANSI X9.24-1:2009), run through
// ta/lib/dukpt-tdes.ts by way of the paylib harness.
import type { OpHandler } from '../runner.ts';
import { paylib, hex, unhex } from '../../as/paylib-host.ts';

export const ops: Record<string, OpHandler> = {
  'dukpt_tdes_derive_initial_key (IPEK)': async ({ bdk, initial_ksn }) => ({
    ipek: hex((await paylib()).call('dtIpek', [], [unhex(bdk), unhex(initial_ksn)])[0]!),
  }),
  dukpt_tdes_transaction: async (i) => {
    const mac = unhex(i.mac_data);
    if (i.mac_data_ascii !== undefined && Buffer.from(mac).toString('latin1') !== i.mac_data_ascii) throw new Error('mac_data is not mac_data_ascii');
    const [k, pin, reqMac, respMac, reqCmac, respCmac, data] = (await paylib()).call('dtTransaction', [],
      [unhex(i.ipek), unhex(i.ksn), unhex(i.clear_pin_block_iso0), mac, unhex(i.request_data_zero_padded), unhex(i.iv)]);
    return {
      transaction_key: hex(k!),
      encrypted_pin_block: hex(pin!),
      request_mac_x919_4bytes: hex(reqMac!.subarray(0, 4)),
      response_mac_x919_4bytes: hex(respMac!.subarray(0, 4)),
      request_cmac_tdes_8bytes_handcrafted: hex(reqCmac!),
      response_cmac_tdes_8bytes_handcrafted: hex(respCmac!),
      encrypted_request_data: hex(data!),
    };
  },
  dukpt_tdes_encrypt_pin_block: async (i) => ({
    encrypted_pin_block: hex((await paylib()).call('dtPin', [], [unhex(i.ipek), unhex(i.ksn), unhex(i.clear_pin_block_iso0)])[0]!),
  }),
};
