// Key transport: keys enter as TR-31 / ANSI X9.143 key blocks under a KEK this keystore holds
// and leave only that way, only if exportable, and only under a KEK at least as strong.
// The unwrap verifies the block's MAC before anything of it is used (ta/lib/tr31.ts).
import { Reply } from "../lib/entry";
import {
  KeyAttributes, KeyAlgorithm, KeyUsage, Exportability, ImportKeyBlockRequest, ImportKeyBlockResponse,
  ExportKeyBlockRequest, ExportKeyBlockResponse,
} from "../../proto/gen/as/keystore";
import { StoredKey } from "../../proto/gen/as/keystore_sealed";
import { unwrap, wrapHeader, VERSION_B, VERSION_D, VERSION_E } from "../lib/tr31";
import { Tr31Header } from "../lib/tr31-header";
import { bytesOf, wipe } from "../lib/bytes";
import { ERROR_BAD_PARAMETERS, ERROR_NOT_SUPPORTED, ERROR_ACCESS_DENIED } from "../lib/status";
import { Op } from "./policy";
import { checkAttributes } from "./attributes";
import {
  usageCode, usageFromCode, modeChar, modeFromChar, exportChar, exportFromChar, algorithmChar, algorithmFrom, keyLength, isAes, isSm4,
} from "./tr31-map";
import { keyFor, decodeFailed, algorithmFailed, badKeyId } from "./common";
import { storeNewKey } from "./keys";

function hexBytes(s: string): Uint8Array | null {
  if (s.length % 2 != 0) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexVal(s.charCodeAt(2 * i)), lo = hexVal(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = <u8>((hi << 4) | lo);
  }
  return out;
}

