// `npm run fuzz -- --target ta` (issue 17 §8): mutated recorded requests and random ones through
// the client API (TeeContext) into each TA — keystore, pinpad, txsign, attest — on the reference
// runtime in-process and in worker isolation, and on the C host when it can be built here. Every
// thousandth input (and the first) traps the conformance probe TA on purpose: it must answer
// TARGET_DEAD, and a new session to it must then work.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeRuntime, InProcessTeeDriver, loadTaImages, type TaImage, type UiProviders } from '../../tee/index.ts';
import { TeeContext, TeeError, tx, type TeeSession } from '../../ree/tee-client/index.ts';
import { DEMO_CARDS } from '../../sim/demo-cards.ts';
import { PinWatch } from './pin-watch.ts';
import { VerdictMinter } from './verdict.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { Status } from '../../proto/status.ts';
import { probeImages } from '../../conformance/index.ts';
import type { TeeTransport } from '../../common/tee-transport.ts';
import { cHostAvailable, startCHost } from '../conformance/c-host.ts';
import { mulberry32, mutate, randomMessage, int, pick, randomBytes } from './mutate.ts';
import { newCounts, finding, deadline, closingLine, Hang, type Counts } from './counts.ts';
import type { Recording, TeeSeed } from './record.ts';

export const TAS = ['keystore', 'pinpad', 'txsign', 'attest'] as const;
export type Ta = typeof TAS[number];
export type TaRuntimeName = 'in-process' | 'worker' | 'c-host';
const CMD_TRAP = 1, CMD_ECHO = 9; // conformance/as/probe-ta.ts
const pp = trusttap.pinpad.v1;
const PP_GET_NONCE = pp.Command.COMMAND_GET_NONCE, PP_START_ENTRY = pp.Command.COMMAND_START_ENTRY;
const HANG_MS = 15_000;

interface Running { transport: TeeTransport; close(): Promise<void> }

async function start(runtime: TaRuntimeName, tas: TaImage[], dataDir: string, ui: UiProviders): Promise<Running> {
  if (runtime === 'c-host') {
    const t = await startCHost(tas, dataDir, { ui });
    return { transport: t, close: () => t.close() };
  }
  const rt = await TeeRuntime.start({ tas, dataDir, isolation: runtime, bootState: 'verified', ui });
  return { transport: new InProcessTeeDriver(rt), close: async () => rt.shutdown() };
}

export function taRuntimes(): TaRuntimeName[] {
  return cHostAvailable() ? ['in-process', 'worker', 'c-host'] : ['in-process', 'worker'];
}

