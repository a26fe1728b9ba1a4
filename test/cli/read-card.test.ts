// `read-card --replay FILE` needs no extra flags: a capture made with --record carries the
// transaction and every random value the kernel drew (the unpredictable number the card signed
// over), so the replay runs the kernel exactly as the recorded tap did.
import { test, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as readCard } from '../../cli/commands/read-card.ts';
import { runCaptured } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tt-cli-rc-'));

test.each(['visa', 'mastercard', 'unionpay', 'unionpay-sm'])('%s: recorded with a random unpredictable number, replayed with no flags: the same outcome', async (card) => {
  const file = join(dir, `${card}.json`);
  const rec = await runCaptured(readCard, ['--sim', card, '--record', file, '--amount', '2500', '--currency', '0840']);
  expect(rec.code).toBe(0);
  const capture = JSON.parse(readFileSync(file, 'utf8'));
  expect(capture.transaction).toMatchObject({ amount: 2500, currency: '0840', date: expect.stringMatching(/^\d{6}$/) });
  expect(capture.random).toHaveLength(1);
  expect(capture.random[0]).toMatch(/^[0-9A-F]{8}$/);

  const replay = await runCaptured(readCard, ['--replay', file]);
  expect(replay.code).toBe(0);
  expect(JSON.parse(replay.stdout)).toEqual(JSON.parse(rec.stdout));
  expect(JSON.parse(replay.stdout).onlineData['9F37']).toBe(capture.random[0]);
  expect(JSON.parse(replay.stdout).oda).toBe(JSON.parse(rec.stdout).oda);
  // The SM card's cryptogram is SM4 (IAD algorithm indicator 04), the others' TDES or none said.
  expect(JSON.parse(rec.stdout).card.cryptogramAlgorithm).toBe(card === 'unionpay-sm' ? 'SM4' : card === 'unionpay' ? 'TDES' : undefined);
});

test('the unpredictable number matters: overriding it breaks the recorded signature (fDDA)', async () => {
  const file = join(dir, 'visa-un.json');
  await runCaptured(readCard, ['--sim', 'visa', '--record', file]);
  const other = JSON.parse(readFileSync(file, 'utf8')).random[0] === '01020304' ? '05060708' : '01020304';
  const good = JSON.parse((await runCaptured(readCard, ['--replay', file])).stdout);
  const bad = JSON.parse((await runCaptured(readCard, ['--replay', file, '--un', other])).stdout);
  expect(bad.oda).not.toEqual(good.oda);
});

test('the captures shipped in sim/captures replay with no flags', async () => {
  for (const card of ['visa', 'mastercard', 'unionpay']) {
    const r = await runCaptured(readCard, ['--replay', new URL(`../../sim/captures/${card}.json`, import.meta.url).pathname]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).outcome).toBe('ONLINE_REQUEST');
  }
});
