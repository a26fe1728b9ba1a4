// The back end's HSM interface: every private or secret key the back end uses stays behind it.
// The default implementation (software-hsm.ts) keeps keys encrypted under a local master key and
// runs the payment algorithms in the same AssemblyScript code as the TAs (wasm.ts).
export const SERVICE_KEYS = ['response', 'token', 'device-ca', 'key-agreement'] as const;
export type ServiceKeyName = typeof SERVICE_KEYS[number];

export interface KeyAgreement {
  /** The back end's ephemeral public key (65 bytes). */
  ephemeralPublicKey: Uint8Array;
  /** HMAC tag the device checks (KC_1_V). */
  macTagV: Uint8Array;
  /** KEK and KCK, wrapped under the master key, for the key download step. */
  wrappedKeys: Uint8Array;
}

export interface WrappedKey {
  keyId: string;
  /** TR-31 version D key block under the KEK. */
  tr31: string;
  kcv: Uint8Array;
  initialKeyId?: Uint8Array;
}

/** Methods that read a stored key are asynchronous (the keys are held wrapped in the database, and
 * a network HSM answers over a socket); signing with the service keys, loaded when the HSM opens,
 * is not. */
export interface Hsm {
  /** Public point (65 bytes) of a service signing key (made when the HSM first opened on this database). */
  publicKey(name: ServiceKeyName): Uint8Array;
  /** ECDSA P-256/SHA-256 r||s with a service key. */
  sign(name: ServiceKeyName, message: Uint8Array): Uint8Array;
  /** The same signature computed off the event loop (a software HSM: libuv's thread pool). */
  signAsync(name: ServiceKeyName, message: Uint8Array): Promise<Uint8Array>;

  /** An acquirer's own ECDSA P-256 signing key (issue 16 §1, e.g. `acq.<id>.key-agreement`),
   * made on first use if absent; returns its public point (65 bytes). */
  signingKey(keyId: string): Promise<Uint8Array>;
  /** ECDSA P-256/SHA-256 r||s with a signing key made by signingKey (made if absent). */
  signWith(keyId: string, message: Uint8Array): Promise<Uint8Array>;

  /** Creates a base derivation key (AES-128 for AES DUKPT) under an id; returns its KCV. */
  generateBdk(bdkId: string): Promise<Uint8Array>;
  hasBdk(bdkId: string): Promise<boolean>;

  /** ECDH with the device identity key, SP 800-56C KDF, back-end confirmation tag. */
  agreeKek(devicePublicKey: Uint8Array, sessionId: string): KeyAgreement;
  /** Checks the device's KC_1_U tag; false if it does not match. */
  checkDeviceConfirmation(sessionId: string, wrappedKeys: Uint8Array, macTagU: Uint8Array): boolean;
  /** Derives the AES DUKPT initial key for initialKeyId from the BDK and wraps it in a TR-31 D
   * block (usage B1, mode X, optional block IK) under the session's KEK. */
  wrapDukptInitialKey(sessionId: string, wrappedKeys: Uint8Array, bdkId: string, initialKeyId: Uint8Array, keyId: string): Promise<WrappedKey>;
  /** Checks an AES DUKPT request MAC (AES-CMAC under the MAC generation key of ksn, derived
   * from the BDK) over data; false if it does not match. */
  verifyDukptMac(bdkId: string, ksn: Uint8Array, data: Uint8Array, mac: Uint8Array): Promise<boolean>;
  /** KCV (AES-CMAC, 5 bytes) of the session's KEK, to compare with the device's. */
  kekKcv(sessionId: string, wrappedKeys: Uint8Array): Uint8Array;

  // ---- authorization (issue 7)
  /** Decrypts data the device encrypted under the AES DUKPT data-encryption request key of ksn
   * (AES-CBC, zero IV, ISO 9797-1 padding 2 removed); null if it does not decrypt (bad padding). */
  decryptDukptData(bdkId: string, ksn: Uint8Array, data: Uint8Array): Promise<Uint8Array | null>;
  /** verifyDukptMac over a txsign record and decryptDukptData of its card data in one operation,
   * the KSN's derivation key derived once (X9.24-3 derives both working keys from it). The MAC
   * first: when it does not verify nothing is decrypted (macValid false, data null); data null
   * also when the ciphertext does not decrypt. The caller wipes the data after use. */
  openDukptRecord(bdkId: string, ksn: Uint8Array, record: Uint8Array, mac: Uint8Array, encryptedData: Uint8Array): Promise<{ macValid: boolean; data: Uint8Array | null }>;
  /** Creates the PIN verification key (AES-128) under an id if absent. */
  ensurePinVerificationKey(pvkId: string): Promise<void>;
  /** Issuance: the PIN verification value of a PAN's PIN (8 bytes) — what an issuer stores
   * instead of the PIN. */
  pinVerificationValue(pvkId: string, pan: string, pin: string): Promise<Uint8Array>;
  /** Decrypts an ISO 9564 format 4 PIN block under the AES DUKPT PIN key of ksn and compares
   * the PIN with the PVV inside the HSM. The clear PIN never leaves it. */
  verifyDukptPin(bdkId: string, ksn: Uint8Array, pinBlock: Uint8Array, pan: string, pvkId: string, pvv: Uint8Array): Promise<PinCheck>;
  /** Creates a zone PIN key (AES-128, the PIN key an acquirer shares with its upstream) under an
   * id if absent (issue 16 §1). */
  ensureZonePinKey(zpkId: string): Promise<void>;
  /** ISO 9564-1 PIN translation in one HSM operation: the format 4 block under the AES DUKPT PIN
   * key of ksn becomes a format 4 block of the same PIN under the zone PIN key; null if the block
   * is not a format 4 PIN block for this PAN under that key. The clear PIN never leaves the HSM. */
  translateDukptPinToZpk(bdkId: string, ksn: Uint8Array, pinBlock: Uint8Array, pan: string, zpkId: string): Promise<Uint8Array | null>;
  /** The receiving side: a format 4 block under the zone PIN key compared with the PVV inside the HSM. */
  verifyZpkPin(zpkId: string, pinBlock: Uint8Array, pan: string, pvkId: string, pvv: Uint8Array): Promise<PinCheck>;
  /** Stores an issuer master key (AC) under an id: the double-length TDES key, or ('sm4') the
   * SM4 key of the same issuer for national-algorithm cards (16 bytes each). */
  importIssuerMasterKey(imkId: string, key: Uint8Array, algorithm?: 'tdes' | 'sm4'): Promise<void>;
  hasIssuerMasterKey(imkId: string, algorithm?: 'tdes' | 'sm4'): Promise<boolean>;
  /** Verifies an ARQC with the ICC key derived from the issuer master key (backend/issuer) and
   * answers the ARPC for the given ARC (method 1) or CSU (method 2). A PBOC card's IAD decides
   * whether the TDES or the SM4 key of imkId is used. */
  verifyArqc(imkId: string, req: ArqcCheck): Promise<{ valid: boolean; arpc?: Uint8Array }>;
}

export type PinCheck = 'match' | 'mismatch' | 'bad-block';

export interface ArqcCheck {
  cvn: string;
  pan: string;
  psn: string;
  iccData: Map<string, Uint8Array>;
  /** Authorisation Response Code (2 bytes, ARPC method 1) */
  arc: Uint8Array;
  /** Card Status Update (4 bytes, ARPC method 2) */
  csu: Uint8Array;
}
