// The PIN never leaks (issue 4): every byte that crosses a TA boundary is recorded (client
// envelopes, TA-to-TA payloads, host-ABI calls with the bytes they read and write — in worker
// isolation too, where the worker forwards them — trusted-UI screens and events, the worker
// channel), with every log line, every sealed blob on disk and
// every error, while entries with canary PINs run — successful (format 4, 0 and UnionPay SM4), cancelled,
// timed out, aborted by the client, too short, and failing in the key store. A canary in any
// encoding (ASCII digits, digit values, BCD at either nibble alignment, ISO 9564 PIN fields and
// clear PIN blocks; and, issue 17 §7, the digits as UTF-16LE — AssemblyScript's own string
// encoding — as hex text of their ASCII, and any of these byte strings in base64 or base64url
// at each of the three alignments, as text or as the ASCII bytes of that text) anywhere but the one sanctioned TEE-internal path fails the test. That path
// is the pinpad handing the PIN field / clear PIN block to the keystore TA for DUKPT encryption
// (keystore COMMAND_DUKPT_ENCRYPT_PIN_BLOCK, or COMMAND_ENCRYPT_PIN_BLOCK for the UnionPay SM4
// block under a static SM4 key) and the keystore's host cipher call on it; the
// harness checks the canary does show up there (so it is looking at the right bytes), and
// nowhere else. The returned blocks decrypt to the canaries with a DUKPT derivation from the BDK
// (SM4: with the PIN key the host downloaded).
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setBoundaryRecorder, enterPin as types, type BoundaryRecord, type Person } from '../../tee/index.ts';
import { enterPin, type PinEntryRequest, type PinEntryOutcome } from '../../ree/pin/pin-entry.ts';
import { ks, TeeError } from '../../ree/tee-client/index.ts';
import { startPhone, withPinpad, PAN, decryptFormat4, decryptFormat0, decryptUnionPaySm4, hex, pp, type Phone } from './fixture.ts';
import { encodings } from './pin-encodings.ts';

const CANARIES = ['739182504617', '48261937', '905172', '3864'];
const ENCRYPT_PIN_BLOCK = `command ${ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK}`;
const ENCRYPT_SM4_PIN_BLOCK = `command ${ks.Command.COMMAND_ENCRYPT_PIN_BLOCK}`;

interface Finding { where: string; canary: string; encoding: string }

class Harness {
  readonly records: BoundaryRecord[] = [];
  readonly logs: string[] = [];
  readonly errors: string[] = [];
  readonly outcomes: string[] = [];

  install(): void {
    setBoundaryRecorder((r) => this.records.push(r));
  }

  /** Where each record came from: host reads/writes take the name of the host call they belong to. */
  sites(): { site: string; bytes?: Uint8Array; text?: string }[] {
    const out: { site: string; bytes?: Uint8Array; text?: string }[] = [];
    const pendingByTa = new Map<string, BoundaryRecord[]>();
    for (const r of this.records) {
      if (r.channel === 'host-read' || r.channel === 'host-write') {
        const list = pendingByTa.get(r.ta ?? '') ?? [];
        list.push(r);
        pendingByTa.set(r.ta ?? '', list);
        continue;
      }
      if (r.channel === 'host-call') {
        for (const p of pendingByTa.get(r.ta ?? '') ?? []) out.push({ site: `${p.channel}:${p.ta}:${r.what}`, bytes: p.bytes });
        pendingByTa.delete(r.ta ?? '');
        continue;
      }
      out.push({ site: `${r.channel}:${r.ta ?? ''}:${r.what ?? ''}`, bytes: r.bytes });
      if (r.what) out.push({ site: `${r.channel}:${r.ta ?? ''}:what`, text: r.what });
    }
    for (const [ta, list] of pendingByTa) for (const p of list) out.push({ site: `${p.channel}:${ta}:(no call)`, bytes: p.bytes });
    for (const l of this.logs) out.push({ site: 'log', text: l });
    for (const e of this.errors) out.push({ site: 'error', text: e });
    for (const o of this.outcomes) out.push({ site: 'outcome', text: o });
    return out;
  }

  scan(extra: { site: string; bytes?: Uint8Array; text?: string }[] = []): Finding[] {
    const found: Finding[] = [];
    const all = [...this.sites(), ...extra];
    for (const canary of CANARIES) {
      const enc = encodings(canary, PAN);
      for (const s of all) {
        if (s.bytes && s.bytes.length) {
          const h = hex(s.bytes);
          for (const e of enc.hexes) {
            // Nibble-aligned anywhere for the bare BCD pattern; byte-aligned for the others.
            const i = h.indexOf(e);
            if (i >= 0 && (e === canary || i % 2 === 0)) found.push({ where: s.site, canary, encoding: e });
          }
        }
        if (s.text) {
          // base64 is case-sensitive: matched on the text as it is.
          for (const b of enc.base64) if (s.text.includes(b)) found.push({ where: s.site, canary, encoding: `base64 ${b}` });
          const text = s.text.toUpperCase();
          // A short canary's digits turn up by chance inside long hex strings (MACs, hex dumps);
          // a PIN written as text would not be there, and a hex dump of a PIN field or block is
          // caught by the structured patterns.
          const plain = canary.length < 8 ? text.replace(/[0-9A-F]{16,}/g, ' ') : text;
          for (const t of enc.texts) if ((t === canary ? plain : text).includes(t)) found.push({ where: s.site, canary, encoding: `text ${t}` });
        }
      }
    }
    return found;
  }
}

