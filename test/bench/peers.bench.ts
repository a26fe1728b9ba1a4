// Payment crypto against what people would pick instead (issue 15), side by side in one run,
// interleaved batches (timePair) so machine load biases neither side; printed as `ratio to PEER`
// (> 1: TrustTap is faster). Each pair is first checked to compute the same bytes.
//  - TDES DUKPT (ANSI X9.24-1 2009): IPEK from the BDK and KSN, PIN key for the KSN, PIN block
//    encipherment — TrustTap's ta/lib/dukpt-tdes.ts (Wasm on the host's TDES) vs npm `dukpt`.
//  - AES DUKPT (ANSI X9.24-3 2017): PIN key derivation + ISO 9564-1 format 4 encipherment —
//    ta/lib/dukpt-aes.ts (Wasm on the host AES of common/aes) vs the plain TypeScript reference on
//    @noble (test/paylib/ref.ts).
//  - BER-TLV (EMV Book 3 Annex B): decoding a card record as the card sends it (bytes) —
//    common/tlv.ts vs `node-emv`, which reads hex text, so its side includes the conversion.
import { createRequire } from 'node:module';
import { createCipheriv } from 'node:crypto';
import { paylib, unhex, hex } from '../as/paylib-host.ts';
import { dukptAesInitialKey, dukptAesDerivationKey, dukptAesWorkingKey, format4Encipher } from '../paylib/ref.ts';
import { decodeTlv, encodeTlv } from '../../common/tlv.ts';
import { toHex } from '../../common/hex.ts';
import { aesCrypt } from '../../common/aes/aes.ts';
import { timePair, timePairWithCpu, type Section } from './measure.ts';

const require = createRequire(import.meta.url);
const Dukpt = require('dukpt') as new (bdk: string, ksn: string, mode: string) => { dukptEncrypt(data: string, o: object): string };
const nodeEmv = require('node-emv') as { parse(hex: string, cb: (tlvs: unknown[]) => void): void };

