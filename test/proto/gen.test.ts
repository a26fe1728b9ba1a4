// The generated code is committed: regenerating must reproduce it exactly. Plus the
// generator's refusals and the TS side's shape.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Long from 'long';
import protobuf from 'protobufjs';
import { afterAll, describe, expect, it } from 'vitest';
import { expected, jobs, stale } from '../../cli/commands/gen.ts';
import { generateAs, GenError } from '../../proto/gen-as.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { trusttap as fixtures } from './gen/ts/codec_test.js';

describe('generated code is in sync with the .proto files', () => {
  let first: Map<string, string>;
  it('regenerating produces exactly the committed files, and nothing stale', async () => {
    const want = (first = await expected());
    expect(want.size).toBeGreaterThanOrEqual(4);
    const differ: string[] = [];
    for (const [p, content] of want) {
      let cur: string | null = null;
      try {
        cur = readFileSync(p, 'utf8');
      } catch {
        /* missing */
      }
      if (cur !== content) differ.push(path.relative(process.cwd(), p));
    }
    expect(differ, "run 'npx trusttap gen' and commit the result").toEqual([]);
    expect(stale(want)).toEqual([]);
  });

  it('is deterministic and marks every file as generated', async () => {
    const a = first ?? (await expected());
    const b = await expected();
    expect([...a.entries()]).toEqual([...b.entries()]);
    for (const [p, c] of a) {
      expect(c.split('\n')[0], p).toMatch(/generated.*DO NOT EDIT/i);
      expect(c, p).not.toContain(process.cwd()); // no absolute paths
    }
  });
});

describe('generator refusals', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trusttap-gen-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const gen = (body: string, syntax = 'proto3') => {
    const f = path.join(dir, 'x.proto');
    writeFileSync(f, `syntax = "${syntax}";\npackage x.v1;\n${body}\n`);
    const [main] = jobs();
    return () => generateAs([f], { ...main, asOutDir: path.join(dir, 'out') });
  };
  const cases: Array<[string, string, RegExp, string?]> = [
    ['map', 'message M { map<string, bytes> m = 1; }', /map fields are not supported/],
    ['float', 'message M { float f = 1; }', /float is not supported/],
    ['double', 'message M { repeated double d = 1; }', /double is not supported/],
    ['proto2 required', 'message M { required int32 a = 1; }', /only proto3|required fields are proto2/, 'proto2'],
    ['proto2 file', 'message M { optional int32 a = 1; }', /only proto3/, 'proto2'],
    ['group', 'message M { optional group G = 1 { optional int32 a = 2; } }', /groups are not supported|only proto3/, 'proto2'],
    ['reserved name', 'message M { uint32 encode = 1; }', /reserved in the generated AssemblyScript/],
    ['generated-name clash', 'message M { oneof body { uint32 a = 1; } uint32 body_case = 2; }', /collides/],
    ['nested-name clash', 'message A_B {} message A { message B {} }', /both map to the AssemblyScript name A_B/],
  ];
  for (const [what, body, msg, syntax] of cases) {
    it(`refuses ${what} with a clear error`, () => {
      const run = gen(body, syntax);
      expect(run).toThrow(GenError);
      expect(run).toThrow(msg);
    });
  }
});

describe('TS side (pbjs static module)', () => {
  it('exposes the packages as namespaces of classes with encode/decode', () => {
    const Ping = trusttap.tee.v1.PingResponse;
    const bytes = Ping.encode({ name: 'keystore', version: '0.1.0', abiVersion: 1 }).finish();
    const back = Ping.decode(bytes);
    expect(back.name).toBe('keystore');
    expect(back.abiVersion).toBe(1); // camelCase names, as in the AS classes
  });

  it('int64 fields are typed and decoded as Long', () => {
    const S = fixtures.test.v1.Scalars;
    const m = S.decode(S.encode({ u64: Long.fromString('18446744073709551615', true) }).finish());
    expect(m.u64.toString()).toBe('18446744073709551615');
  });

  it('each generated module registers its own protobufjs root (no clobbering between them)', () => {
    expect(protobuf.roots.trusttap).toBeDefined();
    expect(protobuf.roots.trusttap_test).toBeDefined();
    expect(protobuf.roots.trusttap).not.toBe(protobuf.roots.trusttap_test);
  });
});