/** The TEE-internal PIN path, by design (docs/pinpad.md). */
const SANCTIONED = new Set([
  'host-read:pinpad:session_invoke', // the pinpad hands the request to the runtime ...
  `ta-call:keystore:${ENCRYPT_PIN_BLOCK}`, // ... which gives it to the keystore TA ...
  `ta-call:keystore:${ENCRYPT_SM4_PIN_BLOCK}`, // (the UnionPay SM4 block, for the static SM4 PIN key)
  'host-read:keystore:cipher_update', // ... which encrypts it with the TEE's block cipher: ISO 4 through an operation handle,
  'host-read:keystore:cipher_once', // ISO 0 (TDES DUKPT) and the UnionPay SM4 block in one call (host ABI 1.3).
  'worker-outcall:pinpad:op 12', // worker isolation: the same request on the worker channels
  'worker-call:keystore:op 3',
]);

function sealedFiles(dir: string): { site: string; bytes?: Uint8Array; text?: string }[] {
  const out: { site: string; bytes?: Uint8Array; text?: string }[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(json|counters)$/.test(f)) out.push({ site: `file:${p.slice(dir.length)}`, text: readFileSync(p, 'utf8') });
      else out.push({ site: `file:${p.slice(dir.length)}`, bytes: new Uint8Array(readFileSync(p)) });
    }
  };
  walk(dir);
  return out;
}

