// `trusttap read-card`: run the contactless kernel against a recorded exchange (--replay) or a
// simulated card (--sim), optionally recording the APDUs (--record), and print the outcome and
// the card data as JSON. The PAN is only ever printed masked.
import { readFileSync } from 'node:fs';
import { RecordingTransport } from '../../ree/nfc/replay.ts';
import { replayFromFile, saveCapture } from '../../ree/node/index.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import type { CardTransport } from '../../ree/nfc/transport.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { loadSignedConfig, type SignedConfig } from '../../common/emv/signed-config.ts';
import { fromHex } from '../../common/hex.ts';
import type { ProgressEvent } from '../../ree/emv/outcome.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { MastercardCardSim, UnionPayCardSim, VisaCardSim } from '../../sim/cards/index.ts';

export const summary = 'run the contactless kernel: read-card --replay FILE.json | --sim visa|mastercard|unionpay [--record OUT.json]';

const USAGE = `usage: trusttap read-card (--replay FILE.json | --sim visa|mastercard|unionpay) [options]
  --amount N         amount in minor units (default 1000)
  --currency NNNN    ISO 4217 numeric (default 0156)
  --date YYMMDD      transaction date (default today)
  --un HEX           unpredictable number (to reproduce a capture's ODA; default random)
  --record OUT.json  write the APDU exchange as a replayable capture
  --config FILE      signed terminal configuration {config, signature}
  --config-key HEX   Ed25519 public key of that configuration (required with --config)
  --events           also print progress events (to stderr)
Without --config the simulator test configuration is used (TEST CA keys).`;

function parseArgs(args: string[]): Map<string, string> | string {
  const m = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) return `unexpected argument '${a}'`;
    if (a === '--events') { m.set('events', ''); continue; }
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) return `${a} needs a value`;
    m.set(a.slice(2), v); i++;
  }
  return m;
}

function today(): string {
  const d = new Date();
  return `${String(d.getUTCFullYear() % 100).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

export async function run(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  if (typeof opts === 'string' || (!opts.has('replay') && !opts.has('sim'))) {
    if (typeof opts === 'string') console.error(`read-card: ${opts}`);
    console.error(USAGE);
    return 2;
  }
  try {
    let config;
    if (opts.has('config')) {
      if (!opts.has('config-key')) { console.error('read-card: --config needs --config-key'); return 2; }
      const doc = JSON.parse(readFileSync(opts.get('config')!, 'utf8')) as SignedConfig;
      config = loadSignedConfig(doc, fromHex(opts.get('config-key')!, 'config key'));
    } else {
      config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
    }

    let transport: CardTransport;
    if (opts.has('replay')) {
      transport = replayFromFile(opts.get('replay')!);
    } else {
      const sims = { visa: () => new VisaCardSim(), mastercard: () => new MastercardCardSim(), unionpay: () => new UnionPayCardSim() };
      const make = sims[opts.get('sim') as keyof typeof sims];
      if (!make) { console.error(`read-card: unknown simulated card '${opts.get('sim')}'`); return 2; }
      const t = new InProcessTransport(make());
      t.tap();
      transport = t;
    }
    const recorder = opts.has('record') ? new RecordingTransport(transport) : undefined;

    const un = opts.has('un') ? fromHex(opts.get('un')!, '--un') : undefined;
    if (un && un.length !== 4) { console.error('read-card: --un must be 4 bytes'); return 2; }
    const amount = Number(opts.get('amount') ?? '1000');
    const outcome = await runEntryPoint(recorder ?? transport, config, {
      amount, currency: opts.get('currency') ?? '0156', date: opts.get('date') ?? today(),
    }, {
      ...(un ? { random: (n: number) => (n === 4 ? un.slice() : new Uint8Array(n)) } : {}),
      ...(opts.has('events') ? { onProgress: (e: ProgressEvent) => console.error(`event: ${e.type}`) } : {}),
    });
    if (recorder) saveCapture(recorder, opts.get('record')!);
    console.log(JSON.stringify({
      outcome: outcome.kind, ui: outcome.ui, reason: outcome.reason, cvm: outcome.cvm, oda: outcome.oda,
      tvr: outcome.tvr, card: outcome.card, onlineData: outcome.onlineData,
    }, null, 2));
    return outcome.kind === 'ONLINE_REQUEST' || outcome.kind === 'APPROVED' ? 0 : 1;
  } catch (e) {
    console.error(`read-card: ${(e as Error).message}`);
    return 2;
  }
}
