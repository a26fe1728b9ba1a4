// Entry Point's decisions (ree/emv/entry-point.ts, Book B §3): which kernel a directory entry
// asks for, the candidate list and its order, and the one outcome each way a selection can end
// — driven by a scripted card (command → response) so each branch is reached directly.
import { describe, expect, it } from 'vitest';
import { buildCandidates, requestedKernel, runEntryPoint, KERNEL_FAULT } from '../../ree/emv/entry-point.ts';
import { preProcess } from '../../ree/emv/preprocessing.ts';
import { CardRemovedError, TransportError, type CardTransport } from '../../ree/nfc/transport.ts';
import { encodeTlv } from '../../common/tlv.ts';
import { fromHex, toHex } from '../../common/hex.ts';
import { testTerminalConfig } from '../../sim/test-terminal-config.ts';
import type { DirectoryEntry } from '../../ree/emv/fci.ts';
import type { CombinationConfig, TerminalConfig } from '../../common/emv/config.ts';
import type { ProgressEvent } from '../../ree/emv/outcome.ts';

const VISA = 'A0000000031010', MC = 'A0000000041010', UP = 'A000000333010101';

describe('requested kernel of a directory entry (Book B 3.3.2.5)', () => {
  const table: Array<[string, DirectoryEntry, number | undefined]> = [
    ['Visa AID, no 9F2A: the RID default', { aid: VISA }, 3],
    ['Mastercard AID, no 9F2A', { aid: MC }, 2],
    ['UnionPay AID, no 9F2A', { aid: UP }, 7],
    ['an unknown RID, no 9F2A', { aid: 'A0000000251010' }, undefined],
    ['9F2A 02', { aid: VISA, kernelId: '02' }, 2],
    ['9F2A 07 with more bytes', { aid: VISA, kernelId: '070000' }, 7],
    ['9F2A 3F (the last international kernel id)', { aid: VISA, kernelId: '3F' }, 0x3f],
    ['9F2A 41: not an international kernel', { aid: VISA, kernelId: '41' }, undefined],
    ['9F2A 81: domestic', { aid: VISA, kernelId: '81' }, undefined],
    ['9F2A C1: domestic', { aid: VISA, kernelId: 'C1' }, undefined],
  ];
  for (const [what, e, want] of table) it(what, () => expect(requestedKernel(e)).toBe(want));
});

const limits = [{ currency: '0156', contactlessTransactionLimit: 5_000_00, cvmRequiredLimit: 1_000_01, floorLimit: 0 }];
const combo = (aid: string, kernelId: 2 | 3 | 7, partialSelection = true): CombinationConfig => ({ aid, kernelId, partialSelection, limits });

describe('candidate list (Book B 3.3.2)', () => {
  const ind = (amount = 10_00, combos = [combo(VISA, 3), combo(MC, 2), combo(UP, 7, false)]) => preProcess(combos, { amount, currency: '0156', date: '251125' });
  const aids = (entries: DirectoryEntry[], i = ind()) => buildCandidates(entries, i).map((c) => c.entry.aid);
  it('keeps the entries a combination takes, by AID and kernel', () => {
    expect(aids([{ aid: VISA }, { aid: MC }, { aid: UP }])).toEqual([VISA, MC, UP]);
    expect(aids([{ aid: VISA, kernelId: '02' }])).toEqual([]);
    expect(aids([{ aid: 'A0000000251010' }])).toEqual([]);
  });
  it('partial selection: an ADF name beginning with the AID matches only where allowed', () => {
    expect(aids([{ aid: VISA + '01' }])).toEqual([VISA + '01']);
    expect(aids([{ aid: UP + '01' }])).toEqual([]);
    expect(aids([{ aid: 'A00000000310' }])).toEqual([]);
  });
  it('a combination that may not take the amount is no candidate', () => {
    expect(aids([{ aid: VISA }], ind(5_000_00))).toEqual([]);
    expect(aids([{ aid: VISA }], ind(4_999_99))).toEqual([VISA]);
  });
  it('priority 1 first, no priority last, the card\'s order otherwise', () => {
    const entries: DirectoryEntry[] = [{ aid: VISA }, { aid: MC, priority: 2 }, { aid: UP, priority: 1 }, { aid: VISA + '02', priority: 2 }, { aid: VISA + '03', priority: 15 }];
    expect(aids(entries)).toEqual([UP, MC, VISA + '02', VISA + '03', VISA]);
    expect(aids([{ aid: VISA + '01', priority: 0 }, { aid: VISA + '02', priority: 1 }])).toEqual([VISA + '02', VISA + '01']);
  });
  it('each candidate keeps the indicators of its own combination', () => {
    const c = buildCandidates([{ aid: MC }, { aid: VISA }], ind());
    expect(c.map((x) => x.indicators.combination.kernelId)).toEqual([2, 3]);
    expect(c.map((x) => x.order)).toEqual([0, 1]);
  });
});

