// Host ABI v1 (module "tee") as seen from a trusted app. The runtime declares the same table
// in tee/abi/table.ts and refuses any TA that imports something else. Convention: an i32
// result >= 0 is a value (a length, a handle), < 0 is a GlobalPlatform status code viewed as
// i32 (see status.ts). Every (ptr, len) is bounds-checked by the host; a bad one panics the TA.

export const HOST_ABI_VERSION: u32 = 1;

// Algorithm identifiers: GP TEE Internal Core API v1.3 values (mirrors tee/abi/algorithms.ts).
export const ALG_AES_ECB_NOPAD: u32 = 0x10000010;
export const ALG_AES_CBC_NOPAD: u32 = 0x10000110;
export const ALG_DES3_ECB_NOPAD: u32 = 0x10000013;
export const ALG_DES3_CBC_NOPAD: u32 = 0x10000113;
export const ALG_SM4_ECB_NOPAD: u32 = 0x10000014;
export const ALG_SM4_CBC_NOPAD: u32 = 0x10000114;
export const ALG_SHA256: u32 = 0x50000004;
export const ALG_SM3: u32 = 0x50000007;
export const ALG_HMAC_SHA256: u32 = 0x30000004;
export const ALG_HMAC_SM3: u32 = 0x30000007;
export const ALG_ECDSA_P256: u32 = 0x70003041;
export const ALG_SM2_DSA_SM3: u32 = 0x70006045;
export const ALG_ED25519: u32 = 0x70006043;
export const ALG_ECDH_P256: u32 = 0x80003042;
export const MODE_ENCRYPT: u32 = 0;
export const MODE_DECRYPT: u32 = 1;
export const CURVE_NIST_P256: u32 = 0x00000003;
export const CURVE_SM2: u32 = 0x00000400;

/** Fills [ptr, ptr+len) with bytes from the TEE's random source. */
@external("tee", "random")
export declare function random(ptr: usize, len: u32): void;

/** Monotonic milliseconds since the TEE started (TEE_GetSystemTime). */
@external("tee", "clock_ms")
export declare function clock_ms(): f64;

/** Wall-clock milliseconds since the Unix epoch as the REE reports it (TEE_GetREETime). */
@external("tee", "ree_time_ms")
export declare function ree_time_ms(): f64;

/** Derives len bytes from the hardware unique key, bound to this TA's identity and the label. */
@external("tee", "huk_derive")
export declare function huk_derive(labelPtr: usize, labelLen: u32, outPtr: usize, outLen: u32): i32;

/** Sealed storage: returns the object's length, ERROR_ITEM_NOT_FOUND, or ERROR_CORRUPT_OBJECT
 * (tampered) / ERROR_SECURITY (rolled back). */
@external("tee", "storage_size")
export declare function storage_size(idPtr: usize, idLen: u32): i32;
/** Reads the object into out; ERROR_SHORT_BUFFER if outCap is below its length. */
@external("tee", "storage_read")
export declare function storage_read(idPtr: usize, idLen: u32, outPtr: usize, outCap: u32): i32;
/** Replaces the object atomically (all or nothing, even across a crash). */
@external("tee", "storage_write")
export declare function storage_write(idPtr: usize, idLen: u32, dataPtr: usize, dataLen: u32): i32;
@external("tee", "storage_delete")
export declare function storage_delete(idPtr: usize, idLen: u32): i32;
/** Writes the object ids of this TA, each as [len u8][id], into out; returns bytes written. */
@external("tee", "storage_list")
export declare function storage_list(outPtr: usize, outCap: u32): i32;

/** Allocates a symmetric cipher operation with its key (TEE_AllocateOperation +
 * TEE_SetOperationKey + TEE_CipherInit): returns a handle. */
@external("tee", "cipher_init")
export declare function cipher_init(alg: u32, mode: u32, keyPtr: usize, keyLen: u32, ivPtr: usize, ivLen: u32): i32;
/** Processes len bytes (a multiple of the block size); CBC chains across calls. */
@external("tee", "cipher_update")
export declare function cipher_update(handle: i32, inPtr: usize, len: u32, outPtr: usize): i32;
/** The whole operation in one call (host ABI 1.3): allocate, set the key, process len bytes (a
 * multiple of the block size), free. Returns 0 or a status. */
@external("tee", "cipher_once")
export declare function cipher_once(alg: u32, mode: u32, keyPtr: usize, keyLen: u32, ivPtr: usize, ivLen: u32, inPtr: usize, len: u32, outPtr: usize): i32;
/** TEE_FreeOperation. */
@external("tee", "op_free")
export declare function op_free(handle: i32): void;

