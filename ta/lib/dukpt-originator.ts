// The DUKPT originating device (the terminal side): ANSI X9.24-1:2009 Annex A (TDES, 21
// future-key registers) and ANSI X9.24-3:2017 §6.5 (AES, 32 intermediate derivation key
// registers), one register machine for both. After load() the initial key is gone: register i
// holds the key of the counter with bit i added to the current prefix, so a device that is
// captured reveals no key of a past transaction.
//   load(IK):   R[i] = step(IK, 1 << i) for every bit i; next counter 1.
//   begin():    c = next; K(c) = R[lsb(c)]; if c has fewer than the maximum one bits,
//               R[i] = step(K(c), c | 1 << i) for i < lsb(c) and next = c + 1, else next =
//               c + (1 << lsb(c)) (skipping counters with too many one bits); R[lsb(c)] erased.
// step() is the per-bit derivation of each standard (non-reversible key generation for TDES,
// the AES derivation with usage 8000).
import { wipe } from "./bytes";
import { fail, badParam } from "./error";
import { ERROR_OVERFLOW, ERROR_GENERIC } from "./status";
import * as tdes from "./dukpt-tdes";
import * as aes from "./dukpt-aes";

export class Originator {
  aes: bool = false;
  /** TDES: the 10-byte KSN (counter bits ignored); AES: the 8-byte initial key ID. */
  base: Uint8Array = new Uint8Array(0);
  nextCounter: u32 = 0;
  currentCounter: u32 = 0;
  currentKey: Uint8Array = new Uint8Array(0);
  registers: Array<Uint8Array> = new Array<Uint8Array>();

  private width(): i32 { return this.aes ? 32 : 21; }
  private maxOnes(): i32 { return this.aes ? aes.MAX_COUNTER_ONE_BITS : tdes.MAX_COUNTER_ONE_BITS; }
  private maxCounter(): u64 { return this.aes ? <u64>aes.COUNTER_MAX : <u64>tdes.COUNTER_MAX; }

  private step(parent: Uint8Array, counter: u32): Uint8Array | null {
    if (this.aes) return aes.derivationStep(parent, this.base, counter);
    return tdes.nonReversibleKey(parent, tdes.ksnWithCounter(this.base, counter).slice(2, 10));
  }

  /** Loads an initial key (IPEK / AES initial key); the caller wipes it afterwards. */
  load(initialKey: Uint8Array, base: Uint8Array, isAes: bool): bool {
    this.aes = isAes;
    if (isAes ? (base.length != aes.IKID_LEN || aes.aesKeyTypeOf(initialKey.length) < 0) : (base.length != tdes.KSN_LEN || initialKey.length != 16)) {
      badParam<Uint8Array>("DUKPT originator: initial key or key set identifier has the wrong length");
      return false;
    }
    this.clear();
    this.base = base.slice();
    if (!isAes) this.base = tdes.ksnWithCounter(this.base, 0);
    const w = this.width();
    for (let i = 0; i < w; i++) {
      const k = this.step(initialKey, <u32>1 << i);
      if (k == null) { this.clear(); return false; }
      this.registers.push(k);
    }
    this.nextCounter = 1;
    this.currentCounter = 0;
    return true;
  }

  /** The KSN of a counter: TDES 10 bytes, AES initial key ID || counter (12 bytes). */
  ksnOf(counter: u32): Uint8Array {
    if (!this.aes) return tdes.ksnWithCounter(this.base, counter);
    const k = new Uint8Array(aes.KSN_LEN);
    k.set(this.base, 0);
    return aes.ksnWithCounter(k, counter);
  }

  exhausted(): bool {
    return this.nextCounter == 0 || <u64>this.nextCounter > this.maxCounter();
  }

  /** Starts the next transaction: currentKey becomes its transaction (derivation) key. */
  begin(): bool {
    if (this.exhausted()) { fail<Uint8Array>(ERROR_OVERFLOW, "DUKPT key set exhausted: inject a new initial key"); return false; }
    const c = this.nextCounter;
    const pos = <i32>ctz(c);
    if (pos >= this.registers.length) { fail<Uint8Array>(ERROR_GENERIC, "DUKPT registers incomplete"); return false; }
    const key = this.registers[pos];
    if (key.length == 0) { fail<Uint8Array>(ERROR_GENERIC, "DUKPT register empty"); return false; }
    let next: u64;
    if (<i32>popcnt(c) < this.maxOnes()) {
      for (let i = pos - 1; i >= 0; i--) {
        const k = this.step(key, c | (<u32>1 << i));
        if (k == null) return false;
        wipe(this.registers[i]);
        this.registers[i] = k;
      }
      next = <u64>c + 1;
    } else {
      next = <u64>c + (<u64>1 << pos);
    }
    wipe(this.currentKey);
    this.currentKey = key;
    this.registers[pos] = new Uint8Array(0);
    this.currentCounter = c;
    this.nextCounter = next > this.maxCounter() || next > 0xffffffff ? 0 : <u32>next;
    return true;
  }

  /** Transactions still possible: counters >= next with at most the maximum one bits. */
  remaining(): u32 {
    if (this.exhausted()) return 0;
    return <u32>(countUpTo(this.width(), this.maxOnes()) - countBelow(this.nextCounter, this.width(), this.maxOnes()));
  }

  clear(): void {
    for (let i = 0; i < this.registers.length; i++) wipe(this.registers[i]);
    this.registers = new Array<Uint8Array>();
    wipe(this.currentKey);
    this.currentKey = new Uint8Array(0);
  }
}

function binom(n: i32, k: i32): u64 {
  if (k < 0 || k > n) return 0;
  let r: u64 = 1;
  for (let i = 1; i <= k; i++) r = (r * <u64>(n - k + i)) / <u64>i;
  return r;
}

/** Counters in [1, 2^width) with 1..maxOnes one bits. */
function countUpTo(width: i32, maxOnes: i32): u64 {
  let n: u64 = 0;
  for (let k = 1; k <= maxOnes; k++) n += binom(width, k);
  return n;
}

/** Counters in [1, x) with 1..maxOnes one bits. */
function countBelow(x: u32, width: i32, maxOnes: i32): u64 {
  let n: u64 = 0;
  let ones = 0;
  for (let b = width - 1; b >= 0; b--) {
    if ((x >> b) & 1) {
      for (let k = 0; k + ones <= maxOnes; k++) n += binom(b, k); // this bit 0, any k of the lower b bits
      ones++;
    }
  }
  return n - 1; // minus the counter 0
}
