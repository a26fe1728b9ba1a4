// What a host function sees of the TA that called it. Every (ptr, len) from a TA goes through
// view()/read()/write(), so bounds are checked in one place (as WAMR's native symbol table does).
import type { SealedStorage } from '../storage/sealed.ts';
import type { CryptoOps } from '../crypto/ops.ts';
import { recordBoundary, recording } from './recorder.ts';

/** Thrown by a host function when a TA breaks the ABI (a pointer out of bounds): TEE_Panic. */
export class TaPanic extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'TaPanic';
  }
}

export interface TaIdentity {
  name: string;
  /** 16 bytes */
  uuid: Uint8Array;
}

/** TA-to-TA sessions as the runtime offers them to one TA (TEE_OpenTASession & co). */
export interface TaSessions {
  open(callee: Uint8Array): number;
  invoke(session: number, command: number, input: Uint8Array, outCap: number): { status: number; payload: Uint8Array };
  close(session: number): void;
  closeAll(): void;
}

export interface HostServices {
  ta: TaIdentity;
  storage: SealedStorage;
  crypto: CryptoOps;
  /** HUK-derived bytes for this TA and label. */
  hukDerive(label: Uint8Array, len: number): Uint8Array;
  random(out: Uint8Array): void;
  clockMs(): number;
  reeTimeMs(): number;
  sessions: TaSessions;
  /** Debug log sink (only debug builds import tee.log). */
  log(line: string): void;
  /** Receives the TA's abort message (env.abort) before the instance is torn down. */
  abort(message: string): void;
  /** Device attestation (host functions attest_measurements, oem_certify); absent when the
   * runtime offers none (then both answer NOT_SUPPORTED). */
  attestation?: AttestationServices;
  /** Trusted UI (host functions tui_begin, tui_update); absent where the runtime has no display
   * for TAs (then both answer NOT_SUPPORTED). */
  tui?: TuiPort;
}

/** The trusted UI as one TA sees it (docs/trusted-ui.md). Screens are encoded
 * trusttap.tee.v1.TuiScreen; the runtime answers with a GP status (0 = SUCCESS). */
export interface TuiPort {
  /** Shows the screen; the running command stays pending when the TA returns TUI_PENDING. */
  begin(screen: Uint8Array, timeoutMs: number): number;
  /** Replaces the screen of the TA's active entry. */
  update(screen: Uint8Array): number;
}

/** What the runtime vouches for about itself and the device (docs/attestation.md). */
export interface AttestationServices {
  /** The encoded trusttap.attest.v1.Measurements the runtime made at start. */
  measurements(): Uint8Array;
  /** An encoded CertificateChain: the OEM device attestation key certifies publicKey (65-byte
   * P-256 point) for the calling TA, leaf first. Throws CryptoError on a bad point, or with
   * ITEM_NOT_FOUND when the device was never provisioned. */
  oemCertify(publicKey: Uint8Array): Uint8Array;
}

/** The view of an empty range: nothing to alias, so one shared array (no allocation per call). */
const EMPTY = new Uint8Array(0);

export class HostContext {
  private mem_: WebAssembly.Memory | null = null;
  /** The TA's memory; binding another one (a new instance) drops the cached view. */
  get memory(): WebAssembly.Memory | null { return this.mem_; }
  set memory(m: WebAssembly.Memory | null) { this.mem_ = m; this.mem = new Uint8Array(0); }
  /** A view of the memory as last seen. Memory only grows, so a range inside this view is inside
   * the memory and the view still aliases it (a grow of unshared memory detaches the old buffer,
   * whose view then has length 0); only a range beyond it reads `memory.buffer` again. Host calls
   * that run once per cipher block (DUKPT steps) otherwise pay for that getter and a new typed
   * array per pointer. */
  private mem: Uint8Array = new Uint8Array(0);
  constructor(readonly services: HostServices) {}

  private bytes(): Uint8Array {
    if (!this.memory) throw new TaPanic('TA memory not bound');
    const buf = this.memory.buffer;
    if (this.mem.buffer !== buf || this.mem.length !== buf.byteLength) this.mem = new Uint8Array(buf);
    return this.mem;
  }

  /** A live view of TA memory; throws TaPanic when [ptr, ptr+len) is outside it. */
  view(ptr: number, len: number): Uint8Array {
    const p = ptr >>> 0, n = len >>> 0;
    let mem = this.mem;
    if (p + n > mem.length || !this.mem_) mem = this.bytes();
    if (p + n > mem.length) throw new TaPanic(`pointer out of bounds: [${p}, ${p + n}) beyond ${mem.length} bytes of TA memory`);
    if (recording()) recordBoundary({ channel: 'host-read', ta: this.services.ta.name, bytes: mem.subarray(p, p + n) });
    return n === 0 ? EMPTY : mem.subarray(p, p + n);
  }

  /** A copy of TA memory, so later writes by the TA cannot change what the host acts on. */
  read(ptr: number, len: number): Uint8Array {
    return this.view(ptr, len).slice();
  }

  write(ptr: number, data: Uint8Array): void {
    this.put(this.view(ptr, data.length), data);
  }

  /** write() into a range the host call has already checked with view() (a TA's output
   * buffer is checked before the work, so a bad pointer panics before any other status). */
  put(out: Uint8Array, data: Uint8Array): void {
    if (data.length !== out.length) throw new TaPanic(`host wrote ${data.length} bytes into a ${out.length}-byte range`);
    if (recording()) recordBoundary({ channel: 'host-write', ta: this.services.ta.name, bytes: data });
    out.set(data);
  }

  /** AssemblyScript string (UTF-16LE, byte length at ptr-4), for env.abort and env.trace. */
  readAsString(ptr: number): string {
    if (ptr === 0) return '';
    const p = ptr >>> 0;
    if (p < 4) throw new TaPanic('string pointer out of bounds');
    const len = new DataView(this.bytes().buffer).getUint32(p - 4, true);
    const raw = this.view(p, Math.min(len, 4096) & ~1);
    return Buffer.from(raw).toString('utf16le');
  }
}
