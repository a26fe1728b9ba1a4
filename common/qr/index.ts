// `trusttap/qr` — the EMVCo QR codec: merchant-presented (MPM) generate/parse, consumer-presented
// (CPM) parse, CRC-16, with typed errors.
export { generateMerchantQr, parseMerchantQr, unionPayAccount, parseUnionPayAccount, networkOf, UNIONPAY_RID, type MerchantQr, type AccountTemplate } from './merchant-presented.ts';
export { parseConsumerQr, type ConsumerQr, type ConsumerQrSensitive, type CpmApplication } from './consumer-presented.ts';
export { crc16CcittFalse, crcHex } from './crc16.ts';
export { QrError, type QrErrorCode } from './errors.ts';
export { parseQrObjects, encodeQrObject, type QrObject } from './tlv-qr.ts';
