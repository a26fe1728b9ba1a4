// `trusttap qr parse TEXT`: what a support engineer uses to look at a customer's or a merchant's
// EMVCo QR code. Merchant-presented payloads (ID-length-value, "000201…") and consumer-presented
// ones (Base64 BER-TLV, "hQVDUFY…") are told apart by their first characters and decoded by
// common/qr — the same code the terminal and the back end run — as JSON on stdout; a code those
// parsers refuse is its typed error (QrError code, field, message) on stderr, exit 1.
import { readFileSync } from 'node:fs';
import { parseMerchantQr, networkOf } from '../../common/qr/merchant-presented.ts';
import { CPM_PREFIX, parseConsumerQr } from '../../common/qr/consumer-presented.ts';
import { QrError } from '../../common/qr/errors.ts';
import { defineCommand, UsageError, UserError, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'qr', summary: 'decode an EMVCo QR code as JSON: qr parse TEXT (merchant- or consumer-presented)',
  synopsis: 'parse TEXT',
  positionals: {
    max: 2, help: [
      ['parse', 'the action: decode TEXT and print it as JSON'],
      ['TEXT', 'the scanned text: a merchant-presented payload ("000201…") or a consumer-presented\nBase64 code ("hQVDUFY…"); "-" reads it from standard input'],
    ],
  },
  options: [],
  exitCodes: [[0, 'the code is valid; its JSON is on stdout'], [1, 'the code is refused; its typed error (code, field, message) is on stderr'], [2, 'usage error']],
  notes: [
    'The rules are those of EMV QRCPS Merchant-Presented Mode (ID 00 first, CRC 63 last, lengths,',
    'templates) and Consumer-Presented Mode (85 "CPV01", templates 61/62/63/64); see common/qr/.',
    'A consumer-presented code shows its PAN masked; the full PAN, track 2 and cardholder name are',
    'never printed.',
    '',
    'example:  trusttap qr parse hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=',
  ].join('\n'),
};
export const summary = spec.summary;

/** The decoded code as the JSON a person reads; never a clear PAN. */
export function decodeQr(text: string): Record<string, unknown> {
  // MPM IDs and lengths are digits; anything else is taken for a CPM code, whose parser names
  // what is wrong with it (not Base64, not "hQVDUFY", not BER-TLV …).
  if (/^\d/.test(text)) {
    const q = parseMerchantQr(text);
    const networks = Object.fromEntries(Object.keys(q.accounts).map((id) => [id, networkOf(id) ?? 'reserved by EMVCo']));
    return { mode: 'merchant-presented', ...q, networks };
  }
  const { sensitive: _, ...shown } = parseConsumerQr(text);
  return { mode: 'consumer-presented', ...shown };
}

export const run = defineCommand(spec, async ({ positionals }) => {
  const [action, arg] = positionals;
  if (!action) throw new UsageError('which action? (trusttap qr parse TEXT)');
  if (action !== 'parse') throw new UsageError(`unknown action '${action}' (trusttap qr parse TEXT)`);
  if (arg === undefined) throw new UsageError('which code? (trusttap qr parse TEXT, or - to read it from standard input)');
  const text = (arg === '-' ? readFileSync(0, 'utf8') : arg).trim();
  if (!text) throw new UsageError('the code is empty');
  try {
    console.log(JSON.stringify(decodeQr(text), null, 2));
    return 0;
  } catch (e) {
    if (!(e instanceof QrError)) throw e;
    throw new UserError(`${e.code}${e.field ? ` (field ${e.field})` : ''}: ${e.message}`, 1);
  }
});
