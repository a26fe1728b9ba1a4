// Back-end benchmarks (issue 5): attestation verifications per second and enrolments per second
// through the real HTTP service on loopback (SQLite WAL, synchronous=FULL), with requests
// prepared beforehand by devices on the reference runtime so only the back end is timed:
// signature checks, OEM chain, evidence, policy, nonce use, the transaction and the signed answer.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { startBackend } from '../../backend/http/server.ts';
import { DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from '../../tee/index.ts';
import { TEST_OEM_ROOT } from '../../sim/oem/index.ts';
import { BackendLink } from '../../ree/attestation/backend-link.ts';
import { startDevice, type Device } from '../attest/device.ts';
import { median, type Section } from './measure.ts';

const a = trusttap.attest.v1;
const DEVICES = 4;
const ATTESTS_PER_DEVICE = 100;
const ENROLS_PER_DEVICE = 40;

async function signed(dev: Device, body: Record<string, unknown>, deviceId: string, counter: number, withKey: boolean): Promise<Uint8Array> {
  const request = a.DeviceRequest.encode({ deviceId, counter, timeMs: Date.now(), ...body } as any).finish();
  const signature = await dev.attest.signRequest(request);
  const publicKey = withKey ? (await dev.attest.getIdentity()).publicKey : new Uint8Array(0);
  return a.SignedDeviceRequest.encode({ request, signature, publicKey }).finish();
}

async function post(url: string, body: Uint8Array): Promise<{ status: number; bytes: Uint8Array; ms: number }> {
  const t = performance.now();
  const r = await fetch(url, { method: 'POST', body: Buffer.from(body) });
  const bytes = new Uint8Array(await r.arrayBuffer());
  return { status: r.status, bytes, ms: performance.now() - t };
}

const nonceOf = (bytes: Uint8Array) => a.DeviceResponse.decode(a.SignedDeviceResponse.decode(bytes).response).challenge!.nonce!;

/** Sends each device's requests in order, the devices in parallel; returns per-second rate and latencies. */
async function fire(url: string, perDevice: Uint8Array[][]): Promise<{ rate: number; lat: number[]; bad: number }> {
  const lat: number[] = [];
  let bad = 0;
  const t = performance.now();
  await Promise.all(perDevice.map(async (list) => {
    for (const b of list) {
      const r = await post(url, b);
      lat.push(r.ms);
      if (r.status !== 200) bad++;
    }
  }));
  const n = perDevice.reduce((s, l) => s + l.length, 0);
  return { rate: n / ((performance.now() - t) / 1000), lat, bad };
}

export async function run(): Promise<Section> {
  const be = await startBackend({
    dataDir: mkdtempSync(join(tmpdir(), 'tt-bench-be-')), port: 0, sweepIntervalMs: 0,
    oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
    manifestKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY),
    manifests: [{ bytes: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json')), signature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8') }],
  });
  const devices = await Promise.all(Array.from({ length: DEVICES }, () => startDevice()));
  try {
    // Enrolments: each device enrols on many terminals (same key; the back end allows it).
    const enrols: Uint8Array[][] = [];
    for (const [i, dev] of devices.entries()) {
      const chain = (await dev.attest.getIdentity()).chain;
      const list: Uint8Array[] = [];
      for (let j = 0; j < ENROLS_PER_DEVICE; j++) {
        const t = await be.service.createTerminal('M-BENCH', `T-${i}-${j}`);
        const ch = await post(`${be.url}/v1/device/challenge`, await signed(dev, { challenge: { activationCode: t.activationCode } }, '', j + 1, true));
        const ev = await dev.attest.getEvidence(nonceOf(ch.bytes), dev.collector.collect());
        list.push(await signed(dev, { enrol: { activationCode: t.activationCode, evidence: ev, oemChain: chain } }, '', j + 1, true));
      }
      enrols.push(list);
    }
    const en = await fire(`${be.url}/v1/device/enrol`, enrols);

    // Attestations: one enrolled identity per device, requests with increasing counters.
    const attests: Uint8Array[][] = [];
    for (const [i, dev] of devices.entries()) {
      const link = new BackendLink(be.url, dev.attest, dev.collector);
      const t = await be.service.createTerminal('M-BENCH', `A-${i}`);
      await link.enrol(t.activationCode);
      const evidence = [];
      for (let j = 0; j < ATTESTS_PER_DEVICE; j++) {
        const ch = await link.call('challenge', { challenge: {} });
        evidence.push(await dev.attest.getEvidence(ch.challenge!.nonce!, dev.collector.collect()));
      }
      const base = link.state.lastCounter;
      const list: Uint8Array[] = [];
      for (const [j, ev] of evidence.entries()) list.push(await signed(dev, { attest: { evidence: ev } }, link.state.deviceId, base + 1 + j, false));
      attests.push(list);
    }
    const at = await fire(`${be.url}/v1/device/attest`, attests);
    const p = (xs: number[], q: number) => [...xs].sort((x, y) => x - y)[Math.floor(q * (xs.length - 1))];
    return {
      title: 'Back end (attestation & monitoring, HTTP on loopback, SQLite WAL synchronous=FULL)',
      figures: [
        { name: `attestation verifications/s (${DEVICES} devices in parallel, ${at.bad} refused)`, value: at.rate, unit: '/s' },
        { name: 'attestation latency p50', value: median(at.lat), unit: 'ms' },
        { name: 'attestation latency p99', value: p(at.lat, 0.99), unit: 'ms' },
        { name: `enrolments/s (${DEVICES} devices in parallel, ${en.bad} refused)`, value: en.rate, unit: '/s' },
        { name: 'enrolment latency p50', value: median(en.lat), unit: 'ms' },
      ],
      notes: ['each attestation: request signature, evidence signature, policy, single-use nonce, verdict + history in one fsync\'d transaction, token and answer signed (ECDSA P-256)'],
    };
  } finally {
    for (const d of devices) await d.close();
    await be.close();
  }
}
