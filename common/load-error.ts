// Why a signed build or one of its TAs was refused: one error type with a stable code, for the
// manifest format (common/manifest.ts, which the back end also checks) and the runtime's
// load-time checks (tee/loader), so a caller catches one thing and switches on the code.

export type LoadErrorCode =
  | 'NO_MANIFEST' // manifest.json missing or unreadable
  | 'UNSIGNED' // manifest.sig missing or empty
  | 'BAD_SIGNATURE' // signature malformed or not valid for the trusted key
  | 'BAD_MANIFEST' // signed, but not a well-formed manifest
  | 'ABI_MISMATCH' // manifest/TA built for another host or TA ABI version
  | 'UNKNOWN_TA' // no such TA (name or UUID) in the manifest
  | 'HASH_MISMATCH' // wasm bytes differ from the manifest (sha256 or size)
  | 'MANIFEST_MISMATCH' // wasm hash matches but the manifest's description of it does not
  | 'NOT_WASM' // not a parseable WebAssembly binary
  | 'UNKNOWN_IMPORT' // import not in the host ABI (or not a function)
  | 'BAD_IMPORT_SIGNATURE' // import in the host ABI, but with another signature
  | 'DEBUG_IMPORT_IN_RELEASE' // tee.log / env.trace in a release TA
  | 'DEBUG_TA_IN_RELEASE' // a debug build where a release build is required
  | 'MISSING_EXPORT' // a TA ABI export is missing or of the wrong kind
  | 'NO_MEMORY' // the module has no memory
  | 'NO_MAXIMUM_MEMORY' // the memory declares no maximum
  | 'TA_ROLLBACK'; // a correctly signed TA older than one this device loaded before

export class LoadError extends Error {
  constructor(readonly code: LoadErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'LoadError';
  }
}
