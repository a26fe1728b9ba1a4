// Fresh verdict tokens for the pinpad fuzz (issue 17 §8): a START_ENTRY opens the trusted keypad
// only with a token the back end signed for a nonce the pinpad just issued in that session
// (ta/pinpad/token.ts), so a recorded token never opens it again. The recorded back end (a copy
// of its data directory, its own software HSM) signs the recorded token anew with the fresh nonce
// and times, exactly as it does after a pre-PIN attestation (backend/service.ts token()).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { Backend } from '../../backend/http/server.ts';
import { u64 } from '../../backend/util.ts';
import { startTestBackend } from '../backend/harness.ts';
import type { Recording } from './record.ts';

const pp = trusttap.pinpad.v1;
const av = trusttap.attest.v1;

export class VerdictMinter {
  private constructor(private readonly be: Backend, private readonly dir: string, private readonly recorded: trusttap.pinpad.v1.StartEntryRequest) {}

  /** Null when the recording holds no START_ENTRY with a token (nothing to renew). */
  static async start(rec: Recording): Promise<VerdictMinter | null> {
    const seed = rec.tee.find((s) => s.ta === 'pinpad' && s.command === pp.Command.COMMAND_START_ENTRY);
    if (!seed) return null;
    const recorded = pp.StartEntryRequest.decode(seed.payload);
    if (!recorded.verdictToken.length) return null;
    const dir = mkdtempSync(join(tmpdir(), 'tt-fuzz-verdict-'));
    cpSync(rec.backendDir, dir, { recursive: true });
    return new VerdictMinter(await startTestBackend({ dataDir: dir }), dir, recorded);
  }

  /** `request` (a StartEntryRequest as the fuzz made it, or the recorded one if it does not
   * decode) with a token for `nonce`, signed now by the back end's token key. */
  renew(request: Uint8Array, nonce: Uint8Array): Uint8Array {
    let req: trusttap.pinpad.v1.StartEntryRequest;
    try { req = pp.StartEntryRequest.decode(request); } catch { req = this.recorded; }
    const now = Date.now();
    const t = av.VerdictToken.decode(this.recorded.verdictToken);
    const token = av.VerdictToken.encode({ ...t, nonce, issuedMs: u64(now), expiresMs: u64(now + 60_000) }).finish();
    const signature = this.be.service.hsm.sign('token', token);
    return pp.StartEntryRequest.encode({ ...req, verdictToken: token, verdictSignature: signature }).finish();
  }

  async close(): Promise<void> {
    await this.be.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
