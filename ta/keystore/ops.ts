// Cryptographic operations with stored keys, each allowed only by the key's usage and mode:
// MACs (ISO 9797-1 algorithms 1 and 3, CMAC) with M keys, data encryption with D0 keys (TDES,
// AES or SM4).
import { Reply } from "../lib/entry";
import {
  GenerateMacRequest, GenerateMacResponse, VerifyMacRequest, VerifyMacResponse, CipherRequest, CipherResponse, MacAlgorithm,
} from "../../proto/gen/as/keystore";
import { StoredKey } from "../../proto/gen/as/keystore_sealed";
import { macAlg1, retailMac } from "../lib/mac-iso9797";
import { cmac } from "../lib/cmac";
import { PAD_METHOD_1, PAD_METHOD_2 } from "../lib/padding";
import { AES_ECB, AES_CBC, TDES_ECB, TDES_CBC, SM4_ECB, SM4_CBC, encrypt, decrypt } from "../lib/cipher";
import { equalCT, wipe } from "../lib/bytes";
import { ERROR_BAD_PARAMETERS, ERROR_ACCESS_DENIED, ERROR_MAC_INVALID } from "../lib/status";
import { Op, macAlgorithmAllowed } from "./policy";
import { isAes, isSm4 } from "./tr31-map";
import { keyFor, decodeFailed, algorithmFailed } from "./common";

function computeMac(reply: Reply, rec: StoredKey, alg: MacAlgorithm, data: Uint8Array): Uint8Array | null {
  const aes = isAes(rec.info!.attributes!.algorithm);
  const why = macAlgorithmAllowed(rec.info!.attributes!, alg, aes);
  if (why.length) { reply.fail(ERROR_ACCESS_DENIED, why); return null; }
  const k = rec.material;
  let m: Uint8Array | null = null;
  switch (alg) {
    case MacAlgorithm.MAC_ALGORITHM_ISO9797_1_ALG1_PAD1: m = macAlg1(TDES_CBC, k, data, PAD_METHOD_1); break;
    case MacAlgorithm.MAC_ALGORITHM_ISO9797_1_ALG1_PAD2: m = macAlg1(TDES_CBC, k, data, PAD_METHOD_2); break;
    case MacAlgorithm.MAC_ALGORITHM_ISO9797_1_ALG3_PAD1: m = retailMac(k, data, PAD_METHOD_1); break;
    case MacAlgorithm.MAC_ALGORITHM_ISO9797_1_ALG3_PAD2: m = retailMac(k, data, PAD_METHOD_2); break;
    case MacAlgorithm.MAC_ALGORITHM_CMAC: m = cmac(aes ? AES_ECB : TDES_ECB, k, data, aes ? 16 : 8); break;
  }
  if (!m) algorithmFailed(reply, "computing the MAC");
  return m;
}

export function generateMac(input: Uint8Array, reply: Reply): void {
  const req = GenerateMacRequest.decode(input);
  if (!req) return decodeFailed(reply, "GenerateMacRequest");
  const rec = keyFor(reply, req.keyId, Op.MAC_GENERATE, "MAC key");
  if (!rec) return;
  const m = computeMac(reply, rec, req.algorithm, req.data);
  wipe(rec.material);
  if (!m) return;
  const res = new GenerateMacResponse();
  res.mac = m;
  reply.ok(res.encode());
}

/** Verifies a MAC of 4 bytes or more (leftmost bytes, as ISO 9797-1 truncation) in constant time. */
export function verifyMac(input: Uint8Array, reply: Reply): void {
  const req = VerifyMacRequest.decode(input);
  if (!req) return decodeFailed(reply, "VerifyMacRequest");
  const rec = keyFor(reply, req.keyId, Op.MAC_VERIFY, "MAC key");
  if (!rec) return;
  const m = computeMac(reply, rec, req.algorithm, req.data);
  wipe(rec.material);
  if (!m) return;
  if (req.mac.length < 4 || req.mac.length > m.length) return reply.fail(ERROR_BAD_PARAMETERS, "MAC must be 4 bytes up to the block length");
  if (!equalCT(m.subarray(0, req.mac.length), req.mac)) return reply.fail(ERROR_MAC_INVALID, "MAC does not verify");
  reply.ok(new VerifyMacResponse().encode());
}

function cipherCommand(input: Uint8Array, reply: Reply, op: Op): void {
  const req = CipherRequest.decode(input);
  if (!req) return decodeFailed(reply, "CipherRequest");
  const rec = keyFor(reply, req.keyId, op, "data key");
  if (!rec) return;
  const alg0 = rec.info!.attributes!.algorithm;
  const aes = isAes(alg0);
  const sm4 = isSm4(alg0);
  const bl = aes || sm4 ? 16 : 8;
  if (req.data.length == 0 || req.data.length % bl != 0) { wipe(rec.material); return reply.fail(ERROR_BAD_PARAMETERS, "data must be a non-empty multiple of " + bl.toString() + " bytes"); }
  if (req.iv.length != 0 && req.iv.length != bl) { wipe(rec.material); return reply.fail(ERROR_BAD_PARAMETERS, "IV must be empty (ECB) or one block (CBC)"); }
  const cbc = req.iv.length != 0;
  const alg = sm4 ? (cbc ? SM4_CBC : SM4_ECB) : aes ? (cbc ? AES_CBC : AES_ECB) : (cbc ? TDES_CBC : TDES_ECB);
  const out = op == Op.ENCRYPT ? encrypt(alg, rec.material, req.data, cbc ? req.iv : null) : decrypt(alg, rec.material, req.data, cbc ? req.iv : null);
  wipe(rec.material);
  if (!out) return algorithmFailed(reply, "the cipher");
  const res = new CipherResponse();
  res.data = out;
  reply.ok(res.encode());
}

export function encryptData(input: Uint8Array, reply: Reply): void {
  cipherCommand(input, reply, Op.ENCRYPT);
}

export function decryptData(input: Uint8Array, reply: Reply): void {
  cipherCommand(input, reply, Op.DECRYPT);
}
