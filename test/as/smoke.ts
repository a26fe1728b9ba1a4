import { cmac } from "../../ta/lib/cmac";
import { AES_ECB } from "../../ta/lib/cipher";
const buf = memory.data(1024);
export function io(): usize { return buf; }
export function aesCmac(keyLen: i32, msgLen: i32): i32 {
  const key = new Uint8Array(keyLen);
  for (let i = 0; i < keyLen; i++) key[i] = load<u8>(buf + i);
  const msg = new Uint8Array(msgLen);
  for (let i = 0; i < msgLen; i++) msg[i] = load<u8>(buf + 64 + i);
  const t = cmac(AES_ECB, key, msg, 16);
  if (!t) return -1;
  for (let i = 0; i < 16; i++) store<u8>(buf + i, t[i]);
  return 16;
}
