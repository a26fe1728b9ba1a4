// TR-31 / X9.143 / ISO 20038 key blocks in ta/lib: wrap then unwrap is the identity (10,000
// random blocks of versions A-E), any single-bit change of a block is rejected (10,000 random
// flips, plus every bit of one block per version), malformed blocks answer typed statuses whose
// reasons hold no key, and padding is injectable. No key appears in a test name or message.
import { describe, expect, test } from 'vitest';
import { paylib, load, ascii, text, PaylibError } from '../as/paylib-host.ts';
import { rng } from './ref.ts';

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const MAC_INVALID = 0xffff3071 | 0;
const BAD_FORMAT = 0xffff0005 | 0;
const BAD_PARAMETERS = 0xffff0006 | 0;
type R = ReturnType<typeof rng>;

const VERSIONS = ['A', 'B', 'C', 'D', 'E'] as const;
const kbpkLens = (v: string) => (v === 'D' || v === 'E' ? [16, 24, 32] : [16, 24]);
const hexChars = (r: R, n: number) => Array.from({ length: n }, () => '0123456789ABCDEF'[r.int(16)]).join('');

/** A random header (with random optional blocks, aligned with PB) and a matching key. */
function randomCase(r: R) {
  const v = r.pick(VERSIONS);
  const [usage, alg, lens] = r.pick([
    ['P0', 'T', [16, 24]], ['K0', 'T', [16, 24]], ['B0', 'T', [16, 24]], ['D0', 'A', [16, 24, 32]],
    ['M3', 'T', [8, 16, 24]], ['K1', 'A', [16, 32]], ['B1', 'A', [16]], ['D0', 'D', [8]],
  ] as const);
  const blocks: [string, string][] = [];
  if (r.int(2)) blocks.push(['KS', hexChars(r, r.pick([16, 20, 24]))]);
  if (r.int(3) === 0) blocks.push(['IK', hexChars(r, 16)]);
  if (r.int(3) === 0) blocks.push(['KC', '00' + hexChars(r, 6)]);
  if (r.int(3) === 0) blocks.push(['LB', 'label ' + hexChars(r, r.int(8))]);
  if (r.int(5) === 0) blocks.push(['10', 'x'.repeat(r.int(300))]); // proprietary, maybe extended length
  const bl = v === 'D' || v === 'E' ? 16 : 8;
  const enc = (id: string, d: string) => {
    const n = d.length + 4;
    return n <= 255 ? id + n.toString(16).toUpperCase().padStart(2, '0') + d : id + '0004' + (d.length + 10).toString(16).toUpperCase().padStart(4, '0') + d;
  };
  let body = blocks.map(([id, d]) => enc(id, d)).join('');
  let count = blocks.length;
  if ((16 + body.length) % bl !== 0 && v !== 'E') {
    let padLen = bl - ((16 + body.length) % bl);
    if (padLen < 4) padLen += bl;
    body += 'PB' + padLen.toString(16).toUpperCase().padStart(2, '0') + '0'.repeat(padLen - 4);
    count++;
  }
  const header = `${v}0000${usage}${alg}${r.pick(['E', 'N', 'X', 'B'])}${r.pick(['00', '12', 'c1'])}${r.pick(['E', 'N', 'S'])}${String(count).padStart(2, '0')}00${body}`;
  const key = r.bytes(r.pick(lens as readonly number[]));
  const kbpk = r.bytes(r.pick(kbpkLens(v)));
  const masked = r.int(3) === 0 ? r.pick([16, 24, 32]) : 0;
  const bodyLen = 2 + Math.max(key.length, masked);
  const total = v === 'E' ? bodyLen : Math.ceil(bodyLen / bl) * bl;
  const padding = r.bytes(total - 2 - key.length);
  return { v, header, key, kbpk, masked, padding };
}

