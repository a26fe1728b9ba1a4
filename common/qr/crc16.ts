// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), as EMV QRCPS
// Merchant-Presented Mode §4.7.3 requires for ID 63; check value of "123456789" is 29B1.
export function crc16CcittFalse(data: Uint8Array): number {
  let crc = 0xffff;
  for (const b of data) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function crcHex(s: string): string {
  return crc16CcittFalse(new TextEncoder().encode(s)).toString(16).toUpperCase().padStart(4, '0');
}