// A scripted card: answers by command prefix, records what it was sent.
const tlv = (entries: Array<[string, Uint8Array]>) => encodeTlv(entries);
const ppse = (...entries: Array<{ aid: string; prio?: number }>) => toHex(tlv([['6F', tlv([['84', new TextEncoder().encode('2PAY.SYS.DDF01')], ['A5', tlv([['BF0C',
  encodeTlvList(entries.map((e) => tlv([['4F', fromHex(e.aid)], ...(e.prio ? [['87', Uint8Array.of(e.prio)] as [string, Uint8Array]] : [])])))]])]])]])) + '9000';
function encodeTlvList(items: Uint8Array[]): Uint8Array {
  return Uint8Array.from(items.flatMap((i) => [...fromHex('61'), ...(i.length < 0x80 ? [i.length] : [0x81, i.length]), ...i]));
}
const fci = (aid: string, pdol = '9F66049F02069F37045F2A02') => toHex(tlv([['6F', tlv([['84', fromHex(aid)], ['A5', tlv([['9F38', fromHex(pdol)]])]])]])) + '9000';
type Script = Array<[string, string | Error]>;
function card(script: Script, sent: string[] = []): CardTransport {
  return {
    async transceive(c) {
      const h = toHex(c);
      sent.push(h);
      const hit = script.find(([prefix]) => h.startsWith(prefix));
      if (!hit) throw new TransportError('REPLAY_EXHAUSTED', `no answer for ${h}`);
      if (hit[1] instanceof Error) throw hit[1];
      return fromHex(hit[1]);
    },
    onCardEvent: () => () => {},
  };
}
const SELECT = '00A40400';
const selectOf = (aid: string) => SELECT + (aid.length / 2).toString(16).padStart(2, '0').toUpperCase() + aid;
const PPSE_SELECT = selectOf(toHex(new TextEncoder().encode('2PAY.SYS.DDF01')));
const config: TerminalConfig = { ...testTerminalConfig(), combinations: [combo(VISA, 3), combo(MC, 2), combo(UP, 7, false)].map((c) => ({ ...c, ttq: c.kernelId === 2 ? undefined as never : '25004000' })) };
const run = (script: Script, amount = 10_00, sent: string[] = [], events: ProgressEvent[] = []) =>
  runEntryPoint(card(script, sent), config, { amount, currency: '0156', date: '251125' }, { random: (n) => new Uint8Array(n), onProgress: (e) => events.push(e) });
const view = (o: Awaited<ReturnType<typeof run>>) => [o.kind, o.ui.message, o.reason];

