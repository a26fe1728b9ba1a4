// Domain separation of P-256 signatures (proto/attest.proto): a key signs `label || 0x00 ||
// bytes`, never bare bytes, so a signature made for one purpose cannot be replayed as another.
// The back end checks these labels, the OEM root (sim/oem) and the TAs sign with them.

/** Signature labels of the device identity key and the OEM certificates. */
export const LABEL = {
  evidence: 'trusttap/evidence/v1',
  deviceRequest: 'trusttap/device-request/v1',
  taSign: 'trusttap/ta-sign/v1',
  oemCert: 'trusttap/oem-cert/v1',
  /** The back end's verdict-token key over a txsign OfflinePolicy (proto/txsign.proto). */
  offlinePolicy: 'trusttap/offline-policy/v1',
} as const;

/** label || 0x00 || bytes: what a key signs for one purpose. */
export function labelled(label: string, bytes: Uint8Array): Uint8Array {
  const l = new TextEncoder().encode(label);
  const out = new Uint8Array(l.length + 1 + bytes.length);
  out.set(l); out.set(bytes, l.length + 1);
  return out;
}