describe('TR-31 wrap then unwrap is the identity', () => {
  test('10,000 random key blocks of versions A, B, C, D and E with random optional blocks', async () => {
    const p = await paylib();
    const r = rng(31);
    let bad = -1;
    const seen = new Set<string>();
    for (let i = 0; i < 10_000 && bad < 0; i++) {
      const c = randomCase(r);
      const [kb] = p.call('tr31Wrap', [c.masked], [ascii(c.header), c.kbpk, c.key, c.padding]);
      const [key, hdr] = p.call('tr31Unwrap', [], [kb!, c.kbpk]);
      const expectedHeader = c.header.slice(0, 1) + String(kb!.length).padStart(4, '0') + c.header.slice(5);
      if (!same(key!, c.key) || text(hdr!) !== expectedHeader) bad = i;
      seen.add(c.v);
    }
    expect(bad).toBe(-1);
    expect([...seen].sort()).toEqual([...VERSIONS]);
  });

  test('random padding from the TEE source (1,000 per version), and masking hides the key length', async () => {
    const p = await paylib();
    const r = rng(32);
    for (const v of VERSIONS) {
      for (let i = 0; i < 1000; i++) {
        const kbpk = r.bytes(r.pick(kbpkLens(v))), key = r.bytes(16);
        const [kb] = p.call('tr31Wrap', [32], [ascii(`${v}0000K0TB00E0000`), kbpk, key]);
        expect(same(p.call('tr31Unwrap', [], [kb!, kbpk])[0]!, key)).toBe(true);
        // Masked to 32 bytes: same length as a block holding a 32-byte key would have.
        if (i === 0) expect(kb!.length).toBe(16 + 2 * (v === 'E' ? 34 : Math.ceil(34 / (v === 'D' ? 16 : 8)) * (v === 'D' ? 16 : 8)) + 2 * { A: 4, B: 8, C: 4, D: 16, E: 16 }[v]);
      }
    }
  });

  test('padding is injectable: the same host random source gives the same key block', async () => {
    const fixed = (out: Uint8Array) => out.fill(0x5a);
    const a = await load(fixed), b = await load(fixed);
    const kbpk = new Uint8Array(32).fill(7), key = new Uint8Array(16).fill(9);
    const ka = a.call('tr31Wrap', [0], [ascii('D0000K0AB00E0000'), kbpk, key])[0]!;
    const kb = b.call('tr31Wrap', [0], [ascii('D0000K0AB00E0000'), kbpk, key])[0]!;
    expect(text(ka)).toBe(text(kb));
  });
});

describe('TR-31 unwrap rejects any single-bit change', () => {
  test('10,000 random single-bit changes of random key blocks', async () => {
    const p = await paylib();
    const r = rng(33);
    const pool = Array.from({ length: 200 }, () => {
      const c = randomCase(r);
      return { kb: p.call('tr31Wrap', [c.masked], [ascii(c.header), c.kbpk, c.key, c.padding])[0]!, kbpk: c.kbpk };
    });
    let accepted = 0;
    const statuses = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const { kb, kbpk } = pool[r.int(pool.length)]!;
      const m = kb.slice();
      const bit = r.int(m.length * 8);
      m[bit >> 3]! ^= 1 << (bit & 7);
      const s = p.status('tr31Unwrap', [], [m, kbpk]);
      if (s === 0) accepted++;
      statuses.add(s);
    }
    expect(accepted).toBe(0);
    // A flipped version letter may also name a version the KBPK does not fit (BAD_PARAMETERS).
    expect([...statuses].filter((s) => s !== MAC_INVALID && s !== BAD_FORMAT && s !== BAD_PARAMETERS).map((s) => (s >>> 0).toString(16))).toEqual([]);
  });

  test('every bit of one key block per version (with optional blocks)', async () => {
    const p = await paylib();
    for (const v of VERSIONS) {
      const kbpk = new Uint8Array(v === 'D' || v === 'E' ? 32 : 24).fill(0x21);
      const header = v === 'D' ? `${v}0000B0TX12S0200KS1800604B120F9292800000PB080000` : v === 'E' ? `${v}0000B0TX12S0100KS1800604B120F9292800000` : `${v}0000B0TX12S0100KS1800604B120F9292800000`;
      const [kb] = p.call('tr31Wrap', [0], [ascii(header), kbpk, new Uint8Array(16).fill(0x42)]);
      const [r] = p.call('tr31BitFlips', [0, kb!.length * 8], [kb!, kbpk]);
      const dv = new DataView(r!.buffer);
      expect({ version: v, accepted: dv.getUint32(0, true), tried: dv.getUint32(4, true) }).toEqual({ version: v, accepted: 0, tried: kb!.length * 8 });
    }
  });

  test('a block under another KBPK is rejected with MAC_INVALID', async () => {
    const p = await paylib();
    const [kb] = p.call('tr31Wrap', [0], [ascii('B0000P0TE00E0000'), new Uint8Array(16).fill(1), new Uint8Array(16).fill(2)]);
    expect(p.status('tr31Unwrap', [], [kb!, new Uint8Array(16).fill(3)])).toBe(MAC_INVALID);
  });
});

