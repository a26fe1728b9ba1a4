// Shared by the proto tests: the reflected types of proto/*.proto and the fixtures, and the
// pbjs static classes for them.
import protobuf from 'protobufjs';
import { jobs, protoFiles } from '../../cli/commands/gen.ts';
import { loadRoot } from '../../proto/gen-as.ts';
import { trusttap as fixtureNs } from './gen/ts/codec_test.js';
import { trusttap as mainNs } from '../../proto/gen/ts/trusttap.js';

export const [MAIN, FIXTURES] = jobs();
export const FIXTURE_FILES = protoFiles(FIXTURES.protoDir);
export const MAIN_FILES = protoFiles(MAIN.protoDir);
export const root = loadRoot([...FIXTURE_FILES, ...MAIN_FILES]);

export interface StaticClass {
  encode(m: object): protobuf.Writer;
  decode(b: Uint8Array): object;
  toObject(m: object, o?: protobuf.IConversionOptions): Record<string, unknown>;
}

/** The pbjs-generated class for a full name such as trusttap.test.v1.Outer. */
export function staticClass(fullName: string): StaticClass {
  const parts = fullName.split('.');
  let cur: unknown = { trusttap: parts[1] === 'test' ? fixtureNs : mainNs };
  for (const p of parts) cur = (cur as Record<string, unknown>)?.[p];
  if (!cur) throw new Error(`no static class for ${fullName}`);
  return cur as StaticClass;
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** protobufjs decode then encode, or null if protobufjs rejects the input. */
export function pbjsReencode(fullName: string, input: Uint8Array): Uint8Array | null {
  const C = staticClass(fullName);
  let m: object;
  try {
    m = C.decode(input);
  } catch {
    return null;
  }
  return C.encode(m).finish();
}
