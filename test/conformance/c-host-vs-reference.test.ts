// Issue 8, "results are identical, vector for vector": every Wycheproof case of the kit's crypto
// category (conformance/kit-crypto.ts) runs through the reference runtime and the C host side by side, with
// the same crypto TA bytes, and the test asserts for each case the same verdict, the same detail
// (accepted, or rejected and why) and the same bytes for every host call it made (each request
// to the crypto TA and the status and response it got: ECDH secrets, HMAC tags, ECB blocks,
// verify results). Nothing here is judged against the other runtime's shape only: the kit's own
// category (c-host.test.ts, reference.test.ts) already judges each runtime against Wycheproof.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { TeeContext, TeeError, type TeeSession } from '../../ree/tee-client/index.ts';
import { TeeRuntime, InProcessTeeDriver } from '../../tee/index.ts';
import { HostCrypto, cryptoProbeImage, readKitWycheproof, runWycheproofFile, type CaseResult } from '../../conformance/wycheproof-host.ts';
import { KIT_WYCHEPROOF_FILES } from '../../conformance/assets.ts';
import { startCHost } from './c-host.ts';
import { onCHost } from './c-host-gate.ts';
import type { CHostTransport } from '../../tee-c/transport.ts';

/** A session that records each call: command, request, and the status and response bytes. */
function recording(s: TeeSession, log: string[]): TeeSession {
  const h = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 24);
  return {
    invoke: async (command: number, payload: Uint8Array = new Uint8Array(0)) => {
      try {
        const r = await s.invoke(command, payload);
        log.push(`${command} ${h(payload)} -> ok ${Buffer.from(r).toString('hex')}`);
        return r;
      } catch (e) {
        log.push(`${command} ${h(payload)} -> ${e instanceof TeeError ? `status ${e.status >>> 0}` : 'error'}`);
        throw e;
      }
    },
  } as unknown as TeeSession;
}

interface Side { ctx: TeeContext; session: TeeSession; close(): Promise<void> }

const title = 'Wycheproof vector for vector: reference runtime vs C host';
await onCHost(title, () => describe(title, () => {
  let ref: Side, c: Side;
  const summary: string[] = [];

  beforeAll(async () => {
    const image = await cryptoProbeImage();
    const runtime = await TeeRuntime.start({ tas: [image], dataDir: mkdtempSync(join(tmpdir(), 'tt-vv-ref-')) });
    const rctx = await TeeContext.initialize(new InProcessTeeDriver(runtime));
    ref = { ctx: rctx, session: await rctx.openSession('crypto-probe'), async close() { await rctx.finalize(); runtime.shutdown(); } };
    const t: CHostTransport = await startCHost([image], mkdtempSync(join(tmpdir(), 'tt-vv-c-')));
    const cctx = await TeeContext.initialize(t);
    c = { ctx: cctx, session: await cctx.openSession('crypto-probe'), async close() { await cctx.finalize(); await t.close(); } };
  });
  afterAll(async () => {
    await ref?.close();
    await c?.close();
    if (summary.length) console.log(`Wycheproof, reference vs C host:\n${summary.join('\n')}`);
  });

  for (const file of KIT_WYCHEPROOF_FILES) {
    test(`${file}: identical per-case results and host-call bytes`, async () => {
      const wp = readKitWycheproof(file);
      const run = async (side: Side) => {
        const log: string[] = [];
        const results = (await runWycheproofFile(wp, new HostCrypto(recording(side.session, log))))!;
        return { results, log };
      };
      const a = await run(ref);
      const b = await run(c);
      expect(a.results.length).toBe(wp.numberOfTests);
      const key = (r: CaseResult) => `${r.tcId} ${r.result} ${r.verdict} ${r.detail}`;
      const diff = a.results.map((r, i) => [key(r), key(b.results[i])]).filter(([x, y]) => x !== y);
      expect(diff).toEqual([]);
      expect(b.log.length).toBe(a.log.length);
      const calls = a.log.map((x, i) => [x, b.log[i]]).filter(([x, y]) => x !== y);
      expect(calls).toEqual([]);
      summary.push(`  ${file}: ${a.results.length} cases, ${a.log.length} host calls, identical`);
    });
  }
}));
