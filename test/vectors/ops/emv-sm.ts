// Vector operations of test/vectors/published/emv-sm.json (issuer script secure messaging), run
// through backend/issuer.
import type { OpHandler } from '../runner.ts';
import { kcv } from '../../../backend/issuer/ta-lib.ts';
import { hex, unhex } from '../../../backend/issuer/util.ts';
import { iccMasterKey, type MasterKeyDerivation } from '../../../backend/issuer/icc-master-key.ts';
import { commonSessionKey } from '../../../backend/issuer/session-key-common.ts';
import { visaSmSessionKey } from '../../../backend/issuer/session-key-visa-sm.ts';
import { commandMac } from '../../../backend/issuer/secure-messaging-mac.ts';
import { cvnProfile } from '../../../backend/issuer/cvn.ts';
import { deriveIccMasterKey } from '../../../backend/issuer/ac-keys.ts';
import { smSessionKey } from '../../../backend/issuer/sm-keys.ts';
import { pinChangeCommand, scriptCommandMac, type ScriptCard } from '../../../backend/issuer/issuer-script.ts';
import { iso9564Format2PinBlock } from '../../../backend/issuer/ta-lib.ts';
import { visPinBlock } from '../../../backend/issuer/pin-block-vis.ts';
import { smEncipherEmv } from '../../../backend/issuer/sm-encipherment-emv.ts';
import { smEncipherMastercard } from '../../../backend/issuer/sm-encipherment-mastercard.ts';
import { smEncipherVisa } from '../../../backend/issuer/sm-encipherment-visa.ts';

/** The legacy KCV, the leftmost 3 bytes of TDES-ECB(key, 8 zero bytes), from ta/lib/kcv.ts: the
 * runner compares the leading bytes a vector states (sources give 2 or 3). */
const kcvOf = (key: Uint8Array) => hex(kcv(key));

// Inputs a vector may leave out take the standard's default (published/README.md): master key
// derivation option B (EMV Book 2 A1.4; option A for PANs of up to 16 digits), PSN 00.
const mkdOf = (i: Record<string, any>) => (i.master_key_derivation ?? 'option_b') as MasterKeyDerivation;
const psnOf = (i: Record<string, any>) => (i.psn ?? '00') as string;

function expectEncipherment(i: Record<string, any>, type: string): void {
  if (i.encryption_type !== undefined && i.encryption_type !== type) throw new Error(`encryption_type ${i.encryption_type} is not ${type}`);
}

