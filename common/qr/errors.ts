// Typed QR errors: the code says what was wrong, the message names the field.
export type QrErrorCode = 'CRC_INVALID' | 'CRC_MISSING' | 'MALFORMED' | 'MISSING_FIELD' | 'INVALID_FIELD' | 'BASE64_INVALID' | 'TOO_LONG';

export class QrError extends Error {
  constructor(readonly code: QrErrorCode, message: string, readonly field?: string) {
    super(message);
    this.name = 'QrError';
  }
}
