// SIMULATOR ONLY. The card's side of issuer scripts with secure messaging (EMV 4.4 Book 2 §9,
// Book 3 §6.5.10 PIN CHANGE/UNBLOCK, §6.5.12 VERIFY with a plaintext PIN): the card checks the
// command MAC under its own SK_SMI, deciphers the new PIN under SK_SMC and reads the PIN block
// its CVN's profile names — the same backend/issuer code the issuer composes scripts with, run
// from the card's keys (ICC master keys derived at personalisation), so a script the issuer
// builds for another card, CVN or transaction fails here as it would on a real card.
import { equalBytes } from '../../common/hex.ts';
import { SW } from '../../common/emv/apdu.ts';
import type { CvnProfile } from '../../backend/issuer/cvn.ts';
import { smProfile, smSessionKey } from '../../backend/issuer/sm-keys.ts';
import { scriptMacInput } from '../../backend/issuer/issuer-script.ts';
import { commandMac } from '../../backend/issuer/secure-messaging-mac.ts';
import { smDecipherVisa } from '../../backend/issuer/sm-encipherment-visa.ts';
import { smDecipherMastercard } from '../../backend/issuer/sm-encipherment-mastercard.ts';
import { smDecipherEmv } from '../../backend/issuer/sm-encipherment-emv.ts';
import { smDecipherPbocSm4 } from '../../backend/issuer/sm-encipherment-pboc-sm4.ts';
import { pinOfVisBlock } from '../../backend/issuer/pin-block-vis.ts';
import { iso9564Format2PinBlock, pinOfFormat2Block } from '../../backend/issuer/ta-lib.ts';

const sw = (code: number): Uint8Array => Uint8Array.of(code >> 8, code & 0xff);
const MAC_LENGTH = 8;
const PIN_TRY_LIMIT = 3;

/** The card's offline PIN, kept as its ISO 9564 format 2 block, with its try counter. */
export class OfflinePin {
  private block: Uint8Array;
  private triesLeft = PIN_TRY_LIMIT;

  constructor(pin: string) {
    this.block = iso9564Format2PinBlock(pin);
  }

  /** VERIFY (plaintext PIN): the block the terminal sends is compared with the card's. */
  verify(block: Uint8Array): Uint8Array {
    if (this.triesLeft === 0) return sw(SW.AUTH_METHOD_BLOCKED);
    if (equalBytes(block, this.block)) { this.triesLeft = PIN_TRY_LIMIT; return sw(SW.OK); }
    this.triesLeft--;
    return sw(SW.PIN_WRONG | this.triesLeft);
  }

  /** The current PIN, for the VIS block of a change that carries it (never leaves the card). */
  current(): string {
    return pinOfFormat2Block(this.block);
  }

  set(pin: string): void {
    this.block.fill(0);
    this.block = iso9564Format2PinBlock(pin);
    this.triesLeft = PIN_TRY_LIMIT;
  }

  unblock(): void {
    this.triesLeft = PIN_TRY_LIMIT;
  }
}

/** The keys and transaction a script is checked against. */
export interface ScriptContext {
  cvn: CvnProfile;
  iccMkAc: Uint8Array;
  iccMkSmi?: Uint8Array;
  iccMkSmc?: Uint8Array;
  /** ATC and ARQC of the transaction that carries the script; null before an online request */
  online: { atc: Uint8Array; arqc: Uint8Array } | null;
}

/** PIN CHANGE/UNBLOCK (CLA 84 INS 24): P2 00 unblock, 01 change with the current PIN, 02
 *  without it. The data is the enciphered PIN block (none to unblock) followed by the MAC. */
export function pinChangeUnblock(ctx: ScriptContext, pin: OfflinePin, apdu: Uint8Array): Uint8Array {
  const p2 = apdu[3]!;
  if (apdu[2] !== 0x00 || p2 > 0x02) return sw(SW.WRONG_P1P2);
  const sm = ctx.cvn.sm;
  if (!sm || !ctx.iccMkSmi || !ctx.online) return sw(SW.CONDITIONS_NOT_SATISFIED);
  const header = apdu.subarray(0, 5), data = apdu.subarray(5, 5 + apdu[4]!);
  if (data.length < MAC_LENGTH) return sw(SW.WRONG_LENGTH);
  const field = data.subarray(0, data.length - MAC_LENGTH), mac = data.subarray(data.length - MAC_LENGTH);
  const { atc, arqc } = ctx.online;
  const skSmi = smSessionKey(ctx.cvn, ctx.iccMkSmi, atc, arqc);
  let ok: boolean;
  try { ok = equalBytes(commandMac(skSmi, scriptMacInput(ctx.cvn, header, atc, arqc, field), MAC_LENGTH, ctx.cvn.cipher), mac); } finally { skSmi.fill(0); }
  if (!ok) return sw(SW.SM_DATA_INCORRECT);
  if (p2 === 0x00) { pin.unblock(); return sw(SW.OK); }
  if (!ctx.iccMkSmc || field.length === 0) return sw(SW.WRONG_DATA);
  const skSmc = smSessionKey(ctx.cvn, ctx.iccMkSmc, atc, arqc);
  let block: Uint8Array;
  try {
    switch (smProfile(ctx.cvn).encipherment) {
      case 'visa': block = smDecipherVisa(skSmc, field); break;
      case 'mastercard': block = smDecipherMastercard(skSmc, field); break;
      case 'emv': block = smDecipherEmv(skSmc, field); break;
      case 'pboc_sm4': block = smDecipherPbocSm4(skSmc, field); break;
    }
  } catch {
    return sw(SW.WRONG_DATA);
  } finally { skSmc.fill(0); }
  try {
    const kind = p2 === 0x02 ? sm.pinBlock : sm.pinBlockWithCurrentPin;
    if (kind === null) return sw(SW.WRONG_P1P2);
    const newPin = kind === 'iso9564_2' ? pinOfFormat2Block(block) : pinOfVisBlock(ctx.iccMkAc, block, p2 === 0x01 ? pin.current() : undefined);
    pin.set(newPin);
    return sw(SW.OK);
  } catch {
    return sw(SW.WRONG_DATA);
  } finally { block.fill(0); }
}

/** VERIFY (CLA 00 INS 20 P2 80): a plaintext offline PIN in an ISO 9564 format 2 block. */
export function verifyPlaintextPin(pin: OfflinePin, apdu: Uint8Array): Uint8Array {
  if (apdu[2] !== 0x00 || apdu[3] !== 0x80) return sw(SW.WRONG_P1P2);
  if (apdu[4] !== 8 || apdu.length < 13) return sw(SW.WRONG_LENGTH);
  return pin.verify(apdu.subarray(5, 13));
}
