// ISO/IEC 7816-4 command and response APDUs, and the EMV commands a contactless reader sends
// (EMV Book 1 §11, Book 3 §6.5). Short APDUs only: contactless cards do not need extended.
import { concat, fromHex, toHex } from '../hex.ts';

export class ApduError extends Error {
  constructor(readonly code: 'APDU_MALFORMED' | 'RESPONSE_MALFORMED', message: string) { super(message); this.name = 'ApduError'; }
}

export interface ResponseApdu { data: Uint8Array; sw: number }

export function command(cla: number, ins: number, p1: number, p2: number, data?: Uint8Array, le?: number): Uint8Array {
  if (data && (data.length === 0 || data.length > 255)) throw new ApduError('APDU_MALFORMED', `command data of ${data.length} bytes does not fit a short APDU`);
  const head = Uint8Array.of(cla, ins, p1, p2);
  const body = data ? concat(Uint8Array.of(data.length), data) : new Uint8Array(0);
  const tail = le === undefined ? new Uint8Array(0) : Uint8Array.of(le & 0xff);
  return concat(head, body, tail);
}

export function parseResponse(r: Uint8Array): ResponseApdu {
  if (r.length < 2) throw new ApduError('RESPONSE_MALFORMED', `response of ${r.length} bytes has no status word`);
  return { data: r.subarray(0, r.length - 2), sw: (r[r.length - 2]! << 8) | r[r.length - 1]! };
}

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** The header (CLA INS P1 P2) of a command, as hex: what replay matches on. */
export function headerOf(cmd: Uint8Array): string {
  if (cmd.length < 4) throw new ApduError('APDU_MALFORMED', `command of ${cmd.length} bytes has no header`);
  return toHex(cmd.subarray(0, 4));
}

export const PPSE_NAME = new TextEncoder().encode('2PAY.SYS.DDF01');

export const selectByName = (name: Uint8Array): Uint8Array => command(0x00, 0xa4, 0x04, 0x00, name, 0x00);
export const selectPpse = (): Uint8Array => selectByName(PPSE_NAME);
export const selectAid = (aidHex: string): Uint8Array => selectByName(fromHex(aidHex, 'AID'));

/** GET PROCESSING OPTIONS with the PDOL data wrapped in command template 83. */
export function getProcessingOptions(pdolData: Uint8Array): Uint8Array {
  return command(0x80, 0xa8, 0x00, 0x00, concat(Uint8Array.of(0x83, pdolData.length), pdolData), 0x00);
}

export function readRecord(sfi: number, record: number): Uint8Array {
  return command(0x00, 0xb2, record, (sfi << 3) | 0x04, undefined, 0x00);
}

/** GENERATE AC; P1 bits 8-7 = cryptogram type (00 AAC, 40 TC, 80 ARQC), bit 5 = CDA requested. */
export function generateAc(p1: number, cdolData: Uint8Array): Uint8Array {
  return command(0x80, 0xae, p1, 0x00, cdolData, 0x00);
}

export const SW = {
  OK: 0x9000,
  FILE_NOT_FOUND: 0x6a82,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  SELECTED_FILE_INVALIDATED: 0x6283, // application blocked on SELECT
  RECORD_NOT_FOUND: 0x6a83,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  WRONG_LENGTH: 0x6700,
  WRONG_P1P2: 0x6b00,
  WRONG_DATA: 0x6a80,
  /** VERIFY: the PIN does not match; the low nibble of the second byte is the tries left */
  PIN_WRONG: 0x63c0,
  AUTH_METHOD_BLOCKED: 0x6983,
  /** a secure-messaging command whose MAC does not verify (ISO 7816-4) */
  SM_DATA_INCORRECT: 0x6988,
} as const;