describe.each(['in-process', 'worker'] as const)('leak harness (%s)', (isolation) => {
  const h = new Harness();
  let phone: Phone;
  const blocks: { pin: string; r: PinEntryOutcome; format: 'iso4' | 'iso0' | 'unionpay-sm4' }[] = [];

  beforeAll(async () => {
    phone = await startPhone({ isolation, log: (ta, line) => h.logs.push(`[${ta}] ${line}`) });
    h.install();
    const run = async (who: Person, more: Partial<PinEntryRequest> = {}) => {
      phone.person.enqueue(who);
      try {
        const r = await enterPin(phone.ctx, { pan: PAN, amountMinor: 995, currency: 'CNY', keySetId: 'pin-aes', attest: phone.attest, ...more });
        h.outcomes.push(JSON.stringify(r, (_, v) => (v instanceof Uint8Array ? hex(v) : v)));
        return r;
      } catch (e) {
        h.errors.push(`${(e as Error).message} ${(e as TeeError).detail ?? ''}`);
        return null;
      }
    };
    for (const pin of CANARIES) {
      const r4 = await run(types(pin));
      blocks.push({ pin, r: r4!, format: 'iso4' });
      const r0 = await run(types(pin), { format: 'iso0', keySetId: 'pin-tdes' });
      blocks.push({ pin, r: r0!, format: 'iso0' });
      const rs = await run(types(pin), { format: 'unionpay-sm4', keySetId: 'pin-sm4' });
      blocks.push({ pin, r: rs!, format: 'unionpay-sm4' });
    }
    await withPinpad(phone, (p) => p.setPolicy({ minLength: 5, maxLength: 12, timeoutMs: 400, tokenMaxAgeS: 60, freeTries: 5, lockoutTries: 20, defaultFormat: pp.PinFormat.PIN_FORMAT_ISO_4 }));
    await run([{ digits: CANARIES[0] }, 'cancel']);
    await run([{ digits: CANARIES[1] }, { wait: 1000 }]); // timed out with the PIN typed
    await run([{ digits: '3864' }, 'ok']); // too short under min_length 5
    const ac = new AbortController();
    const aborted = run([{ digits: CANARIES[2] }], { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await aborted;
    blocks.push({ pin: CANARIES[3] + '9', r: (await run(types(CANARIES[3] + '9')))!, format: 'iso4' }); // a success resets the try counter
    await run(types(CANARIES[0]), { keySetId: 'no-such-set' }); // fails in the key store, after the PIN
    await run(types(CANARIES[1]), { format: 'iso0' }); // AES key set refuses format 0: key store error
    await run(types(CANARIES[1]), { format: 'unionpay-sm4' }); // SM4 on a DUKPT key set: key store error
    await run([], { attest: async () => ({ token: new Uint8Array(8), signature: new Uint8Array(64) }) }); // token refused
    for (let i = 0; i < 2; i++) await run([{ digits: CANARIES[2] }, 'cancel']);
    await run(types(CANARIES[2])); // locked out: nothing shown
    setBoundaryRecorder(null);
  }, 120_000);
  afterAll(async () => {
    setBoundaryRecorder(null);
    await phone.close();
  });

  test('the returned blocks decrypt to the canaries with DUKPT from the BDK', () => {
    expect(blocks.length).toBe(3 * CANARIES.length + 1);
    for (const { pin, r, format } of blocks) {
      expect(r.kind).toBe('pin-block');
      if (r.kind !== 'pin-block') continue;
      expect(r.format).toBe(format);
      const got = format === 'iso4' ? decryptFormat4(r.encryptedPinBlock, r.ksn, PAN)
        : format === 'iso0' ? decryptFormat0(r.encryptedPinBlock, r.ksn, PAN) : decryptUnionPaySm4(r.encryptedPinBlock, PAN);
      expect(got).toBe(pin);
    }
    expect(h.outcomes.map((o) => JSON.parse(o).kind)).toEqual(expect.arrayContaining(['cancelled', 'timeout', 'pin-too-short', 'aborted', 'token-refused', 'locked-out']));
    expect(h.errors.length).toBe(3);
  });

  test('the harness sees everything: envelopes, TA-to-TA calls, host calls, UI screens and events', () => {
    const channels = new Set(h.records.map((r) => r.channel));
    const want = isolation === 'in-process'
      ? ['client-request', 'client-response', 'ta-call', 'ta-reply', 'host-call', 'host-read', 'host-write', 'tui-screen', 'tui-event']
      : ['client-request', 'client-response', 'ta-call', 'ta-reply', 'host-call', 'host-read', 'host-write', 'tui-screen', 'tui-event', 'worker-call', 'worker-reply', 'worker-outcall', 'worker-outreply'];
    // Host calls in worker isolation are made inside the worker: it forwards them, named by TA.
    for (const ta of ['pinpad', 'keystore']) expect(h.records.some((r) => r.channel === 'host-call' && r.ta === ta), ta).toBe(true);
    for (const c of want) expect([...channels], c).toContain(c);
    // And the detector works: the clear PIN field does travel the sanctioned TEE-internal path.
    const inside = h.scan().filter((f) => SANCTIONED.has(f.where));
    for (const canary of CANARIES) expect(inside.some((f) => f.canary === canary), canary).toBe(true);
    // ... including the UnionPay SM4 path, caught by its own 16-byte patterns.
    for (const canary of CANARIES) {
      const n = canary.length.toString(16).toUpperCase();
      const sm4Field = ('0' + n + canary).padEnd(32, 'F');
      expect(inside.some((f) => f.canary === canary && f.encoding !== sm4Field && f.encoding.length === 32 && f.encoding.startsWith('0' + n)), canary).toBe(true);
    }
    if (isolation === 'in-process') expect(inside.some((f) => f.where === `ta-call:keystore:${ENCRYPT_SM4_PIN_BLOCK}`)).toBe(true);
    const planted = Buffer.from(('4' + '8' + '48261937').padEnd(16, 'A') + '0123456789ABCDEF', 'hex');
    expect(h.scan([{ site: 'planted', bytes: planted }]).some((f) => f.where === 'planted')).toBe(true);
    // Each added encoding (issue 17 §7) is found where it is planted.
    const pin = CANARIES[3]!; // the shortest canary: the hardest to see
    const plants: [string, { bytes?: Uint8Array; text?: string }][] = [
      ['utf16le', { bytes: Buffer.concat([Buffer.from('ab'), Buffer.from(`pin=${pin};`, 'utf16le')]) }],
      ['ascii hex text', { text: `dump ${Buffer.from(pin, 'ascii').toString('hex')} end` }],
      ['ascii hex bytes', { bytes: Buffer.from(`x${Buffer.from(pin, 'ascii').toString('hex')}y`, 'ascii') }],
      ...[0, 1, 2].map((k) => [`base64 at offset ${k}`, { text: `{"v":"${Buffer.concat([Buffer.alloc(k, 0x41), Buffer.from(pin, 'ascii'), Buffer.from('zz')]).toString('base64')}"}` }] as [string, { text: string }]),
      ['base64url of a clear format 0 field', { text: Buffer.concat([Buffer.from([1]), Buffer.from(('0' + pin.length.toString(16) + pin).padEnd(16, 'F'), 'hex')]).toString('base64url') }],
      ['base64 as bytes', { bytes: Buffer.from(Buffer.from(`--${pin}--`, 'ascii').toString('base64'), 'ascii') }],
    ];
    for (const [what, plant] of plants) {
      const found = h.scan([{ site: `planted ${what}`, ...plant }]).filter((f) => f.where === `planted ${what}`);
      expect(found.some((f) => f.canary === pin), what).toBe(true);
    }
  });

  test('no canary anywhere else: envelopes, UI, logs, errors, outcomes, sealed blobs, other host calls', () => {
    const leaks = h.scan(sealedFiles(phone.dataDir)).filter((f) => !SANCTIONED.has(f.where));
    expect(leaks).toEqual([]);
  });
});