export async function run(): Promise<Section> {
  const figures: Section['figures'] = [];
  const p = await paylib();

  // TDES DUKPT: the X9.24-1 test BDK and KSN (counter 8), an ISO 9564 format 0 clear PIN block.
  const bdkHex = '0123456789ABCDEFFEDCBA9876543210';
  const ksnHex = 'FFFF9876543210E00008';
  const pinHex = '041274EDCBA9876F';
  const bdk = unhex(bdkHex), ksn = unhex(ksnHex), pin = unhex(pinHex);
  const ours = () => {
    const [ipek] = p.call('dtIpek', [], [bdk, ksn]);
    return p.call('dtPin', [], [ipek!, ksn, pin])[0]!;
  };
  const opts = { inputEncoding: 'hex', outputEncoding: 'hex', encryptionMode: '3DES' };
  const peer = () => new Dukpt(bdkHex, ksnHex, 'pinkey').dukptEncrypt(pinHex, opts);
  if (hex(ours()) !== peer().toUpperCase()) throw new Error(`TDES DUKPT: TrustTap ${hex(ours())} vs dukpt ${peer()}`);
  const [tOurs, tPeer, cOurs, cPeer] = timePairWithCpu(ours, peer, 200, 15);
  figures.push({ name: 'TDES DUKPT IPEK + PIN encipherment for a KSN, TrustTap (Wasm on host TDES)', value: 1e6 / tOurs, unit: '/s' });
  figures.push({ name: 'the same, npm dukpt 3.0.0 (pure JavaScript)', value: 1e6 / tPeer, unit: '/s' });
  figures.push({ name: 'ratio to dukpt', value: tPeer / tOurs, unit: '×', target: '≥ 1×', ok: tPeer / tOurs >= 1 });
  figures.push({ name: '  the same ratio in CPU time', value: cPeer / cOurs, unit: '×' });

  // AES DUKPT PIN path: initial key known, counter with 8 one bits (an average derivation).
  const ik = dukptAesInitialKey(new Uint8Array(16).fill(0x31), unhex('1234567890123456'));
  const aksn = new Uint8Array(12);
  aksn.set(unhex('1234567890123456'));
  new DataView(aksn.buffer).setUint32(8, 0x00a5a5);
  const pinField = unhex('441234AAAAAAAAAA0123456789ABCDEF');
  const panField = unhex('44321987654321000000000000000000');
  const LOOP = 100;
  const aesOurs = () => p.call('daPinLoop', [2, LOOP], [ik, aksn, pinField, panField]);
  const aesRef = () => {
    let c: Uint8Array | null = null;
    for (let i = 0; i < LOOP; i++) c = format4Encipher(dukptAesWorkingKey(dukptAesDerivationKey(ik, aksn), aksn, 0x1000, 2), pinField, panField);
    return c!;
  };
  if (hex(aesOurs()[0]!) !== hex(aesRef())) throw new Error('AES DUKPT: TrustTap and the @noble reference differ');
  const [aOurs, aRef, acOurs, acRef] = timePairWithCpu(aesOurs, aesRef, 3, 21);
  figures.push({ name: 'AES DUKPT PIN key + format 4 encipherment, TrustTap (Wasm on host AES)', value: (1e6 * LOOP) / aOurs, unit: '/s' });
  figures.push({ name: 'the same, plain TypeScript on @noble', value: (1e6 * LOOP) / aRef, unit: '/s' });
  figures.push({ name: 'ratio to @noble TypeScript', value: aRef / aOurs, unit: '×', target: '≥ 1.5×', ok: aRef / aOurs >= 1.5 });
  figures.push({ name: '  the same ratio in CPU time', value: acRef / acOurs, unit: '×' });
  // What the host AES costs on this path: each of its 10 AES operations has a new key. On
  // common/aes that is a key expansion and a block; node:crypto's cheapest keyed AES (what the
  // host used before) is a new cipher object per operation.
  const k16 = new Uint8Array(16).fill(7), blk = new Uint8Array(16), out = new Uint8Array(16);
  const [, , cWasm, cNode] = timePairWithCpu(
    () => { for (let i = 0; i < 10; i++) aesCrypt('ecb', false, k16, null, blk, out); },
    () => { for (let i = 0; i < 10; i++) createCipheriv('aes-128-ecb', k16, null).update(blk); }, 300, 15);
  figures.push({ name: '  10 × host AES (common/aes: key expansion + one block), CPU', value: cWasm, unit: 'µs' });
  figures.push({ name: '  10 × node:crypto createCipheriv + update (AES-128, one block), CPU', value: cNode, unit: 'µs' });
  figures.push({ name: '  TrustTap\'s path, CPU, per PIN block', value: acOurs / LOOP, unit: 'µs' });

  // BER-TLV: a record with short-form lengths (node-emv logs to the console on long forms).
  const record = (encodeTlv([['70', [['57', '4761739001010119D22122011143804400000F'], ['5F20', '56495341204143515549524552'], ['9F1F', '3230313830303030303030303030'], ['5F24', '221231'], ['5A', '4761739001010119'], ['9F07', 'FF00'], ['8C', '9F02069F03069F1A0295055F2A029A039C019F3704']]]]));
  let tlvCount = 0;
  const tlvOurs = () => decodeTlv(record);
  const tlvPeer = () => nodeEmv.parse(toHex(record), (t) => { tlvCount += t.length; });
  const [bOurs, bPeer] = timePair(tlvOurs, tlvPeer, 2000, 15);
  if (!tlvCount || tlvOurs().length !== 1) throw new Error('BER-TLV: a decoder found nothing');
  figures.push({ name: `BER-TLV decode of a ${record.length}-byte card record, TrustTap`, value: 1e6 / bOurs, unit: '/s' });
  figures.push({ name: 'the same, node-emv 1.0.23', value: 1e6 / bPeer, unit: '/s' });
  figures.push({ name: 'ratio to node-emv', value: bPeer / bOurs, unit: '×', target: '≥ 5×', ok: bPeer / bOurs >= 5 });
  return { title: 'Payment crypto vs peers', figures, notes: ['interleaved batches in one run; both sides checked to give the same bytes first'] };
}
