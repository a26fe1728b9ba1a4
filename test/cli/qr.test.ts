// `trusttap qr parse TEXT`: a merchant- or consumer-presented code decoded as JSON (exit 0), its
// typed error on stderr (exit 1), a usage error (exit 2); never a clear PAN.
import { test, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { run } from '../../cli/commands/qr.ts';
import { generateMerchantQr, unionPayAccount } from '../../common/qr/merchant-presented.ts';
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { BIN, ROOT, runCaptured, spawnCli, STACK } from './cli.ts';

// EMV QRCPS CPM v1.0 Annex B.2 and MPM v1.0 Annex B.7 (see test/emv/qr-cpm.test.ts, test/emv/qr.test.ts).
const CPM_B2 = 'hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0MmJJWggSNFZ4kBI0WF8gDkNBUkRIT0xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==';
const PAN: TlvEntry = ['5A', '6228480000000000017F'];
const MPM_B7 = '00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A';

test('a consumer-presented code (the specification\'s example B.2): JSON on stdout, exit 0, the PAN masked', async () => {
  const r = await spawnCli(['qr', 'parse', CPM_B2]);
  expect([r.code, r.stderr]).toEqual([0, '']);
  const j = JSON.parse(r.stdout) as { mode: string; commonData: boolean; applications: Array<{ aid: string; label: string; maskedPan: string; transparentData: Record<string, string> }> };
  expect(j.mode).toBe('consumer-presented');
  expect(j.commonData).toBe(true);
  expect(j.applications.map((a) => [a.aid, a.label, a.maskedPan, a.transparentData['9F26']])).toEqual([
    ['A0000000555555', 'Product1', '123456******3458', '584FD385FA234BCC'],
    ['A0000000666666', 'Product2', '123456******3458', '584FD385FA234BCC'],
  ]);
  expect(r.stdout).not.toMatch(/1234567890123458|CARDHOLDER|"sensitive"/);
});

test('a merchant-presented code (the specification\'s example): JSON with the networks of the accounts', async () => {
  const r = await runCaptured(run, ['parse', MPM_B7]);
  expect([r.code, r.stderr]).toEqual([0, '']);
  expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'merchant-presented', pointOfInitiation: 'dynamic', merchantName: 'BEST TRANSPORT', amount: '23.72', language: { name: '最佳运输' }, networks: {} });
  const up = generateMerchantQr({ pointOfInitiation: 'static', accounts: { '15': unionPayAccount('48020000', '123456789012345') }, templates: [], merchantCategoryCode: '5812', currency: '156', countryCode: 'CN', merchantName: 'CAFE', merchantCity: 'SHANGHAI' });
  expect(JSON.parse((await runCaptured(run, ['parse', up])).stdout)).toMatchObject({ accounts: { '15': 'A00000033348020000123456789012345' }, networks: { '15': 'UnionPay' } });
});

test('a refused code: its typed error on stderr, one line, exit 1', async () => {
  const crc = await spawnCli(['qr', 'parse', MPM_B7.slice(0, -4) + 'A13B']);
  expect([crc.code, crc.stdout, crc.stderr]).toEqual([1, '', 'trusttap qr: CRC_INVALID (field 63): CRC A13B does not match A13A\n']);
  const cases: Array<[string, RegExp]> = [
    [MPM_B7.slice(6, -8) + '000201', /^trusttap qr: MISPLACED_FIELD \(field 00\): /],
    ['hQVDUFYwMg==', /^trusttap qr: VERSION_UNSUPPORTED \(field 85\): payload format indicator "CPV02"/],
    ['hQVDUFYw', /^trusttap qr: MALFORMED \(field 85\): consumer QR data is not BER-TLV/],
    ['not a code', /^trusttap qr: BASE64_INVALID: /],
    // 5A in both an application template and the common data template (CPM §3.1.1, §5.1.10).
    [Buffer.from(encodeTlv([['85', '4350563031'], ['61', [['4F', 'A000000333010101'], PAN]], ['62', [PAN]]])).toString('base64'), /^trusttap qr: DUPLICATE_FIELD \(field 5A\): /],
  ];
  for (const [text, want] of cases) {
    const r = await runCaptured(run, ['parse', text]);
    expect([text, r.code, r.stdout]).toEqual([text, 1, '']);
    expect(r.stderr).toMatch(want);
    expect(r.stderr).not.toMatch(STACK);
  }
});

test('usage errors exit 2', async () => {
  for (const args of [[], ['show', CPM_B2], ['parse'], ['parse', CPM_B2, 'extra'], ['parse', '   '], ['parse', CPM_B2, '--json']]) {
    const r = await runCaptured(run, args);
    expect([args, r.code, r.stdout]).toEqual([args, 2, '']);
    expect(r.stderr).toMatch(/^trusttap qr: .+\n\(see trusttap qr --help\)$/);
  }
});

test('"-" reads the code from standard input', () => {
  const r = spawnSync(process.execPath, [BIN, 'qr', 'parse', '-'], { cwd: ROOT, input: `${CPM_B2}\n`, encoding: 'utf8' });
  expect([r.status, r.stderr]).toEqual([0, '']);
  expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'consumer-presented', applications: [{ label: 'Product1' }, { label: 'Product2' }] });
});