export const ops: Record<string, OpHandler> = {
  // Per-CVN chain through the issuer-script composer (CVN table → keys → MAC / PIN change).
  emv_issuer_script_mac_and_pin_change: (i) => {
    const p = cvnProfile(i.cvn);
    const psn = psnOf(i);
    const card: ScriptCard = {
      cvn: i.cvn, pan: i.pan, psn,
      issuerMasterKeySmi: unhex(i.iss_mk_smi), issuerMasterKeySmc: unhex(i.iss_mk_smc), issuerMasterKeyAc: unhex(i.iss_mk_ac),
      atc: unhex(i.atc), arqc: unhex(i.arqc),
    };
    const skSmi = smSessionKey(p, deriveIccMasterKey(p, card.issuerMasterKeySmi, i.pan, psn), card.atc, card.arqc);
    const skSmc = smSessionKey(p, deriveIccMasterKey(p, card.issuerMasterKeySmc!, i.pan, psn), card.atc, card.arqc);
    const out: Record<string, unknown> = {
      command_mac: hex(scriptCommandMac(card, unhex(i.command_header))),
      pin_change_command_no_current_pin: hex(pinChangeCommand(card, i.new_pin)),
      sk_smi_kcv: kcvOf(skSmi),
      sk_smc_kcv: kcvOf(skSmc),
    };
    // With the current PIN (an input): the file names this field after that test PIN.
    if (i.current_pin !== undefined) out[`pin_change_command_with_current_pin_${i.current_pin}`] = hex(pinChangeCommand(card, i.new_pin, i.current_pin));
    return out;
  },

  emv_sm_command_mac: (i) => {
    if (i.sk_smi !== undefined) return { command_mac: hex(commandMac(unhex(i.sk_smi), unhex(i.command))) };
    const mk = iccMasterKey(mkdOf(i), unhex(i.issuer_master_key_smi), i.pan, psnOf(i));
    const sk = commonSessionKey(mk, unhex(i.r));
    return {
      icc_mk_smi_kcv: kcvOf(mk),
      sk_smi_kcv: kcvOf(sk),
      command_mac: hex(commandMac(sk, unhex(i.command))),
    };
  },

  // M/Chip PIN change with the session keys' R given directly; MAC over header || enciphered PIN.
  emv_sm_pin_change_mastercard: (i) => {
    const mkd = mkdOf(i), psn = psnOf(i);
    const imkSmc = unhex(i.issuer_master_key_smc), imkSmi = unhex(i.issuer_master_key_smi);
    const mkSmc = iccMasterKey(mkd, imkSmc, i.pan, psn), mkSmi = iccMasterKey(mkd, imkSmi, i.pan, psn);
    const skSmc = commonSessionKey(mkSmc, unhex(i.r)), skSmi = commonSessionKey(mkSmi, unhex(i.r));
    const block = iso9564Format2PinBlock(i.new_pin);
    const enc = smEncipherMastercard(skSmc, block);
    return {
      issuer_mk_smc_kcv3: kcvOf(imkSmc),
      issuer_mk_smi_kcv3: kcvOf(imkSmi),
      icc_mk_smc_kcv3: kcvOf(mkSmc),
      icc_mk_smi_kcv3: kcvOf(mkSmi),
      sk_smc_kcv3: kcvOf(skSmc),
      sk_smi_kcv3: kcvOf(skSmi),
      pin_block_iso2: hex(block),
      encrypted_pin_block: hex(enc),
      command_mac: hex(commandMac(skSmi, new Uint8Array([...unhex(i.command_header), ...enc]))),
    };
  },

  // VIS PIN change with Visa SM session keys from the ATC. The source MACs header || enciphered
  // data under the header it is given (see docs/contactless.md on its Lc).
  emv_sm_pin_change_visa: (i) => {
    const mkd = mkdOf(i), psn = psnOf(i);
    const mkAc = iccMasterKey(mkd, unhex(i.issuer_master_key_ac), i.pan, psn);
    const mkSmc = iccMasterKey(mkd, unhex(i.issuer_master_key_smc), i.pan, psn);
    const mkSmi = iccMasterKey(mkd, unhex(i.issuer_master_key_smi), i.pan, psn);
    const atc = unhex(i.atc);
    const skSmc = visaSmSessionKey(mkSmc, atc), skSmi = visaSmSessionKey(mkSmi, atc);
    const block = visPinBlock(mkAc, i.new_pin);
    const enc = smEncipherVisa(skSmc, block);
    return {
      icc_mk_ac_kcv3: kcvOf(mkAc),
      sk_smc_kcv3: kcvOf(skSmc),
      sk_smi_kcv3: kcvOf(skSmi),
      vis_pin_block: hex(block),
      encrypted_pin_data: hex(enc),
      command_mac: hex(commandMac(skSmi, new Uint8Array([...unhex(i.command_header), ...enc]))),
    };
  },

  emv_sm_encrypt_pin_emv: (i) => {
    expectEncipherment(i, 'EMV');
    return { encrypted: hex(smEncipherEmv(unhex(i.sk_smc), unhex(i.pin_block_iso2))) };
  },
  emv_sm_encrypt_pin_mastercard: (i) => {
    expectEncipherment(i, 'MASTERCARD');
    return { encrypted: hex(smEncipherMastercard(unhex(i.sk_smc), unhex(i.pin_block_iso2))) };
  },
  vis_pin_block: ({ icc_mk_ac, pin, current_pin }) => ({ pin_block: hex(visPinBlock(unhex(icc_mk_ac), pin, current_pin)) }),
};