/** One-shot digest (SHA-256, SM3): returns the digest length. */
@external("tee", "digest")
export declare function digest(alg: u32, inPtr: usize, len: u32, outPtr: usize): i32;
/** One-shot HMAC (HMAC-SHA256, HMAC-SM3): returns the MAC length. */
@external("tee", "hmac")
export declare function hmac(alg: u32, keyPtr: usize, keyLen: u32, inPtr: usize, len: u32, outPtr: usize): i32;

/** Generates a key pair on the curve: private scalar (32 bytes) and uncompressed public point (65). */
@external("tee", "ecc_generate")
export declare function ecc_generate(curve: u32, privOut: usize, pubOut: usize): i32;
/** Signs msg (ECDSA P-256 over SHA-256; SM2 over SM3 with the default ID): r||s, 64 bytes. */
@external("tee", "ecc_sign")
export declare function ecc_sign(alg: u32, privPtr: usize, msgPtr: usize, msgLen: u32, sigOut: usize): i32;
/** Returns SUCCESS or ERROR_SIGNATURE_INVALID. */
@external("tee", "ecc_verify")
export declare function ecc_verify(alg: u32, pubPtr: usize, pubLen: u32, msgPtr: usize, msgLen: u32, sigPtr: usize, sigLen: u32): i32;
/** Host ABI 1.1: Ed25519 (alg ALG_ED25519, pure, over the message) with a 32-byte public key and
 * a 64-byte signature: SUCCESS or ERROR_SIGNATURE_INVALID. A runtime older than 1.1 refuses to
 * load a TA that calls it (UNKNOWN_IMPORT). */
@external("tee", "eddsa_verify")
export declare function eddsa_verify(alg: u32, pubPtr: usize, pubLen: u32, msgPtr: usize, msgLen: u32, sigPtr: usize, sigLen: u32): i32;
/** ECDH P-256: the 32-byte shared secret x-coordinate. */
@external("tee", "ecdh")
export declare function ecdh(privPtr: usize, pubPtr: usize, pubLen: u32, outPtr: usize): i32;

/** TA-to-TA sessions (TEE_OpenTASession): the callee learns this TA's UUID as the client. */
@external("tee", "session_open")
export declare function session_open(uuidPtr: usize): i32;
/** TEE_InvokeTACommand: returns the callee's response length or a status < 0 (the callee's
 * error detail, if any, is in out). */
@external("tee", "session_invoke")
export declare function session_invoke(session: i32, command: u32, inPtr: usize, inLen: u32, outPtr: usize, outCap: u32): i32;
@external("tee", "session_close")
export declare function session_close(session: i32): void;

/** Debug log; ta/lib/log.ts calls it only in debug builds, so release TAs do not import it. */
@external("tee", "log")
export declare function log(ptr: usize, len: u32): void;

/** The runtime's own measurements: an encoded trusttap.attest.v1.Measurements (runtime and
 * host ABI version, manifest SHA-256, SHA-256 of each loaded TA image, boot state). Returns its
 * length, ERROR_SHORT_BUFFER, or ERROR_NOT_SUPPORTED. */
@external("tee", "attest_measurements")
export declare function attest_measurements(outPtr: usize, outCap: u32): i32;
/** The device's OEM attestation key certifies a P-256 public key (65 bytes) for the calling TA
 * (the certificate names the caller's UUID and image hash): an encoded
 * trusttap.attest.v1.CertificateChain, leaf first. Returns its length or a status < 0. */
@external("tee", "oem_certify")
export declare function oem_certify(pubPtr: usize, pubLen: u32, outPtr: usize, outCap: u32): i32;

/** Trusted UI (docs/trusted-ui.md): shows an encoded trusttap.tee.v1.TuiScreen on the TEE's
 * display. When the TA then answers the command with Reply.pending(), the command stays pending
 * and the person's events arrive through TrustedApp.tuiEvent (export ta_tui_event, which a TA
 * importing this must re-export from entry.ts). Returns SUCCESS or a status < 0. */
@external("tee", "tui_begin")
export declare function tui_begin(screenPtr: usize, screenLen: u32, timeoutMs: u32): i32;
/** Replaces the screen of the TA's active entry (dots for digits entered, a notice). */
@external("tee", "tui_update")
export declare function tui_update(screenPtr: usize, screenLen: u32): i32;

/** ta_tui_event kinds (trusttap.tee.v1.TuiEventKind). */
export const TUI_EVENT_TOUCH: u32 = 1;
export const TUI_EVENT_OK: u32 = 2;
export const TUI_EVENT_CLEAR: u32 = 3;
export const TUI_EVENT_CANCEL: u32 = 4;
export const TUI_EVENT_TIMEOUT: u32 = 5;
export const TUI_EVENT_ABORT: u32 = 6;
/** A touch on the TA's own pixels; position = y << 16 | x (host ABI 1.2). */
export const TUI_EVENT_TOUCH_AT: u32 = 7;
