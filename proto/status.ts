// GlobalPlatform TEE result codes and origins (GPD_SPE_007 TEE Client API v1.0 §4.4,
// GPD_SPE_010 TEE Internal Core API v1.3 §3.3). The TS source of truth; ta/lib/status.ts
// mirrors it for AssemblyScript and a test keeps the two equal.
export const Status = {
  SUCCESS: 0x00000000,
  ERROR_CORRUPT_OBJECT: 0xf0100001,
  ERROR_GENERIC: 0xffff0000,
  ERROR_ACCESS_DENIED: 0xffff0001,
  ERROR_CANCEL: 0xffff0002,
  ERROR_ACCESS_CONFLICT: 0xffff0003,
  ERROR_EXCESS_DATA: 0xffff0004,
  ERROR_BAD_FORMAT: 0xffff0005,
  ERROR_BAD_PARAMETERS: 0xffff0006,
  ERROR_BAD_STATE: 0xffff0007,
  ERROR_ITEM_NOT_FOUND: 0xffff0008,
  ERROR_NOT_IMPLEMENTED: 0xffff0009,
  ERROR_NOT_SUPPORTED: 0xffff000a,
  ERROR_NO_DATA: 0xffff000b,
  ERROR_OUT_OF_MEMORY: 0xffff000c,
  ERROR_BUSY: 0xffff000d,
  ERROR_COMMUNICATION: 0xffff000e,
  ERROR_SECURITY: 0xffff000f,
  ERROR_SHORT_BUFFER: 0xffff0010,
  ERROR_EXTERNAL_CANCEL: 0xffff0011,
  ERROR_OVERFLOW: 0xffff300f,
  ERROR_TARGET_DEAD: 0xffff3024,
  ERROR_STORAGE_NO_SPACE: 0xffff3041,
  ERROR_MAC_INVALID: 0xffff3071,
  ERROR_SIGNATURE_INVALID: 0xffff3072,
  ERROR_TIME_NOT_SET: 0xffff5000,
  ERROR_TIME_NEEDS_RESET: 0xffff5001,
} as const;
export type StatusName = keyof typeof Status;

export const Origin = {
  API: 1,
  COMMS: 2,
  TEE: 3,
  TRUSTED_APP: 4,
} as const;
export type OriginName = keyof typeof Origin;

const byValue = new Map<number, StatusName>(Object.entries(Status).map(([k, v]) => [v, k as StatusName]));

/** `ERROR_BAD_PARAMETERS (0xFFFF0006)`; accepts the i32 view a Wasm import returns. */
export function statusName(code: number): string {
  const u = code >>> 0;
  return `${byValue.get(u) ?? 'UNKNOWN'} (0x${u.toString(16).toUpperCase().padStart(8, '0')})`;
}

export function originName(origin: number): string {
  return Object.entries(Origin).find(([, v]) => v === origin)?.[0] ?? `UNKNOWN(${origin})`;
}