describe('malformed input answers a typed status; reasons hold no key', () => {
  const kbpk = new Uint8Array(16).fill(0xab);
  const key = new Uint8Array(16).fill(0xcd);
  async function good(): Promise<string> {
    return text((await paylib()).call('tr31Wrap', [0], [ascii('B0000P0TE00E0000'), kbpk, key])[0]!);
  }
  const mutations: [string, (kb: string) => string, number][] = [
    ['lower-case hex', (kb) => kb.slice(0, 16) + kb.slice(16).toLowerCase(), BAD_FORMAT],
    ['truncated', (kb) => kb.slice(0, -2), BAD_FORMAT],
    ['length field off by 8', (kb) => kb[0] + String(Number(kb.slice(1, 5)) + 8).padStart(4, '0') + kb.slice(5) + '00000000', BAD_FORMAT],
    ['unknown version', (kb) => 'Z' + kb.slice(1), BAD_FORMAT],
    ['bad exportability', (kb) => kb.slice(0, 11) + 'Q' + kb.slice(12), BAD_FORMAT],
    ['optional block count without blocks', (kb) => kb.slice(0, 12) + '01' + kb.slice(14), BAD_FORMAT],
    ['header only', (kb) => kb.slice(0, 1) + '0016' + kb.slice(5, 16), BAD_FORMAT],
    ['altered usage (MAC)', (kb) => kb.slice(0, 5) + 'K0' + kb.slice(7), MAC_INVALID],
  ];
  for (const [name, mutate, status] of mutations) {
    test(name, async () => {
      const p = await paylib();
      const m = mutate(await good());
      let err: PaylibError | null = null;
      try { p.call('tr31Unwrap', [], [ascii(m), kbpk]); } catch (e) { err = e as PaylibError; }
      expect(err?.status).toBe(status);
      expect(err!.message).not.toMatch(/ABAB|CDCD/i);
    });
  }

  test('wrap refuses a KBPK of the wrong kind, a misaligned header, bad padding and bad key lengths', async () => {
    const p = await paylib();
    const cases: [string, Uint8Array, Uint8Array, Uint8Array | null, number][] = [
      ['A0000P0TE00E0000', new Uint8Array(32), key, null, BAD_PARAMETERS],
      ['D0000P0AE00E0000', new Uint8Array(8), key, null, BAD_PARAMETERS],
      ['D0000P0AE00E0100LB08abcd', kbpk, key, null, BAD_FORMAT],
      ['B0000P0TE00E0000', kbpk, key, new Uint8Array(5), BAD_PARAMETERS],
      ['B0000P0TE00E0000', kbpk, new Uint8Array(20), null, BAD_PARAMETERS],
      ['B0000P0TE00E0100PB08000KS0C00604B12', kbpk, key, null, BAD_FORMAT], // PB not last
    ];
    for (const [h, k, kk, pad, status] of cases) {
      const args = pad ? [ascii(h), k, kk, pad] : [ascii(h), k, kk];
      let err: PaylibError | null = null;
      try { p.call('tr31Wrap', [0], args); } catch (e) { err = e as PaylibError; }
      expect({ h, status: err?.status }).toEqual({ h, status });
      expect(err!.message).not.toMatch(/ABAB|CDCD/i);
    }
  });

  test('known optional blocks are validated; unknown and proprietary ones parse generically', async () => {
    const p = await paylib();
    const wrapStatus = (h: string) => p.status('tr31Wrap', [0], [ascii(h), kbpk, key]);
    expect(wrapStatus('B0000P0TE00E0100KS0C00604B12')).toBe(BAD_FORMAT); // KS too short
    expect(wrapStatus('B0000P0TE00E0100KS1800604B120F929280000G')).toBe(BAD_FORMAT); // not hex
    expect(wrapStatus('B0000P0TE00E0100KC0A02ABCD')).toBe(BAD_FORMAT); // KCV algorithm 02
    expect(wrapStatus('B0000P0TE00E0100WP0700400')).toBe(BAD_FORMAT); // pedigree 4
    const [kb] = p.call('tr31Wrap', [0], [ascii('B0000P0TE00E0200ZZ08abcd99080000'), kbpk, key]);
    const outs = p.call('tr31Unwrap', [], [kb!, kbpk]);
    expect(outs.slice(3).map(text)).toEqual(['ZZ', 'abcd', '99', '0000']);
  });
});
