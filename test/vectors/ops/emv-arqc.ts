// Vector operations of test/vectors/published/emv-arqc.json, run through backend/issuer.
import type { OpHandler } from '../runner.ts';
import { kcv } from '../../../backend/issuer/ta-lib.ts';
import { hex, unhex } from '../../../backend/issuer/util.ts';
import { iccMasterKey, iccMasterKeyOptionA, iccMasterKeyOptionB, type MasterKeyDerivation } from '../../../backend/issuer/icc-master-key.ts';
import { commonSessionKey } from '../../../backend/issuer/session-key-common.ts';
import { visaSmSessionKey } from '../../../backend/issuer/session-key-visa-sm.ts';
import { emv2000TreeSessionKey } from '../../../backend/issuer/session-key-emv2000-tree.ts';
import { applicationCryptogram } from '../../../backend/issuer/application-cryptogram.ts';
import { arpcMethod1 } from '../../../backend/issuer/arpc-method-1.ts';
import { arpcMethod2 } from '../../../backend/issuer/arpc-method-2.ts';
import { commandMac } from '../../../backend/issuer/secure-messaging-mac.ts';
import { acInput, cvnProfile, type CvnProfile } from '../../../backend/issuer/cvn.ts';
import { acSessionKey, deriveIccMasterKey } from '../../../backend/issuer/ac-keys.ts';
import type { Padding } from '../../../backend/issuer/ta-lib.ts';

/** The legacy KCV, the leftmost 3 bytes of TDES-ECB(key, 8 zero bytes), from ta/lib/kcv.ts: the
 * runner compares the leading bytes a vector states (sources give 2 or 3). */
const kcvOf = (key: Uint8Array) => hex(kcv(key));

// Inputs a vector may leave out take the standard's default (published/README.md):
/** EMV Book 2 A1.4: option B, which for PANs of up to 16 digits is option A. */
const DEFAULT_MKD: MasterKeyDerivation = 'option_b';
/** EMV Book 2 A1.2.1: the MAC input is padded with ISO/IEC 9797-1 padding method 2. */
const DEFAULT_AC_PADDING: Padding = 'iso9797_1_method_2';
/** Vector conventions: psn absent = 00 (EMV Book 2 A1.4: a card without a PSN uses 00). */
const DEFAULT_PSN = '00';

const mkdOf = (i: Record<string, any>) => (i.master_key_derivation ?? DEFAULT_MKD) as MasterKeyDerivation;
const psnOf = (i: Record<string, any>) => (i.psn ?? DEFAULT_PSN) as string;

/** The ARPC when the vector gives the data its method needs: method 1 needs the ARPC response
 * code, method 2 the card status update (proprietary authentication data defaults to none). */
function arpcOf(method: 1 | 2, key: Uint8Array, arqc: Uint8Array, i: Record<string, any>): Record<string, unknown> {
  if (method === 1) return i.arpc_rc === undefined ? { error: 'ARPC method 1 needs arpc_rc' } : { arpc: hex(arpcMethod1(key, arqc, unhex(i.arpc_rc))) };
  return i.csu === undefined ? { error: 'ARPC method 2 needs csu' } : { arpc: hex(arpcMethod2(key, arqc, unhex(i.csu), unhex(i.proprietary_auth_data ?? ''))) };
}

/** The CVN table's value for each enumerated input of emv_cvn_arqc_arpc, as the vectors write it. */
function tableInputs(p: CvnProfile): Record<string, string> {
  return {
    master_key_derivation: p.masterKeyDerivation,
    ac_session_key: p.sessionKey,
    ac_padding: p.padding,
    ac_data_order: p.acData.join('||'),
    arpc_method: String(p.arpc.method),
    arpc_key: p.arpc.method === 2 ? 'session_key' : p.arpc.key,
  };
}

