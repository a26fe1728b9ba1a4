// Issuer script commands with secure messaging, EMV 4.4 Book 2 §9 (format 2: the data field is
// the plaintext or enciphered command data followed by the MAC) and Book 3 §6.5.10 PIN
// CHANGE/UNBLOCK (CLA 84, INS 24, P2 00 unblock, 01 change with the current PIN, 02 change
// without it). The CVN's SM profile (cvn.ts) decides the session keys, what the MAC covers, how
// the data is enciphered and which PIN block is sent. Keys come in as issuer master keys and
// every derived key is wiped before return; a deployment runs this inside the HSM boundary.
import { concat } from '../../common/hex.ts';
import { cvnProfile, type CvnProfile } from './cvn.ts';
import { deriveIccMasterKey } from './ac-keys.ts';
import { smProfile, smSessionKey } from './sm-keys.ts';
import { commandMac } from './secure-messaging-mac.ts';
import { smEncipherVisa } from './sm-encipherment-visa.ts';
import { smEncipherMastercard } from './sm-encipherment-mastercard.ts';
import { smEncipherEmv } from './sm-encipherment-emv.ts';
import { smEncipherPbocSm4 } from './sm-encipherment-pboc-sm4.ts';
import { visPinBlock } from './pin-block-vis.ts';
import { iso9564Format2PinBlock, PinError } from './ta-lib.ts';

export interface ScriptCard {
  cvn: string;
  pan: string;
  psn?: string;
  issuerMasterKeySmi: Uint8Array;
  /** needed to encipher command data */
  issuerMasterKeySmc?: Uint8Array;
  /** needed for the VIS PIN block */
  issuerMasterKeyAc?: Uint8Array;
  /** 9F36 and 9F26 of the transaction that carries the script. pyemv notes that M/Chip cards
   *  expect the ARQC plus one for each script command after the first; pass the value to use. */
  atc: Uint8Array;
  arqc: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function checkCard(c: ScriptCard): CvnProfile {
  if (c.atc.length !== 2) throw new RangeError(`ATC must be 2 bytes, got ${c.atc.length}`);
  if (c.arqc.length !== 8) throw new RangeError(`ARQC must be 8 bytes, got ${c.arqc.length}`);
  const p = cvnProfile(c.cvn);
  smProfile(p);
  return p;
}

function sessionKey(p: CvnProfile, c: ScriptCard, issuerMasterKey: Uint8Array): Uint8Array {
  const mk = deriveIccMasterKey(p, issuerMasterKey, c.pan, c.psn ?? '00');
  try { return smSessionKey(p, mk, c.atc, c.arqc); } finally { mk.fill(0); }
}

/** The MAC input of the CVN: header || [ATC || ARQC] || data. */
export function scriptMacInput(p: CvnProfile, header: Uint8Array, atc: Uint8Array, arqc: Uint8Array, data: Uint8Array = EMPTY): Uint8Array {
  if (header.length !== 5) throw new RangeError(`command header must be CLA INS P1 P2 Lc (5 bytes), got ${header.length}`);
  return smProfile(p).macData === 'header_atc_arqc_data' ? concat(header, atc, arqc, data) : concat(header, data);
}

/** Command MAC over a header as given (Lc included) and the command data as sent. */
export function scriptCommandMac(c: ScriptCard, header: Uint8Array, data: Uint8Array = EMPTY, macLength = 8): Uint8Array {
  const p = checkCard(c);
  const sk = sessionKey(p, c, c.issuerMasterKeySmi);
  const input = scriptMacInput(p, header, c.atc, c.arqc, data);
  // PBOC national-algorithm cards MAC with SM4 (the PBOC-SM4-MAC, as their cryptogram).
  try { return commandMac(sk, input, macLength, p.cipher); } finally { sk.fill(0); }
}

/** Encipher command data under SK_SMC as the CVN says. */
export function encipherScriptData(c: ScriptCard, data: Uint8Array): Uint8Array {
  const p = checkCard(c);
  if (!c.issuerMasterKeySmc) throw new RangeError('enciphering command data needs the issuer master key SMC');
  const sk = sessionKey(p, c, c.issuerMasterKeySmc);
  try {
    switch (smProfile(p).encipherment) {
      case 'visa': return smEncipherVisa(sk, data);
      case 'mastercard': return smEncipherMastercard(sk, data);
      case 'emv': return smEncipherEmv(sk, data);
      case 'pboc_sm4': return smEncipherPbocSm4(sk, data);
    }
  } finally { sk.fill(0); }
}

/** A complete script command: CLA INS P1 P2 Lc || data || MAC, with Lc = |data| + |MAC|. */
export function scriptCommand(c: ScriptCard, cla: number, ins: number, p1: number, p2: number, data: Uint8Array = EMPTY, macLength = 8): Uint8Array {
  const lc = data.length + macLength;
  if (lc > 0xff) throw new RangeError(`command data of ${data.length} bytes and a ${macLength}-byte MAC exceed a short Lc`);
  const header = Uint8Array.of(cla, ins, p1, p2, lc);
  return concat(header, data, scriptCommandMac(c, header, data, macLength));
}

/** The plaintext PIN block of the CVN's PIN change: the profile names one block for a change
 *  without the current PIN and one (or none) for a change with it. */
export function pinChangeBlock(c: ScriptCard, newPin: string, currentPin?: string): Uint8Array {
  const p = checkCard(c);
  const sm = smProfile(p);
  const kind = currentPin === undefined ? sm.pinBlock : sm.pinBlockWithCurrentPin;
  if (kind === null) throw new PinError(`${p.id}: this scheme's PIN change carries no current PIN`);
  if (kind === 'iso9564_2') return iso9564Format2PinBlock(newPin);
  if (!c.issuerMasterKeyAc) throw new RangeError('the VIS PIN block needs the issuer master key AC');
  const mkAc = deriveIccMasterKey(p, c.issuerMasterKeyAc, c.pan, c.psn ?? '00');
  try { return visPinBlock(mkAc, newPin, currentPin); } finally { mkAc.fill(0); }
}

/** PIN CHANGE/UNBLOCK with an enciphered new PIN: P2 = 01 with the current PIN, 02 without. */
export function pinChangeCommand(c: ScriptCard, newPin: string, currentPin?: string, macLength = 8): Uint8Array {
  const block = pinChangeBlock(c, newPin, currentPin);
  try {
    const data = encipherScriptData(c, block);
    return scriptCommand(c, 0x84, 0x24, 0x00, currentPin === undefined ? 0x02 : 0x01, data, macLength);
  } finally { block.fill(0); }
}

/** PIN CHANGE/UNBLOCK as unblock only (P2 = 00, no data). */
export function pinUnblockCommand(c: ScriptCard, macLength = 8): Uint8Array {
  return scriptCommand(c, 0x84, 0x24, 0x00, 0x00, EMPTY, macLength);
}