function hexVal(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function decimal2(s: string): i32 {
  if (s.length != 2) return -1;
  const a = s.charCodeAt(0) - 48, b = s.charCodeAt(1) - 48;
  return a < 0 || a > 9 || b < 0 || b > 9 ? -1 : a * 10 + b;
}

/** Key strength in bits for the "KEK at least as strong" rule (NIST SP 800-57 Part 1 Table 2:
 * AES-n n bits, three-key TDES 112, two-key TDES 80; SM4, a 128-bit block cipher with no attack
 * better than exhaustive key search known, is counted as 128 like AES-128). */
export function strengthOf(alg: KeyAlgorithm): i32 {
  if (isAes(alg) || isSm4(alg)) return keyLength(alg) * 8;
  return keyLength(alg) == 24 ? 112 : 80;
}

function strength(rec: StoredKey): i32 {
  return strengthOf(rec.info!.attributes!.algorithm);
}

export function importKeyBlock(input: Uint8Array, reply: Reply): void {
  const req = ImportKeyBlockRequest.decode(input);
  if (!req) return decodeFailed(reply, "ImportKeyBlockRequest");
  if (badKeyId(reply, req.keyId)) return;
  const kek = keyFor(reply, req.kekId, Op.UNWRAP_KEY, "KEK");
  if (!kek) return;
  if (isSm4(kek.info!.attributes!.algorithm)) {
    wipe(kek.material);
    return reply.fail(ERROR_NOT_SUPPORTED, "TR-31 / X9.143 defines no SM4 key block: keys under an SM4 KEK come with IMPORT_WRAPPED_KEY");
  }
  const block = bytesOf(req.keyBlock);
  const u = unwrap(block, kek.material);
  wipe(kek.material);
  if (!u) return algorithmFailed(reply, "key block refused");
  const h = u.header;
  const attrs = new KeyAttributes();
  attrs.usage = usageFromCode(h.keyUsage);
  attrs.algorithm = algorithmFrom(h.algorithm, u.key.length);
  attrs.modeOfUse = modeFromChar(h.modeOfUse);
  attrs.exportability = exportFromChar(h.exportability);
  const kv = decimal2(h.keyVersion);
  attrs.version = kv < 0 ? 0 : <u32>kv;
  attrs.limits = req.limits;
  let why = "";
  if (attrs.usage == KeyUsage.KEY_USAGE_UNSPECIFIED) why = "key usage " + h.keyUsage + " is not held by this keystore";
  else if (attrs.usage == KeyUsage.KEY_USAGE_B0_BDK) why = "a BDK never belongs on a terminal";
  else if (kv < 0) why = "key version must be two decimal digits";
  else why = checkAttributes(attrs);
  if (why.length) { wipe(u.key); return reply.fail(ERROR_BAD_PARAMETERS, "key block refused: " + why); }
  if (strength(kek) < strengthOf(attrs.algorithm)) {
    wipe(u.key);
    return reply.fail(ERROR_ACCESS_DENIED, "key block refused: the KEK is weaker than the key it carries");
  }
  let keySetId: Uint8Array | null = null;
  if (attrs.usage == KeyUsage.KEY_USAGE_B1_DUKPT_INITIAL_KEY) {
    // X9.143 optional blocks: IK = AES DUKPT initial key ID (16 hex), KS = TDES KSN (20 hex).
    const ik = h.block("IK");
    const ks = h.block("KS");
    if (isAes(attrs.algorithm) && ik) keySetId = hexBytes(ik.data);
    else if (!isAes(attrs.algorithm) && ks) keySetId = hexBytes(ks.data);
    if (!keySetId || keySetId.length != (isAes(attrs.algorithm) ? 8 : 10)) {
      wipe(u.key);
      return reply.fail(ERROR_BAD_PARAMETERS, "key block refused: a DUKPT initial key needs an IK (AES, 8 bytes) or KS (TDES, 10 bytes) optional block");
    }
  }
  const info = storeNewKey(reply, req.keyId, attrs, u.key, req.kekId, keySetId);
  if (!info) return;
  const res = new ImportKeyBlockResponse();
  res.key = info;
  reply.ok(res.encode());
}

export function exportKeyBlock(input: Uint8Array, reply: Reply): void {
  const req = ExportKeyBlockRequest.decode(input);
  if (!req) return decodeFailed(reply, "ExportKeyBlockRequest");
  if (badKeyId(reply, req.keyId)) return;
  const subject = keyFor(reply, req.keyId, Op.EXPORT, "key");
  if (!subject) return;
  const sa = subject.info!.attributes!;
  if (subject.material.length == 0) return reply.fail(ERROR_NOT_SUPPORTED, "a DUKPT key set keeps no initial key to export");
  if (isSm4(sa.algorithm)) { wipe(subject.material); return reply.fail(ERROR_NOT_SUPPORTED, "TR-31 / X9.143 defines no SM4 algorithm code: SM4 keys are not exported"); }
  const kek = keyFor(reply, req.kekId, Op.WRAP_KEY, "KEK");
  if (!kek) { wipe(subject.material); return; }
  if (isSm4(kek.info!.attributes!.algorithm)) {
    wipe(subject.material); wipe(kek.material);
    return reply.fail(ERROR_NOT_SUPPORTED, "TR-31 / X9.143 defines no SM4 key block: an SM4 KEK wraps nothing for export");
  }
  const kekAes = isAes(kek.info!.attributes!.algorithm);
  let version: u8 = kekAes ? VERSION_D : VERSION_B;
  if (req.version.length) version = <u8>req.version.charCodeAt(0);
  if (req.version.length > 1 || (kekAes ? version != VERSION_D && version != VERSION_E : version != VERSION_B)) {
    wipe(subject.material); wipe(kek.material);
    return reply.fail(ERROR_BAD_PARAMETERS, "export version must be D or E under an AES KEK, B under a TDES KEK (A and C are not used for export)");
  }
  if (strength(kek) < strength(subject)) {
    wipe(subject.material); wipe(kek.material);
    return reply.fail(ERROR_ACCESS_DENIED, "the KEK is weaker than the key to export");
  }
  const h = new Tr31Header();
  h.version = version;
  h.keyUsage = usageCode(sa.usage);
  h.algorithm = algorithmChar(sa.algorithm);
  h.modeOfUse = modeChar(sa.modeOfUse);
  h.keyVersion = (sa.version < 10 ? "0" : "") + sa.version.toString();
  h.exportability = exportChar(Exportability.EXPORTABILITY_N_NON_EXPORTABLE); // exported once, never again
  h.alignTo(version == VERSION_B ? 8 : 16);
  // Mask the key length: every key travels in a payload sized for the longest key of its family.
  const maskTo = isAes(sa.algorithm) ? 32 : 24;
  const kb = wrapHeader(h, kek.material, subject.material, null, maskTo);
  wipe(subject.material);
  wipe(kek.material);
  if (!kb) return algorithmFailed(reply, "wrapping the key");
  const res = new ExportKeyBlockResponse();
  res.keyBlock = String.UTF8.decode(kb.buffer);
  reply.ok(res.encode());
}

