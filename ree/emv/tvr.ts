// Terminal Verification Results (95) bits this kernel sets (EMV Book 3 Annex C5).
export const TVR = {
  ODA_NOT_PERFORMED: [0, 0x80],
  ICC_DATA_MISSING: [0, 0x20],
  DDA_FAILED: [0, 0x08],
  CDA_FAILED: [0, 0x04],
  EXPIRED_APPLICATION: [1, 0x40],
  APPLICATION_NOT_YET_EFFECTIVE: [1, 0x20],
  CVM_NOT_SUCCESSFUL: [2, 0x80],
  UNRECOGNISED_CVM: [2, 0x40],
  PIN_PAD_NOT_AVAILABLE: [2, 0x10],
  ONLINE_PIN_ENTERED: [2, 0x04],
  FLOOR_LIMIT_EXCEEDED: [3, 0x80],
} as const satisfies Record<string, readonly [number, number]>;

export function setTvr(tvr: Uint8Array, bit: readonly [number, number]): void {
  tvr[bit[0]]! |= bit[1];
}
