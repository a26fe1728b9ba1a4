// UUIDs of the TrustTap trusted apps (also in each ta/<name>/ta.json): TAs decide by these
// which other TA may use which of their services.
export const KEYSTORE_UUID = "5b9e0e40-2636-11e1-ad9e-0002a5d5c51b";
export const PINPAD_UUID = "3f1c9a40-5a1e-4b7d-8c2e-9b0d7e1a2c30";
export const TXSIGN_UUID = "7a1c5e00-7e5f-4c0d-9a11-7857a7e5f160";
export const ATTEST_UUID = "a77e5700-0d1c-4e0a-9b5e-a77e57a77e57";
