// The one interface between a TEE client and a TEE: an encoded tee.v1 ClientRequest in, the
// encoded ClientResponse out (proto/tee.proto). The client library (ree/tee-client) speaks
// through it; the reference runtime's driver (tee/driver.ts), the C host's pipe
// (tee-c/transport.ts) and a phone's native TEE bridge implement it, without importing ree/.

/** Carries one encoded ClientRequest to the TEE and brings back the encoded ClientResponse. */
export interface TeeTransport {
  exchange(request: Uint8Array): Promise<Uint8Array>;
}