export const ops: Record<string, OpHandler> = {
  emv_icc_master_key_option_a: (i) => ({ icc_master_key: hex(iccMasterKeyOptionA(unhex(i.issuer_master_key), i.pan, psnOf(i))) }),
  emv_icc_master_key_option_b: (i) => ({ icc_master_key: hex(iccMasterKeyOptionB(unhex(i.issuer_master_key), i.pan, psnOf(i))) }),
  emv_common_session_key: ({ icc_master_key, r }) => ({ session_key: hex(commonSessionKey(unhex(icc_master_key), unhex(r))) }),
  visa_secure_messaging_session_key: ({ icc_master_key, atc }) => ({ session_key: hex(visaSmSessionKey(unhex(icc_master_key), unhex(atc))) }),
  emv2000_tree_session_key: ({ icc_master_key, atc, height, branch_factor, iv }) => ({
    session_key: hex(emv2000TreeSessionKey(unhex(icc_master_key), unhex(atc), height, branch_factor, unhex(iv))),
  }),
  emv_generate_ac: ({ session_key, ac_data, ac_padding }) => ({ ac: hex(applicationCryptogram(unhex(session_key), unhex(ac_data), (ac_padding ?? DEFAULT_AC_PADDING) as Padding)) }),
  emv_arpc_method_1: ({ key, arqc, arpc_rc }) => ({ arpc: hex(arpcMethod1(unhex(key), unhex(arqc), unhex(arpc_rc))) }),
  emv_arpc_method_2: ({ key, arqc, csu, proprietary_auth_data }) => ({ arpc: hex(arpcMethod2(unhex(key), unhex(arqc), unhex(csu), unhex(proprietary_auth_data ?? ''))) }),

  // Master key → common session key → ARQC → ARPC. The ARPC method has no default (EMV Book 2
  // 8.2 defines two; the issuer chooses); method 1 is keyed with the AC session key (EMV 4.x)
  // unless the vector names the ICC master key.
  emv_mkd_csk_arqc_arpc_chain: (i) => {
    const imk = unhex(i.issuer_master_key);
    const mk = iccMasterKey(mkdOf(i), imk, i.pan, psnOf(i));
    const sk = commonSessionKey(mk, unhex(i.r));
    const arqc = applicationCryptogram(sk, unhex(i.ac_data), (i.ac_padding ?? DEFAULT_AC_PADDING) as Padding);
    const method = i.arpc_method === undefined ? undefined : String(i.arpc_method) === '2' ? 2 : 1;
    return {
      issuer_master_key_kcv: kcvOf(imk),
      icc_master_key_kcv: kcvOf(mk),
      session_key_kcv: kcvOf(sk),
      arqc: hex(arqc),
      ...(method ? arpcOf(method, method === 1 && i.arpc_key === 'icc_master_key' ? mk : sk, arqc, i) : { error: 'the ARPC needs arpc_method' }),
    };
  },

  visa_sm_session_key_and_command_mac: (i) => {
    const imk = unhex(i.issuer_master_key);
    const mk = iccMasterKey(mkdOf(i), imk, i.pan, psnOf(i));
    const sk = visaSmSessionKey(mk, unhex(i.atc));
    const macData = unhex(i.mac_data);
    // The MAC input must be header || ATC || ARQC as the vector lays it out.
    if (hex(macData) !== i.command_header + i.atc + i.arqc) throw new Error('mac_data is not header || ATC || ARQC');
    return {
      issuer_master_key_kcv: kcvOf(imk),
      icc_master_key_kcv: kcvOf(mk),
      session_key_kcv: kcvOf(sk),
      command_mac: hex(commandMac(sk, macData)),
    };
  },

  // Per-CVN chain: the cryptogram is computed from our CVN table (backend/issuer/cvn.ts). An
  // input the vector leaves out takes the table's value; one it states must agree with the table.
  emv_cvn_arqc_arpc: (i) => {
    const p = cvnProfile(i.cvn);
    const ours = tableInputs(p);
    const contradicted = Object.keys(ours).filter((k) => i[k] !== undefined && String(i[k]) !== ours[k]);
    if (contradicted.length) {
      throw new Error(`CVN table disagrees with vector on ${contradicted.map((k) => `${k} (table ${ours[k]}, vector ${i[k]})`).join(', ')}`);
    }
    const tags = i.tags as Record<string, string>;
    const tag = (t: string) => (tags[t] === undefined ? undefined : unhex(tags[t]!));
    const psn = psnOf(i);
    const mkAc = deriveIccMasterKey(p, unhex(i.iss_mk_ac), i.pan, psn);
    const sk = acSessionKey(p, mkAc, tag('9F36') ?? unhex(''), tag('9F37'));
    const arqc = applicationCryptogram(sk, acInput(p, tag), p.padding);
    const out: Record<string, unknown> = {
      icc_mk_ac_kcv: kcvOf(mkAc),
      ac_session_key_kcv: kcvOf(sk),
      arqc: hex(arqc),
      ...arpcOf(p.arpc.method, p.arpc.method === 1 && p.arpc.key === 'icc_master_key' ? mkAc : sk, arqc, i),
    };
    // The secure-messaging master keys, when the vector gives their issuer keys.
    if (i.iss_mk_smi !== undefined) out.icc_mk_smi_kcv = kcvOf(deriveIccMasterKey(p, unhex(i.iss_mk_smi), i.pan, psn));
    if (i.iss_mk_smc !== undefined) out.icc_mk_smc_kcv = kcvOf(deriveIccMasterKey(p, unhex(i.iss_mk_smc), i.pan, psn));
    return out;
  },
};
