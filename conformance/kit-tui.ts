// The kit's trusted-UI category (docs/trusted-ui.md): the same TUI probe TA (as/tui-ta.ts) on a
// runtime with a scripted person at its display, checked for the ABI's statuses and the pending
// command's life: NOT_SUPPORTED without a UI, BAD_PARAMETERS / BAD_FORMAT / BAD_STATE / BUSY,
// events delivered in order with tui_update answers, TUI_PENDING without an entry, Cancel, close
// during an entry, the runtime's timer, no trusted UI inside a TA-to-TA call, and a TA that dies
// during an entry. Run against the reference runtime and the C host by test/conformance/
// tui.test.ts, and by runConformance for a factory that declares trustedUi.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeContext, type TeeSession } from '../ree/tee-client/index.ts';
import { Status } from '../proto/status.ts';
import { trusttap } from '../proto/gen/ts/trusttap.js';
import { ScriptedUiProvider, type Person } from '../tee/tui/scripted.ts';
import type { UiProviders } from '../tee/tui/provider.ts';
import { KIT_ASSETS_DIR, kitTaWasm } from './assets.ts';
import type { Harness } from './harness.ts';
import { expectTeeError, type RuntimeUnderTest, type TaImage } from './kit.ts';

export interface TuiRuntimeFactory {
  name: string;
  start(tas: TaImage[], dataDir: string, ui?: UiProviders): Promise<RuntimeUnderTest>;
}

export const TUI_PROBE_UUID = '0c0fe7a0-0000-4000-8000-0000000007e1';
const TUI_PROBE2_UUID = '0c0fe7a0-0000-4000-8000-0000000007e2';
const CMD = { BEGIN: 1, PENDING_NO_BEGIN: 2, UPDATE_NOW: 3, CALL: 4, PING2: 5 };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
const i32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getInt32(0, true);
const status = (s: number) => s | 0; // GP status as the TA sees it (i32)

export async function tuiProbeImages(assetsDir: string = KIT_ASSETS_DIR): Promise<TaImage[]> {
  const wasm = kitTaWasm('tui', assetsDir);
  return [{ name: 'tui-probe', uuid: TUI_PROBE_UUID, version: '1.0.0', wasm }, { name: 'tui-probe-2', uuid: TUI_PROBE2_UUID, version: '1.0.0', wasm }];
}

const SCREEN = trusttap.tee.v1.TuiScreen.encode({
  title: 'Enter PIN', lines: ['Amount: EUR 1.00'], columns: 3,
  keys: Array.from({ length: 10 }, (_, i) => ({ position: i, label: String((i * 7) % 10), row: Math.floor(i / 3), column: i % 3 })),
}).finish();

const begin = (timeoutMs: number, mode = 0, screen: Uint8Array = SCREEN) => Buffer.concat([u32(timeoutMs), u32(mode), screen]);

/** The probe's event log: the second tui_begin's status, then [kind, position, update status]. */
function events(b: Uint8Array): { again: number; events: [number, number, number][] } {
  const ev: [number, number, number][] = [];
  for (let i = 4; i + 2 < b.length; i += 3) ev.push([b[i], b[i + 1], b[i + 2]]);
  return { again: i32(b), events: ev };
}
const K = trusttap.tee.v1.TuiEventKind;
const low = (s: number) => s & 0xff;

