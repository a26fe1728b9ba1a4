import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayTransport, RecordingTransport, parseCapture } from '../../ree/nfc/replay.ts';
import { saveCapture } from '../../ree/node/index.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { CardRemovedError, TransportError, type CardEvent } from '../../ree/nfc/transport.ts';
import { VisaCardSim } from '../../sim/cards/index.ts';
import { fromHex, toHex } from '../../common/hex.ts';
import { selectPpse } from '../../common/emv/apdu.ts';
import { run as readCard } from '../../cli/commands/read-card.ts';

const capture = (name: string) => new URL(`../../sim/captures/${name}.json`, import.meta.url).pathname;

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s: string) => { lines.push(s); });
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const code = await readCard(args);
    return { code, out: lines.join('\n') };
  } finally { log.mockRestore(); err.mockRestore(); }
}

describe('replay transport', () => {
  it('answers by CLA INS P1 P2 in recorded order, whatever the data', async () => {
    const t = new ReplayTransport(parseCapture([
      { command: '80A8000002830000', response: '6985' },
      { command: '80A80000048302AAAA', response: '9000' },
    ]));
    expect(toHex(await t.transceive(fromHex('80A80000048302BBBB00')))).toBe('6985');
    expect(toHex(await t.transceive(fromHex('80A8000002830000')))).toBe('9000');
    await expect(t.transceive(fromHex('80A8000002830000'))).rejects.toThrow(TransportError);
    await expect(t.transceive(selectPpse())).rejects.toThrow(/00A40400/);
  });
  it('rejects malformed captures', () => {
    expect(() => parseCapture({})).toThrow(TransportError);
    expect(() => parseCapture([{ command: '00A4', response: '9000' }])).toThrow(/entry 0/);
    expect(() => parseCapture([{ command: '00A40400', response: '9' }])).toThrow(/entry 0/);
  });
  it('records what passes through any transport, replayable', async () => {
    const inner = new InProcessTransport(new VisaCardSim());
    inner.tap();
    const rec = new RecordingTransport(inner);
    const r = await rec.transceive(selectPpse());
    expect(rec.exchanges).toEqual([{ command: toHex(selectPpse()), response: toHex(r) }]);
    const file = join(mkdtempSync(join(tmpdir(), 'tt-')), 'c.json');
    saveCapture(rec, file);
    expect(parseCapture(JSON.parse(readFileSync(file, 'utf8')))).toEqual(rec.exchanges);
  });
});

describe('in-process transport', () => {
  it('reports present and removed, and refuses commands without a card', async () => {
    const t = new InProcessTransport(new VisaCardSim());
    const seen: string[] = [];
    const off = t.onCardEvent((e: CardEvent) => seen.push(e.type));
    await expect(t.transceive(selectPpse())).rejects.toThrow(CardRemovedError);
    t.tap(); t.remove(); off(); t.tap();
    expect(seen).toEqual(['present', 'removed']);
  });
});

describe('trusttap read-card', () => {
  for (const s of ['visa', 'mastercard', 'unionpay']) {
    it(`replays the ${s} capture to an online request with the PAN masked`, async () => {
      const { code, out } = await cli(['--replay', capture(s), '--un', '5A5A5A5A', '--date', '251125']);
      const j = JSON.parse(out);
      expect([code, j.outcome, j.oda]).toEqual([0, 'ONLINE_REQUEST', 'PASSED']);
      expect(j.card.maskedPan).toMatch(/^\d{6}\*+\d{4}$/);
      const rawPan = /5A08([0-9A-F]{16})|57..(\d{16,19})D/.exec(readFileSync(capture(s), 'utf8'))!;
      expect(out).not.toContain((rawPan[1] ?? rawPan[2])!);
    });
  }
  it('with another unpredictable number the recorded signature no longer verifies', async () => {
    const j = JSON.parse((await cli(['--replay', capture('visa'), '--un', '01020304', '--date', '251125'])).out);
    expect([j.outcome, j.oda]).toEqual(['ONLINE_REQUEST', 'FAILED']);
  });
  it('exits 2 with usage on bad arguments', async () => {
    expect((await cli([])).code).toBe(2);
    expect((await cli(['--replay'])).code).toBe(2);
    expect((await cli(['--sim', 'amex'])).code).toBe(2);
    expect((await cli(['--replay', '/nonexistent.json'])).code).toBe(2);
  });
});