/** `runs` inputs into each TA on one runtime; one Counts per TA, named `ta:<name> (<runtime>)`. */
export async function fuzzTas(rec: Recording, runtime: TaRuntimeName, runs: number, seed: number, log: (s: string) => void = () => undefined, maxSeconds = Infinity, tas: readonly Ta[] = TAS): Promise<Counts[]> {
  const images = [...loadTaImages({ only: [...TAS] }).images, ...(await probeImages())];
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-fuzz-ta-'));
  // The C host's sealed storage is bound to its own simulated RPMB device (tee-c/README.md): the
  // reference runtime's sealed objects are refused there (ERROR_SECURITY, as a rolled-back copy
  // would be), so it starts from an empty device and the TAs make their own state.
  if (runtime !== 'c-host') cpSync(rec.deviceDir, dataDir, { recursive: true });
  const minter = tas.includes('pinpad') ? await VerdictMinter.start(rec) : null;
  let starts = 0;
  const counts = tas.map((ta) => newCounts(`ta:${ta} (${runtime})`));
  let current = counts[0]!;
  // Every answer out of the TEE is searched for the PIN the simulated person types (pin-watch.ts).
  const pins = new PinWatch(Object.values(DEMO_CARDS).map((c) => c.pan));
  const leak = (where: string) => { current.crashes++; finding(current, `the typed PIN left the TEE (${where})`); };
  let running = await start(runtime, images, dataDir, pins.ui);
  let ctx = await TeeContext.initialize(pins.watch(running.transport, leak));
  const sessions = new Map<string, TeeSession>();
  const seeds = new Map<string, TeeSeed[]>(tas.map((ta) => [ta, rec.tee.filter((s) => s.ta === ta)]));
  const r = mulberry32(seed);

  const restart = async () => {
    try { await running.close(); } catch { /* already gone */ }
    running = await start(runtime, images, dataDir, pins.ui);
    ctx = await TeeContext.initialize(pins.watch(running.transport, leak));
    sessions.clear();
  };
  const session = async (ta: string) => {
    let s = sessions.get(ta);
    if (!s) { s = await ctx.openSession(ta); sessions.set(ta, s); }
    return s;
  };

  /** The on-purpose trap: TARGET_DEAD, then a new session that works. */
  const trapOnPurpose = async (c: Counts) => {
    const s = await ctx.openSession('probe');
    let status = 0;
    try { await deadline(s.invoke(CMD_TRAP), HANG_MS); } catch (e) { status = e instanceof TeeError ? e.status : -1; }
    ctx.forget(s);
    if (status !== Status.ERROR_TARGET_DEAD) { c.crashes++; finding(c, `on-purpose trap answered ${status}, not TARGET_DEAD`); return; }
    const again = await ctx.openSession('probe');
    const echo = await deadline(again.invoke(CMD_ECHO, Uint8Array.of(1, 2, 3)), HANG_MS);
    await again.close();
    if (Buffer.compare(Buffer.from(echo), Buffer.from([1, 2, 3])) !== 0) { c.crashes++; finding(c, 'the session after the trap did not work'); return; }
    c.traps++;
    c.trapsOnPurpose++;
  };

  // One TA after another, each with its share of the time: a slow TA (txsign signs and saves its
  // counter on every accepted request) does not hold the others back.
  for (let k = 0; k < tas.length; k++) {
    const ta = tas[k]!, c = counts[k]!, own = seeds.get(ta)!;
    current = c;
    const typed0 = pins.typed;
    const t0 = Date.now();
    for (let i = 0; i < runs; i++) {
      if (Date.now() - t0 > maxSeconds * 1000 / tas.length) break; // out of time: the counts say how far it got
      let command: number, payload: Uint8Array;
      const roll = r();
      if (own.length && roll < 0.8) { const s = pick(r, own); command = s.command; payload = mutate(r, s.payload); }
      else if (own.length && roll < 0.9) { command = pick(r, own).command; payload = randomMessage(r); }
      else { command = pick(r, [int(r, 40), 0xffffffff, 0x7fffffff, 0x80000000]); payload = r() < 0.5 ? randomMessage(r) : randomBytes(r, int(r, 300)); }
      // The first pinpad START_ENTRY and every twentieth after it take a nonce first and carry a
      // fresh token for it, so the entry reaches the keypad (where the simulated person types the
      // canary PIN or cancels). Not more: drawing the keypad and the person reading it key by key
      // cost far more than an input.
      const fresh = minter !== null && ta === 'pinpad' && command === PP_START_ENTRY && starts++ % 20 === 0;
      c.inputs++;
      try {
        if (c.inputs === 1 || c.inputs % 1000 === 0) await trapOnPurpose(c);
        const s = await session(ta);
        if (fresh) {
          const nonce = pp.NonceResponse.decode(await deadline(s.invoke(PP_GET_NONCE, new Uint8Array(0)), HANG_MS)).nonce;
          payload = minter.renew(payload, nonce);
        }
        const answer = await deadline(s.invoke(command, payload), HANG_MS);
        c.accepted++;
        if (fresh && pp.EntryResponse.decode(answer).outcome === pp.Outcome.OUTCOME_PIN_BLOCK) c.pinBlocks = (c.pinBlocks ?? 0) + 1;
      } catch (e) {
        if (e instanceof TeeError && e.status === Status.ERROR_TARGET_DEAD) {
          c.traps++;
          finding(c, `TARGET_DEAD: ${ta} command ${command} payload ${Buffer.from(payload).toString('hex')}`);
          const s = sessions.get(ta);
          if (s) ctx.forget(s);
          sessions.delete(ta);
        } else if (e instanceof TeeError) {
          // a typed refusal: what bad input should get
        } else if (e instanceof Hang) {
          c.hangs++;
          finding(c, `hang: ${ta} command ${command} payload ${Buffer.from(payload).toString('hex')}`);
          await restart();
        } else {
          c.crashes++;
          finding(c, `crash: ${ta} command ${command} payload ${Buffer.from(payload).toString('hex')}: ${(e as Error)?.message}`);
          await restart();
        }
      }
      if ((i + 1) % 20_000 === 0) log(`  ${ta} (${runtime}): ${closingLine(c)} so far (${Math.round((i + 1) / ((Date.now() - t0) / 1000))}/s, ${c.accepted} accepted)`);
    }
    c.ms = Date.now() - t0;
    c.pinsTyped = pins.typed - typed0;
  }
  try { await ctx.finalize(); } catch { /* the runtime may be gone */ }
  await running.close();
  // State intact afterwards: the device's storage, as the fuzz left it, still starts a runtime in
  // which every fuzzed TA opens a session, txsign reads its sealed counter and the probe echoes.
  running = await start(runtime, images, dataDir, pins.ui);
  ctx = await TeeContext.initialize(pins.watch(running.transport, leak));
  for (let k = 0; k < tas.length; k++) {
    current = counts[k]!;
    try {
      const s = await deadline(ctx.openSession(tas[k]!), HANG_MS);
      if (tas[k] === 'txsign') tx.GetStateResponse.decode(await deadline(s.invoke(tx.Command.COMMAND_GET_STATE, tx.GetStateRequest.encode({}).finish()), HANG_MS));
      await s.close();
      const probe = await deadline(ctx.openSession('probe'), HANG_MS);
      const echo = await deadline(probe.invoke(CMD_ECHO, Uint8Array.of(7)), HANG_MS);
      await probe.close();
      if (echo.length !== 1 || echo[0] !== 7) throw new Error('the probe TA does not echo');
    } catch (e) {
      current.crashes++;
      finding(current, `state after the run: ${tas[k]} on a restarted runtime: ${(e as Error)?.message}`);
    }
  }
  try { await ctx.finalize(); } catch { /* the runtime may be gone */ }
  await running.close();
  await minter?.close();
  rmSync(dataDir, { recursive: true, force: true });
  return counts;
}
