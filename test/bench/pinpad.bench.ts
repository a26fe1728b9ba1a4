// PIN entry (issue 4): the TEE's processing time for one entry, without the person — START
// (nonce, verdict-token signature check, random layout, screen to the trusted UI), each touch
// (TA maps the touched point to its key, redraws the dots), and OK to the encrypted block (PIN field, TA-to-TA
// DUKPT encryption in the keystore with its sealed state save, try counter reset) — in-process
// and in worker isolation. A timing person reads the drawn keys once (outside the timed
// touches), drives the UI with no think time and stamps each event; the figures are medians.
import { startPhone, PAN, withPinpad } from '../pinpad/fixture.ts';
import { enterPin } from '../../ree/pin/pin-entry.ts';
import { readKeys, type TuiScreen, type TuiSink, type UiProvider } from '../../tee/index.ts';
import { median, type Section } from './measure.ts';

class TimingPerson implements UiProvider {
  opened = 0;
  touches: number[] = [];
  private touchAt = 0;
  okAt = 0;
  constructor(private readonly pin: string) {}
  open(screen: TuiScreen, sink: TuiSink) {
    this.opened = performance.now();
    const keys = new Map(readKeys(screen).map((k) => [k.text, k]));
    const digits = [...this.pin];
    const next = () => {
      const d = digits.shift();
      if (d === undefined) { this.okAt = performance.now(); sink.ok(); return; }
      this.touchAt = performance.now();
      const k = keys.get(d)!;
      sink.touchAt(k.x, k.y);
    };
    setImmediate(next);
    return {
      show: () => { this.touches.push(performance.now() - this.touchAt); setImmediate(next); },
      close: () => undefined,
    };
  }
}

async function measure(isolation: 'in-process' | 'worker', n: number) {
  const person = { current: new TimingPerson('482619') };
  const provider: UiProvider = { open: (s, sink) => person.current.open(s, sink) };
  const phone = await startPhone({ isolation, ui: { standard: provider } });
  await withPinpad(phone, (p) => p.setPolicy({ minLength: 4, maxLength: 12, timeoutMs: 30_000, tokenMaxAgeS: 60, freeTries: 3, lockoutTries: 10, defaultFormat: 1 }));
  const start: number[] = [], touch: number[] = [], finish: number[] = [], total: number[] = [];
  for (let i = 0; i < n + 3; i++) {
    person.current = new TimingPerson('482619');
    let t0 = 0;
    const r = await enterPin(phone.ctx, {
      pan: PAN, amountMinor: 100, currency: 'EUR', keySetId: 'pin-aes',
      attest: async (nonce) => { const v = await phone.attest(nonce); t0 = performance.now(); return v; },
    });
    const end = performance.now();
    if (r.kind !== 'pin-block') throw new Error(`bench entry ended ${r.kind}`);
    if (i < 3) continue; // warm-up
    const p = person.current;
    start.push(p.opened - t0);
    touch.push(median(p.touches));
    finish.push(end - p.okAt);
    total.push(p.opened - t0 + p.touches.reduce((a, b) => a + b, 0) + end - p.okAt);
  }
  await phone.close();
  return { start: median(start), touch: median(touch), finish: median(finish), total: median(total) };
}

export async function run(): Promise<Section> {
  const figures: Section['figures'] = [];
  for (const isolation of ['in-process', 'worker'] as const) {
    const m = await measure(isolation, isolation === 'worker' ? 15 : 30);
    figures.push({ name: `${isolation}: START (token check, layout, screen) to the screen shown`, value: m.start, unit: 'ms' });
    figures.push({ name: `${isolation}: one touch (position to digit, dots redrawn)`, value: m.touch * 1000, unit: 'µs' });
    figures.push({ name: `${isolation}: OK to encrypted block (keystore DUKPT + sealed saves)`, value: m.finish, unit: 'ms' });
    figures.push({ name: `${isolation}: TEE processing per 6-digit entry, person excluded`, value: m.total, unit: 'ms' });
  }
  return {
    title: 'PIN entry (pinpad TA, trusted UI)',
    figures,
    notes: ['person excluded: the timing person answers at once and its waits are not counted', 'the OK figure is bounded by sealed-storage fsyncs (DUKPT state, try counter)',
      'worker: the pinpad opens its keystore session at OK and closes it after, so each entry starts a keystore worker (GP instances die with their last session); a keep-alive keystore instance would remove most of it'],
  };
}
