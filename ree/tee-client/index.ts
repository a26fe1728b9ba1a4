export { TeeContext, TeeSession, TeeError, type TeeTransport, type MessageType } from './client.ts';
export { KeystoreClient, ks, type KeyInfo, type KeyAttributes, type KeyLimits, type DukptStatus } from './keystore.ts';
export { TxsignClient, tx, type TransactionRecordInput } from './txsign.ts';
export { AttestClient, encodeSignedEvidence, type SignedEvidenceBytes, type CertificateChain } from '../attestation/client.ts';
