// `trusttap read-card`: run the contactless kernel against a recorded exchange (--replay) or a
// simulated card (--sim), optionally recording the APDUs (--record), and print the outcome and
// the card data as JSON. The PAN is only ever printed masked. A capture made with --record
// carries the transaction and the unpredictable number it was taken with, so --replay FILE
// alone runs the kernel as it ran then.
import { randomBytes } from 'node:crypto';
import { ReplayTransport, RecordingTransport, replayedRandom, type Capture } from '../../ree/nfc/replay.ts';
import { loadCapture, saveCapture } from '../../ree/node/index.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { TransportError, type CardTransport } from '../../ree/nfc/transport.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { loadSignedConfig, type SignedConfig } from '../../common/emv/signed-config.ts';
import { fromHex } from '../../common/hex.ts';
import type { ProgressEvent } from '../../ree/emv/outcome.ts';
import type { TransactionRequest } from '../../ree/emv/transaction.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { MastercardCardSim, UnionPayCardSim, UnionPaySmCardSim, VisaCardSim } from '../../sim/cards/index.ts';
import { defineCommand, readUserFile, UsageError, UserError, type CommandSpec } from '../args.ts';

const SIMS = { visa: () => new VisaCardSim(), mastercard: () => new MastercardCardSim(), unionpay: () => new UnionPayCardSim(), 'unionpay-sm': () => new UnionPaySmCardSim() };

export const spec: CommandSpec = {
  name: 'read-card', summary: 'run the contactless kernel: read-card --replay FILE.json | --sim visa|mastercard|unionpay|unionpay-sm [--record OUT.json]',
  synopsis: '(--replay FILE.json | --sim visa|mastercard|unionpay|unionpay-sm) [options]',
  options: [
    { name: 'replay', value: 'FILE.json', help: 'a recorded exchange (--record, or sim/captures/)' },
    { name: 'sim', value: 'CARD', choices: Object.keys(SIMS), help: 'a simulated card (unionpay-sm: the national-algorithm card, SM2 ODA and SM4 cryptogram)' },
    { name: 'amount', value: 'N', help: 'amount in minor units', default: "the capture's, else 1000" },
    { name: 'currency', value: 'NNNN', help: 'ISO 4217 numeric', default: "the capture's, else 0156" },
    { name: 'date', value: 'YYMMDD', help: 'transaction date', default: "the capture's, else today" },
    { name: 'un', value: 'HEX', help: 'unpredictable number, 4 bytes', default: "the capture's, else random" },
    { name: 'record', value: 'OUT.json', help: 'write the APDU exchange, the transaction and the unpredictable number as a replayable capture' },
    { name: 'config', value: 'FILE', help: 'signed terminal configuration {config, signature}', default: 'the simulator TEST configuration' },
    { name: 'config-key', value: 'HEX', help: 'Ed25519 public key of that configuration (required with --config)' },
    { name: 'events', help: 'also print progress events (to stderr)' },
  ],
  exitCodes: [[0, 'the kernel asks to go online or approves'], [1, 'any other kernel outcome (declined, try again, end application)'], [2, 'usage error, an unreadable file or a capture that does not replay']],
};
export const summary = spec.summary;

function today(): string {
  const d = new Date();
  return `${String(d.getUTCFullYear() % 100).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

export const run = defineCommand(spec, async ({ opts, flags }) => {
  if (!opts.replay === !opts.sim) throw new UsageError('give one of --replay FILE.json or --sim CARD');
  if (opts.config && !opts['config-key']) throw new UsageError('--config needs --config-key');
  if (opts.amount !== undefined && !/^\d{1,12}$/.test(opts.amount)) throw new UsageError(`--amount is in minor units, a whole number (got '${opts.amount}')`);
  if (opts.currency !== undefined && !/^\d{4}$/.test(opts.currency)) throw new UsageError(`--currency is 4 digits ISO 4217 numeric, e.g. 0156 (got '${opts.currency}')`);
  if (opts.date !== undefined && !/^\d{6}$/.test(opts.date)) throw new UsageError(`--date is YYMMDD (got '${opts.date}')`);
  if (opts.un !== undefined && !/^[0-9A-Fa-f]{8}$/.test(opts.un)) throw new UsageError('--un must be 4 bytes of hex');

  let config;
  if (opts.config) {
    const text = (await readUserFile(opts.config, 'configuration')).toString('utf8');
    try {
      config = loadSignedConfig(JSON.parse(text) as SignedConfig, fromHex(opts['config-key']!, 'config key'));
    } catch (e) {
      throw new UserError(`configuration ${opts.config}: ${(e as Error).message}`, 2);
    }
  } else {
    config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
  }

  let transport: CardTransport;
  let capture: Capture | undefined;
  if (opts.replay) {
    await readUserFile(opts.replay, 'capture'); // a missing file is one line, not a stack
    try {
      capture = loadCapture(opts.replay);
    } catch (e) {
      throw new UserError(`capture ${opts.replay}: ${(e as Error).message}`, 2);
    }
    transport = new ReplayTransport(capture.exchanges);
  } else {
    const t = new InProcessTransport(SIMS[opts.sim as keyof typeof SIMS]());
    t.tap();
    transport = t;
  }
  const recorder = opts.record ? new RecordingTransport(transport) : undefined;

  const txn: TransactionRequest = {
    ...capture?.transaction,
    amount: opts.amount !== undefined ? Number(opts.amount) : capture?.transaction?.amount ?? 1000,
    currency: opts.currency ?? capture?.transaction?.currency ?? '0156',
    date: opts.date ?? capture?.transaction?.date ?? today(),
  };
  let random: (n: number) => Uint8Array =
    opts.un ? ((n) => (n === 4 ? fromHex(opts.un!) : new Uint8Array(randomBytes(n))))
      : capture?.random ? replayedRandom(capture.random)
        : (n) => new Uint8Array(randomBytes(n));
  if (recorder) { recorder.transaction = txn; random = recorder.recordRandom(random); }

  let outcome;
  try {
    outcome = await runEntryPoint(recorder ?? transport, config, txn, {
      random,
      ...(flags.has('events') ? { onProgress: (e: ProgressEvent) => console.error(`event: ${e.type}`) } : {}),
    });
  } catch (e) {
    if (e instanceof TransportError) throw new UserError(`the card exchange stopped: ${e.message}`, 2);
    throw e;
  }
  if (recorder) saveCapture(recorder, opts.record!);
  console.log(JSON.stringify({
    outcome: outcome.kind, ui: outcome.ui, reason: outcome.reason, cvm: outcome.cvm, oda: outcome.oda,
    tvr: outcome.tvr, card: outcome.card, onlineData: outcome.onlineData,
  }, null, 2));
  return outcome.kind === 'ONLINE_REQUEST' || outcome.kind === 'APPROVED' ? 0 : 1;
});
