// SIMULATOR / TEST ONLY. A terminal configuration that accepts the simulated cards: the three
// kernels with reader limits for CNY, USD, EUR, GBP, HKD and JPY, online-only (floor limit 0), the test CA
// keys, signed with a fixed TEST Ed25519 key the way the back end would sign a real one.
import { createHash } from 'node:crypto';
import { signConfig, capkChecksumHex, type SignedConfig } from '../common/emv/signed-config.ts';
import { toHex } from '../common/hex.ts';
import type { CapkConfig, ReaderLimits, TerminalConfig } from '../common/emv/config.ts';
import { testCapks } from './cards/test-pki.ts';
import { testSm2Pki } from './cards/index.ts';
import { ed25519 } from '@noble/curves/ed25519.js';

// UnionPay: no-CVM limit CNY 1000 (amounts in fen). Contactless ceiling keeps SoftPOS small-value.
const LIMITS: ReaderLimits[] = [
  // CVM Required Limit is 'amount >= limit' (Book B 3.1.1.6): CNY 1000.00 itself needs no CVM.
  { currency: '0156', contactlessTransactionLimit: 5_000_00, cvmRequiredLimit: 1_000_01, floorLimit: 0 },
  { currency: '0840', contactlessTransactionLimit: 1_000_00, cvmRequiredLimit: 100_00, floorLimit: 0 },
  { currency: '0978', contactlessTransactionLimit: 1_000_00, cvmRequiredLimit: 50_00, floorLimit: 0 },
  // GBP: the UK no-CVM limit of 100.00 (100.00 itself needs none).
  { currency: '0826', contactlessTransactionLimit: 1_000_00, cvmRequiredLimit: 100_01, floorLimit: 0 },
  // HKD: no CVM up to 1,000.00.
  { currency: '0344', contactlessTransactionLimit: 10_000_00, cvmRequiredLimit: 1_000_01, floorLimit: 0 },
  // JPY has no minor unit (exponent 0): no CVM up to 10,000 yen, contactless up to 100,000.
  { currency: '0392', contactlessTransactionLimit: 100_000, cvmRequiredLimit: 10_001, floorLimit: 0 },
];

export function testTerminalConfig(): TerminalConfig {
  const capks: CapkConfig[] = testCapks().map((k) => {
    const c: CapkConfig = { rid: k.rid, index: k.index, modulus: toHex(k.modulus), exponent: toHex(k.exponent) };
    return { ...c, checksum: capkChecksumHex(c) };
  });
  // The UnionPay SM2 test CA (national algorithms, JR/T 0025.17): algorithm indicator 04.
  const sm2 = testSm2Pki().capk;
  const sm2Capk: CapkConfig = { rid: sm2.rid, index: sm2.index, modulus: toHex(sm2.modulus), exponent: '', algorithm: '04' };
  capks.push({ ...sm2Capk, checksum: capkChecksumHex(sm2Capk) });
  return {
    version: 1,
    terminalCountryCode: '0156',
    terminalType: '22',
    terminalCapabilities: '604000', // no contact, online PIN, no CDA-only flags beyond defaults
    additionalTerminalCapabilities: '6000008001',
    merchantNameLocation: 'TRUSTTAP TEST MERCHANT',
    cvm: { onlinePin: true, cdcvm: true, signature: false },
    combinations: [
      // TTQ 25 00 40 00: qVSDC, online PIN, ODA for online authorisations; CDCVM supported.
      { aid: 'A0000000031010', kernelId: 3, partialSelection: true, ttq: '25004000', limits: LIMITS },
      { aid: 'A000000333010101', kernelId: 7, partialSelection: false, ttq: '25004000', limits: LIMITS },
      { aid: 'A000000333010102', kernelId: 7, partialSelection: false, ttq: '25004000', limits: LIMITS },
      { aid: 'A0000000041010', kernelId: 2, partialSelection: true, limits: LIMITS, tacDenial: '0040000000', tacOnline: 'F470C49800', tacDefault: 'F470C49800',
        // Relay resistance (Book C-2), 100 µs units: grace periods 2 ms / 5 ms, expected C-APDU /
        // R-APDU transmission 1.8 / 2.4 ms, accuracy threshold 30 ms, mismatch threshold 50 %.
        relayResistance: { minGracePeriod: 20, maxGracePeriod: 50, expectedTransmissionCapdu: 18, expectedTransmissionRapdu: 24, accuracyThreshold: 300, mismatchThresholdPercent: 50 } },
    ],
    capks,
  };
}

/** TEST ONLY signing key for the configuration (raw Ed25519 seed and public key), derived from a
 * fixed label. */
export function testConfigSigningKey(): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const seed = new Uint8Array(createHash('sha256').update('trusttap test terminal configuration key').digest());
  return { privateKey: seed, publicKey: ed25519.getPublicKey(seed) };
}

export function signedTestTerminalConfig(config: TerminalConfig = testTerminalConfig()): SignedConfig {
  return signConfig(config, testConfigSigningKey().privateKey);
}
