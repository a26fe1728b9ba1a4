// Typed QR errors: the code says what was wrong, the message names the field (and the clause of
// the EMVCo specification it breaks), `field` is the MPM ID or the CPM tag.
export type QrErrorCode =
  | 'CRC_INVALID'          // MPM: ID 63 does not match the payload
  | 'CRC_MISSING'          // MPM: the payload does not end with ID 63 of 4 characters
  | 'MALFORMED'            // not ID-length-value (MPM) / not BER-TLV (CPM), or a structure rule broken
  | 'MISSING_FIELD'        // a mandatory data object or template is absent
  | 'INVALID_FIELD'        // a data object's value breaks its format or length
  | 'DUPLICATE_FIELD'      // an ID twice in one template (MPM §4.3.1.2); a primitive twice in the POI Data (CPM §5.1.10)
  | 'MISPLACED_FIELD'      // a data object where the specification does not put it (MPM 00 first / 63 last; CPM 63 only in 61, 64 only in 62 …)
  | 'VERSION_UNSUPPORTED'  // a well-formed payload format indicator of another version (CPM "CPV02")
  | 'NOT_ELIGIBLE'         // CPM §5.1.5: no application template matches an AID the POI supports
  | 'BASE64_INVALID'       // CPM: the text is not RFC 4648 Base64
  | 'TOO_LONG';            // a value longer than the format allows (generator)

export class QrError extends Error {
  constructor(readonly code: QrErrorCode, message: string, readonly field?: string) {
    super(message);
    this.name = 'QrError';
  }
}