describe('Entry Point outcomes', () => {
  it('over every combination\'s transaction limit: no card command at all', async () => {
    const sent: string[] = [], events: ProgressEvent[] = [];
    expect(view(await run([], 5_000_00, sent, events))).toEqual(['END_APPLICATION', 'AMOUNT_OVER_LIMIT', 'CONTACTLESS_NOT_ALLOWED']);
    expect([sent, events]).toEqual([[], []]);
  });
  it('one minor unit under the limit the card is asked', async () => {
    const sent: string[] = [], events: ProgressEvent[] = [];
    await run([[PPSE_SELECT, '6A82']], 4_999_99, sent, events);
    expect([sent, events]).toEqual([[PPSE_SELECT + '00'], [{ type: 'PRESENT_CARD' }]]);
  });
  it('one combination able to take the amount is enough', async () => {
    const mixed: TerminalConfig = { ...config, combinations: [{ ...combo(MC, 2), limits: [] }, { ...combo(VISA, 3), ttq: '25004000' }] };
    const sent: string[] = [];
    const o = await runEntryPoint(card([[PPSE_SELECT, '6A82']], sent), mixed, { amount: 10_00, currency: '0156', date: '251125' });
    expect([o.reason, sent.length]).toEqual(['PPSE_NOT_FOUND', 1]);
  });
  it('a currency without limits anywhere', async () => {
    const o = await runEntryPoint(card([]), config, { amount: 1, currency: '0978', date: '251125' });
    expect(view(o)).toEqual(['END_APPLICATION', 'AMOUNT_OVER_LIMIT', 'CONTACTLESS_NOT_ALLOWED']);
  });
  it('an invalid transaction is refused before anything', async () => {
    await expect(runEntryPoint(card([]), config, { amount: -1, currency: '0156', date: '251125' })).rejects.toThrow(/amount/);
  });
  it('no PPSE', async () => expect(view(await run([[PPSE_SELECT, '6A82']]))).toEqual(['END_APPLICATION', 'TRY_ANOTHER_CARD', 'PPSE_NOT_FOUND']));
  it('no application in common', async () => expect(view(await run([[PPSE_SELECT, ppse({ aid: 'A0000000251010' })]]))).toEqual(['END_APPLICATION', 'CARD_NOT_SUPPORTED', 'EMPTY_CANDIDATE_LIST']));
  it('the application is blocked (6283): the next candidate, then the last reason', async () => {
    const sent: string[] = [];
    const o = await run([[PPSE_SELECT, ppse({ aid: VISA, prio: 1 }, { aid: MC, prio: 2 })], [selectOf(VISA), '6283'], [selectOf(MC), '6A82']], 10_00, sent);
    expect(view(o)).toEqual(['END_APPLICATION', 'TRY_ANOTHER_CARD', 'SELECT_SW_6A82']);
    expect(sent.map((s) => s.slice(0, 8 + 2 + 14))).toEqual([PPSE_SELECT.slice(0, 24), selectOf(VISA), selectOf(MC)]);
  });
  it('the only application blocked', async () => {
    expect(view(await run([[PPSE_SELECT, ppse({ aid: VISA })], [selectOf(VISA), '6283']]))).toEqual(['END_APPLICATION', 'TRY_ANOTHER_CARD', 'CARD_BLOCKED']);
  });
  it('an FCI naming another application', async () => {
    expect(view(await run([[PPSE_SELECT, ppse({ aid: VISA })], [selectOf(VISA), fci(MC)]]))).toEqual(['END_APPLICATION', 'TRY_ANOTHER_CARD', 'FCI_AID_MISMATCH']);
  });
  it('GPO refused (6985): select next, the next candidate runs', async () => {
    const sent: string[] = [];
    const o = await run([[PPSE_SELECT, ppse({ aid: VISA, prio: 1 }, { aid: UP, prio: 2 })], [selectOf(VISA), fci(VISA)], [selectOf(UP), fci(UP)], ['80A8', '6985']], 10_00, sent);
    expect(view(o)).toEqual(['END_APPLICATION', 'TRY_ANOTHER_CARD', 'GPO_REFUSED']);
    expect(sent.filter((s) => s.startsWith('80A8'))).toHaveLength(2);
  });
  it('the card leaves the field: try again, present card again', async () => {
    expect(view(await run([[PPSE_SELECT, new CardRemovedError()]]))).toEqual(['TRY_AGAIN', 'PRESENT_CARD_AGAIN', 'CARD_REMOVED']);
  });
  it('the reader fails', async () => {
    expect(view(await run([[PPSE_SELECT, new TransportError('TIMEOUT', 'x')]]))).toEqual(['END_APPLICATION', 'ERROR', 'TRANSPORT_TIMEOUT']);
  });
  it('a malformed PPSE answer', async () => {
    expect(view(await run([[PPSE_SELECT, '6F0599019000']]))).toEqual(['END_APPLICATION', 'ERROR', 'CARD_DATA_VALUE_MALFORMED']);
  });
  it('anything else is a kernel fault, never a throw', async () => {
    expect(view(await run([[PPSE_SELECT, new RangeError('bug')]]))).toEqual(['END_APPLICATION', 'ERROR', KERNEL_FAULT]);
  });
  it('the unpredictable number comes from the random source', async () => {
    const sent: string[] = [];
    await runEntryPoint(card([[PPSE_SELECT, ppse({ aid: VISA })], [selectOf(VISA), fci(VISA)], ['80A8', '6A81']], sent), config, { amount: 10_00, currency: '0156', date: '251125' }, { random: (n) => new Uint8Array(n).fill(0xab) });
    expect(sent.find((s) => s.startsWith('80A8'))).toContain('ABABABAB');
  });
});