export function tuiConformanceSuite(h: Harness, factory: TuiRuntimeFactory, assetsDir: string = KIT_ASSETS_DIR): void {
  const { describe, test, beforeAll, afterAll, expect } = h;
  describe(`trusted UI: ${factory.name}`, () => {
    let rt: RuntimeUnderTest, ctx: TeeContext;
    const person = new ScriptedUiProvider();
    const open = () => ctx.openSession('tui-probe');
    const entry = async (s: TeeSession, who: Person, timeoutMs = 30_000, mode = 0) => {
      person.enqueue(who);
      return s.invoke(CMD.BEGIN, begin(timeoutMs, mode));
    };
    beforeAll(async () => {
      rt = await factory.start(await tuiProbeImages(assetsDir), mkdtempSync(join(tmpdir(), 'tt-tui-')), { standard: person, audio: person.ears });
      ctx = await TeeContext.initialize(rt.transport);
    });
    afterAll(async () => { await ctx?.finalize(); await rt?.close(); });

    test('without a UI provider tui_begin is NOT_SUPPORTED and the command is answered at once', async () => {
      const bare = await factory.start(await tuiProbeImages(assetsDir), mkdtempSync(join(tmpdir(), 'tt-tui-')));
      const c = await TeeContext.initialize(bare.transport);
      try {
        const s = await c.openSession('tui-probe');
        expect(i32(await s.invoke(CMD.BEGIN, begin(1000)))).toBe(status(Status.ERROR_NOT_SUPPORTED));
        // tui_update without a UI: no entry can exist, BAD_STATE (the reference runtime's answer)
        expect(i32(await s.invoke(CMD.UPDATE_NOW, SCREEN))).toBe(status(Status.ERROR_BAD_STATE));
      } finally {
        await c.finalize();
        await bare.close();
      }
    });

    test('tui_begin checks the timeout (100..600000 ms) and the screen; tui_update needs an entry', async () => {
      const s = await open();
      expect(i32(await s.invoke(CMD.BEGIN, begin(99)))).toBe(status(Status.ERROR_BAD_PARAMETERS));
      expect(i32(await s.invoke(CMD.BEGIN, begin(600_001)))).toBe(status(Status.ERROR_BAD_PARAMETERS));
      expect(i32(await s.invoke(CMD.BEGIN, begin(1000, 0, Uint8Array.of(0x0a, 0xff, 0x01))))).toBe(status(Status.ERROR_BAD_FORMAT));
      expect(i32(await s.invoke(CMD.UPDATE_NOW, SCREEN))).toBe(status(Status.ERROR_BAD_STATE));
      expect(i32(await s.invoke(CMD.UPDATE_NOW, Uint8Array.of(0x0a, 0xff)))).toBe(status(Status.ERROR_BAD_FORMAT));
      await expectTeeError(s.invoke(CMD.PENDING_NO_BEGIN), Status.ERROR_BAD_STATE);
      // tui_begin, then an answer without going pending: no entry is left behind
      const opened = person.opened.length;
      expect(i32(await s.invoke(CMD.BEGIN, begin(1000, 1)))).toBe(1);
      expect(person.opened.length).toBe(opened);
      await s.close();
    });

    test('an entry: the screen is shown, events arrive in order, updates are checked, OK answers the command', async () => {
      const s = await open();
      const before = person.opened.length;
      const r = events(await entry(s, [{ touch: 3 }, { touch: 5 }, 'clear', { touch: 0 }, 'ok'], 30_000, 2));
      expect(r.again).toBe(status(Status.ERROR_BAD_STATE)); // tui_begin twice in one invoke
      expect(r.events).toEqual([[K.TUI_EVENT_TOUCH, 3, 0], [K.TUI_EVENT_TOUCH, 5, 0], [K.TUI_EVENT_CLEAR, 0, low(Status.ERROR_BAD_FORMAT)], [K.TUI_EVENT_TOUCH, 0, 0], [K.TUI_EVENT_OK, 0, 0]]);
      expect(person.opened.length).toBe(before + 1);
      expect(person.opened[before].title).toBe('Enter PIN');
      expect(person.display.history.slice(-3).map((x) => x.entered)).toEqual([1, 2, 1]);
      expect(person.closed).toBe(person.opened.length);
      await s.close();
    });

    test('host ABI 1.2: a drawn screen reaches the display with its pixels and without its speech, which goes to the audio path; touches come back as coordinates (TOUCH_AT)', async () => {
      const s = await open();
      const before = person.opened.length, heard = person.heard.length;
      const pixels = Uint8Array.from({ length: 16 }, (_, i) => (i * 37) & 0xff);
      const drawn = trusttap.tee.v1.TuiScreen.encode({
        title: 'Enter PIN', width: 16, height: 8, pixels, speech: ['the keys, from the top left'],
        keys: [{ position: 0, x: 0, y: 0, width: 8, height: 8 }, { position: 1, x: 8, y: 0, width: 8, height: 8 }],
      }).finish();
      person.enqueue([{ touchAt: [0x25, 3] }, { touchAt: [9, 7] }, 'ok']);
      const r = events(await s.invoke(CMD.BEGIN, begin(30_000, 0, drawn)));
      // the probe logs the low byte of the position: y << 16 | x
      expect(r.events).toEqual([[K.TUI_EVENT_TOUCH_AT, 0x25, 0], [K.TUI_EVENT_TOUCH_AT, 9, 0], [K.TUI_EVENT_OK, 0, 0]]);
      const shown = person.opened[before];
      expect([shown.width, shown.height, Buffer.from(shown.pixels ?? []).toString('hex')]).toEqual([16, 8, Buffer.from(pixels).toString('hex')]);
      expect(shown.speech ?? []).toEqual([]);
      expect(person.heard.slice(heard)).toEqual(['the keys, from the top left']);
      await s.close();
    });

    test('the person cancels; the runtime times out', async () => {
      const s = await open();
      expect(events(await entry(s, [{ touch: 1 }, 'cancel'])).events.map((e) => e[0])).toEqual([K.TUI_EVENT_TOUCH, K.TUI_EVENT_CANCEL]);
      const t0 = Date.now();
      expect(events(await entry(s, [], 150)).events).toEqual([[K.TUI_EVENT_TIMEOUT, 0, 0]]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      await s.close();
    });

    test('one entry per TA: another session gets BUSY, the pending session BUSY, others work; Cancel aborts', async () => {
      const a = await open(), b = await open();
      const first = entry(a, []);
      await new Promise((r) => setTimeout(r, 30));
      expect(i32(await b.invoke(CMD.BEGIN, begin(1000)))).toBe(status(Status.ERROR_BUSY));
      await expectTeeError(a.invoke(CMD.PING2), Status.ERROR_BUSY);
      expect(i32(await b.invoke(CMD.PING2))).toBe(7);
      const other = await ctx.openSession('tui-probe-2');
      expect(i32(await other.invoke(CMD.PING2))).toBe(7);
      await a.requestCancellation();
      expect(events(await first).events).toEqual([[K.TUI_EVENT_ABORT, 0, 0]]);
      expect(i32(await a.invoke(CMD.PING2))).toBe(7); // the session is free again
      await Promise.all([a.close(), b.close(), other.close()]);
    });

    test('closing the session during an entry answers the pending command with the TA\'s abort outcome', async () => {
      const s = await open();
      const pending = entry(s, []);
      await new Promise((r) => setTimeout(r, 30));
      await s.close();
      expect(events(await pending).events).toEqual([[K.TUI_EVENT_ABORT, 0, 0]]);
    });

    test('no trusted UI inside a TA-to-TA call: BAD_STATE', async () => {
      const s = await open();
      const call = Buffer.concat([Buffer.from(TUI_PROBE2_UUID.replace(/-/g, ''), 'hex'), u32(CMD.BEGIN), begin(1000)]);
      expect(i32(await s.invoke(CMD.CALL, call))).toBe(status(Status.ERROR_BAD_STATE));
      await s.close();
    });

    test('a TA that dies during an entry: the pending command is TARGET_DEAD, the TA comes back on the next open', async () => {
      const s = await open();
      await expectTeeError(entry(s, [{ touch: 99 }]), Status.ERROR_TARGET_DEAD);
      await expectTeeError(s.invoke(CMD.PING2), Status.ERROR_TARGET_DEAD);
      const again = await open();
      expect(i32(await again.invoke(CMD.PING2))).toBe(7);
      expect(person.closed).toBe(person.opened.length);
      await again.close();
    });
  });
}
