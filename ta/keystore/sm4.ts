// SM4 keys the UnionPay way (docs/keystore.md#sm4): working keys downloaded SM4-ECB encrypted
// under an SM4 terminal master key (K0) with their check value, and UnionPay SM4 PIN blocks
// encrypted under a static SM4 PIN key (P0) for the pinpad TA. TR-31 / X9.143 has no SM4
// algorithm code, so these keys never travel as key blocks.
import { Reply } from "../lib/entry";
import {
  ImportWrappedKeyRequest, ImportWrappedKeyResponse, EncryptPinBlockRequest, EncryptPinBlockResponse,
  KeyUsage, PinBlockFormat,
} from "../../proto/gen/as/keystore";
import { SM4_ECB, encrypt, decrypt } from "../lib/cipher";
import { equalCT, wipe } from "../lib/bytes";
import { ERROR_BAD_PARAMETERS, ERROR_ACCESS_DENIED, ERROR_GENERIC, ERROR_MAC_INVALID } from "../lib/status";
import { Op } from "./policy";
import { checkAttributes } from "./attributes";
import { isSm4 } from "./tr31-map";
import { keyFor, decodeFailed, badKeyId } from "./common";
import { storeNewKey } from "./keys";
import { strengthOf } from "./blocks";

/** COMMAND_IMPORT_WRAPPED_KEY (REE): an SM4 P0 working key under an SM4 K0 key. The wrapped
 * bytes carry no attributes, so the caller's claim is held to what cannot decrypt: a P0 key
 * (mode E or B; the keystore has no PIN decryption). A data key (D0) is never accepted this
 * way: the ciphertext of a PIN key imported as a D0 decryption key would decrypt PIN blocks. */
export function importWrapped(input: Uint8Array, reply: Reply): void {
  const req = ImportWrappedKeyRequest.decode(input);
  if (!req) return decodeFailed(reply, "ImportWrappedKeyRequest");
  if (badKeyId(reply, req.keyId)) return;
  const attrs = req.attributes;
  if (!attrs) return reply.fail(ERROR_BAD_PARAMETERS, "attributes are required");
  const why = checkAttributes(attrs);
  if (why.length) return reply.fail(ERROR_BAD_PARAMETERS, why);
  if (!isSm4(attrs.algorithm) || attrs.usage != KeyUsage.KEY_USAGE_P0_PIN_ENCRYPTION) {
    return reply.fail(ERROR_BAD_PARAMETERS, "IMPORT_WRAPPED_KEY carries SM4 PIN keys (P0, mode E or B) only; AES and TDES keys travel as TR-31 blocks");
  }
  if (req.wrapped.length != 16) return reply.fail(ERROR_BAD_PARAMETERS, "wrapped must be the 16-byte SM4-ECB encryption of the key");
  if (req.checkValue.length < 4 || req.checkValue.length > 8) return reply.fail(ERROR_BAD_PARAMETERS, "check_value must be the leftmost 4..8 bytes of SM4-ECB(key, 16 zero bytes)");
  const kek = keyFor(reply, req.kekId, Op.UNWRAP_KEY, "KEK");
  if (!kek) return;
  const ka = kek.info!.attributes!;
  if (!isSm4(ka.algorithm) || ka.usage != KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION) {
    wipe(kek.material);
    return reply.fail(ERROR_ACCESS_DENIED, "KEK " + req.kekId + ": IMPORT_WRAPPED_KEY unwraps under an SM4 K0 key only");
  }
  if (strengthOf(ka.algorithm) < strengthOf(attrs.algorithm)) {
    wipe(kek.material);
    return reply.fail(ERROR_ACCESS_DENIED, "the KEK is weaker than the key it carries");
  }
  const key = decrypt(SM4_ECB, kek.material, req.wrapped);
  wipe(kek.material);
  if (!key) return reply.fail(ERROR_GENERIC, "SM4 unwrap failed");
  const full = encrypt(SM4_ECB, key, new Uint8Array(16));
  if (!full) { wipe(key); return reply.fail(ERROR_GENERIC, "check value computation failed"); }
  const match = equalCT(full.subarray(0, req.checkValue.length), req.checkValue);
  wipe(full);
  if (!match) { wipe(key); return reply.fail(ERROR_MAC_INVALID, "the unwrapped key does not match its check value (wrong KEK or altered key)"); }
  const info = storeNewKey(reply, req.keyId, attrs, key, req.kekId, null);
  if (!info) return;
  const res = new ImportWrappedKeyResponse();
  res.key = info;
  reply.ok(res.encode());
}

/** COMMAND_ENCRYPT_PIN_BLOCK, from the pinpad TA only (checked in index.ts): a UnionPay SM4
 * clear PIN block under a static SM4 P0 key. The clear block is wiped on every path. */
export function encryptPinBlock(input: Uint8Array, reply: Reply): void {
  const req = EncryptPinBlockRequest.decode(input);
  if (!req) return decodeFailed(reply, "EncryptPinBlockRequest");
  const clear = req.clearPinBlock;
  if (req.format != PinBlockFormat.PIN_BLOCK_FORMAT_UNIONPAY_SM4) { wipe(clear); return reply.fail(ERROR_BAD_PARAMETERS, "static PIN keys encrypt UnionPay SM4 PIN blocks only (format 0 and 4 go under DUKPT)"); }
  if (clear.length != 16) { wipe(clear); return reply.fail(ERROR_BAD_PARAMETERS, "the UnionPay SM4 PIN block is 16 bytes"); }
  const rec = keyFor(reply, req.keyId, Op.PIN_ENCRYPT, "PIN key");
  if (!rec) { wipe(clear); return; }
  if (!isSm4(rec.info!.attributes!.algorithm)) {
    wipe(clear); wipe(rec.material);
    return reply.fail(ERROR_BAD_PARAMETERS, "PIN key " + req.keyId + " is not an SM4 key: the UnionPay SM4 PIN block needs one");
  }
  const out = encrypt(SM4_ECB, rec.material, clear);
  wipe(clear);
  wipe(rec.material);
  if (!out) return reply.fail(ERROR_GENERIC, "SM4 encryption of the PIN block failed");
  const res = new EncryptPinBlockResponse();
  res.encryptedPinBlock = out;
  reply.ok(res.encode());
}
