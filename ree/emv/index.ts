// `trusttap/emv` — the contactless kernel on its own: Entry Point over a CardTransport with a
// signed terminal configuration, its outcome, and the BER-TLV / track 2 helpers to read it.
export { runEntryPoint, type EntryPointOptions } from './entry-point.ts';
export type { Outcome, OutcomeKind, UiMessage, UiRequest, UiStatus, Cvm, ProgressEvent, CardSummary } from './outcome.ts';
export type { TerminalConfig, ReaderLimits, KernelId, CombinationConfig, CapkConfig, RelayResistanceConfig } from '../../common/emv/config.ts';
export { systemClock, type MonotonicClock, type RelayResistanceResult } from './relay-resistance.ts';
export { DEFAULT_KERNEL_BY_RID } from '../../common/emv/config.ts';
export { checkTransaction, TransactionError, type TransactionRequest } from './transaction.ts';
export { loadSignedConfig, signConfig, canonicalJson, ConfigError, type SignedConfig } from '../../common/emv/signed-config.ts';
export { decodeTlv, encodeTlv, flatten, findTag, toTree, TlvError, type Tlv, type TlvEntry, type TlvTree } from '../../common/tlv.ts';
export { TAGS, tagName, tagFormat } from '../../common/emv/tags.ts';
export { parseTrack2, maskPan, Track2Error, type Track2 } from '../../common/emv/track2.ts';
export { fromHex, toHex } from '../../common/hex.ts';
export { KernelError } from './read-records.ts';
