// Issue #17 §6: the trusted keypad does not tell the display driver the digits. A malicious
// display provider stands between the TEE and the person: it records everything it is given
// (every screen, with pixels, key rectangles and positions; every touch) and passes it on. From
// all of that except the pixels' contents it cannot do better than chance: the screens'
// metadata is the same byte for byte in every entry, and its best guess of each digit from where
// the finger went matches at the chance rate. The control at the end reads the recorded pixels,
// as the person does, and gets every PIN: the pixels are the one carrier of the layout, which is
// why they go only to the TEE's display path (docs/trusted-ui.md "What the display learns").
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { enterPin } from '../../ree/pin/pin-entry.ts';
import { ScriptedUiProvider, enterPin as types, readKeys, type TuiScreen, type UiProvider, type TuiSink } from '../../tee/index.ts';
import { mulberry32 } from '../helpers/mulberry32.ts';
import { startPhone, PAN, decryptFormat4, type Phone } from './fixture.ts';

const Screen = trusttap.tee.v1.TuiScreen;

/** Everything the display provider was given for one entry. */
interface Seen { screens: TuiScreen[]; touches: { x: number; y: number }[] }

class RecordingProvider implements UiProvider {
  readonly entries: Seen[] = [];
  constructor(private readonly person: ScriptedUiProvider) {}
  open(screen: TuiScreen, sink: TuiSink) {
    // copies, as a driver would keep them (the TA's own screen object is not shared anyway)
    const seen: Seen = { screens: [Screen.decode(Screen.encode(screen).finish())], touches: [] };
    this.entries.push(seen);
    const spy: TuiSink = {
      touch: (p) => { throw new Error(`a drawn keypad is touched by coordinates, not by position ${p}`); },
      touchAt: (x, y) => { seen.touches.push({ x, y }); sink.touchAt(x, y); },
      ok: () => sink.ok(), clear: () => sink.clear(), cancel: () => sink.cancel(),
    };
    const display = this.person.open(screen, spy);
    return {
      show: (s: TuiScreen) => { seen.screens.push(Screen.decode(Screen.encode(s).finish())); display.show(s); },
      close: () => display.close(),
    };
  }
}

/** The key a touch landed on, from the rectangles the provider was given. */
const keyIndex = (s: TuiScreen, t: { x: number; y: number }) =>
  s.keys.findIndex((k) => t.x >= (k.x ?? 0) && t.x < (k.x ?? 0) + (k.width ?? 0) && t.y >= (k.y ?? 0) && t.y < (k.y ?? 0) + (k.height ?? 0));

describe('a malicious display provider learns pixels and coordinates, not the PIN', () => {
  const ENTRIES = 50;
  const person = new ScriptedUiProvider();
  const spy = new RecordingProvider(person);
  const pins: string[] = [];
  let phone: Phone;

  beforeAll(async () => {
    phone = await startPhone({ ui: { standard: spy } });
    const rand = mulberry32(0x6b657970);
    for (let i = 0; i < ENTRIES; i++) {
      const pin = Array.from({ length: 4 }, () => Math.floor(rand() * 10)).join('');
      person.enqueue(types(pin));
      const r = await enterPin(phone.ctx, { pan: PAN, amountMinor: 4250, currency: 'EUR', keySetId: 'pin-aes', attest: phone.attest });
      // the entry really took this PIN: the block decrypts to it from the BDK
      expect(r.kind === 'pin-block' && decryptFormat4(r.encryptedPinBlock, r.ksn, PAN)).toBe(pin);
      pins.push(pin);
    }
  }, 180_000);
  afterAll(async () => { await phone?.close(); });

  test('no label, no speech, and every screen is the same but for its pixels', () => {
    expect(spy.entries.length).toBe(ENTRIES);
    const strip = (s: TuiScreen) => Buffer.from(Screen.encode({ ...Screen.toObject(s), pixels: new Uint8Array(0), entered: 0, notice: '' }).finish()).toString('hex');
    const all = spy.entries.flatMap((e) => e.screens);
    expect(all.every((s) => s.keys.every((k) => !k.label && !k.speech) && !(s.speech ?? []).length)).toBe(true);
    expect(new Set(all.map(strip)).size).toBe(1); // positions, rectangles, titles: no layout in them
  });

  test('its best guess of each digit from the touched key matches at the chance rate', () => {
    // The adversary knows which key each touch hit. Without labels its best fixed rule is as good
    // as any: a phone keypad's order (keys 0..8 are 1..9, key 9 is 0). Per digit: chance is 1/10.
    const phoneOrder = (key: number) => (key === 9 ? 0 : key + 1);
    let digits = 0, hits = 0, whole = 0;
    spy.entries.forEach((e, i) => {
      const keys = e.touches.map((t) => keyIndex(e.screens[0], t)).filter((k) => k >= 0 && k < 10);
      expect(keys.length).toBe(4);
      const guess = keys.map(phoneOrder).join('');
      for (let d = 0; d < 4; d++) { digits++; if (guess[d] === pins[i][d]) hits++; }
      if (guess === pins[i]) whole++;
    });
    // Binomial(200, 0.1): mean 20, sd 4.2; 50 or more has probability below 1e-9, so chance never
    // fails this. A leak of even half the digits would give ~110.
    expect(digits).toBe(4 * ENTRIES);
    expect(hits).toBeLessThan(50);
    expect(whole).toBeLessThanOrEqual(2); // chance: 50 tries at 1 in 10,000 each; three or more is 2e-8
    // And the same key stood for different digits across entries: touches do not map to digits.
    const digitsPerKey = new Map<number, Set<string>>();
    spy.entries.forEach((e, i) => e.touches.forEach((t, j) => {
      const k = keyIndex(e.screens[0], t);
      if (k < 10) digitsPerKey.set(k, (digitsPerKey.get(k) ?? new Set()).add(pins[i][j]));
    }));
    expect([...digitsPerKey.values()].every((s) => s.size >= 5)).toBe(true);
  });

  test('control: reading the recorded pixels, as the person does, gives every PIN back', () => {
    const read = spy.entries.map((e) => {
      const seen = readKeys(e.screens[0]);
      return e.touches.map((t) => seen[keyIndex(e.screens[0], t)].text).filter((x) => /^\d$/.test(x)).join('');
    });
    expect(read).toEqual(pins);
  });
});
