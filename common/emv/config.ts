// Terminal configuration for contactless acceptance (EMV Contactless Book A §5, Book B §3.1):
// the AID/kernel combinations the reader supports, reader limits per currency, TTQ, the
// Mastercard action codes, and the CA public keys. Amounts are in minor units of the currency.

export interface ReaderLimits {
  /** ISO 4217 numeric, 4 digits as in 5F2A, e.g. '0156' (CNY) */
  currency: string;
  /** above or at this amount, contactless is not allowed (Book B 3.1.1.4) */
  contactlessTransactionLimit: number;
  /** at or above this amount a CVM is required (UnionPay: CNY 1000 no-CVM limit) */
  cvmRequiredLimit: number;
  /** above this amount the transaction goes online; 0 for online-only readers */
  floorLimit: number;
}

export type KernelId = 2 | 3 | 7;

export interface CombinationConfig {
  aid: string;
  kernelId: KernelId;
  /** match ADF names that begin with this AID (Book B 3.3.2.5 partial selection) */
  partialSelection: boolean;
  /** TTQ (9F66) before pre-processing sets the per-transaction bits; K3 and K7 */
  ttq?: string;
  limits: ReaderLimits[];
  /** K2: Terminal Action Codes denial / online / default (5 bytes hex) */
  tacDenial?: string;
  tacOnline?: string;
  tacDefault?: string;
  /** K2: the terminal supports the relay resistance protocol with these parameters (Book C-2
   *  §3.10); absent: RRP is not performed. */
  relayResistance?: RelayResistanceConfig;
}

/** Kernel 2 relay resistance parameters (Book C-2 data dictionary), times in units of 100 µs as
 *  the card gives its own. Tags: DF8132 minGracePeriod, DF8133 maxGracePeriod, DF8134
 *  expectedTransmissionCapdu, DF8135 expectedTransmissionRapdu, DF8136 accuracyThreshold, DF8137
 *  mismatchThresholdPercent. */
export interface RelayResistanceConfig {
  minGracePeriod: number;
  maxGracePeriod: number;
  expectedTransmissionCapdu: number;
  expectedTransmissionRapdu: number;
  accuracyThreshold: number;
  /** percent, 0..255 (one byte) */
  mismatchThresholdPercent: number;
}

export interface CapkConfig {
  rid: string;
  index: string;
  modulus: string;
  exponent: string;
  /** SHA-1 of RID || index || modulus || exponent; checked when loading */
  checksum?: string;
  /** YYMMDD after which the key is not used */
  expiry?: string;
  /** CA Public Key Algorithm Indicator (Book 2 §11.2.2): '01' RSA (default), '04' SM2
   *  (PBOC 3.0 JR/T 0025.17). For SM2, `modulus` holds the public point x || y (64 bytes) and
   *  `exponent` is empty. */
  algorithm?: string;
}

export interface TerminalConfig {
  version: number;
  terminalCountryCode: string;
  /** 9F35, e.g. '22' attended online-only merchant terminal */
  terminalType: string;
  /** 9F33 Terminal Capabilities */
  terminalCapabilities: string;
  /** 9F40 Additional Terminal Capabilities */
  additionalTerminalCapabilities: string;
  merchantNameLocation?: string;
  /** CVMs this device can perform: online PIN (PIN pad TA), on-device CVM, signature */
  cvm: { onlinePin: boolean; cdcvm: boolean; signature: boolean };
  combinations: CombinationConfig[];
  capks: CapkConfig[];
}

/** Default kernel per RID when the card's directory entry carries no Kernel Identifier
 *  (Book B Table 3-6). */
export const DEFAULT_KERNEL_BY_RID: Readonly<Record<string, KernelId>> = {
  A000000004: 2,
  A000000003: 3,
  A000000333: 7,
};
