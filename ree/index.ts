// `trusttap` — the app API: what a payment app imports. The Terminal facade and its types, the
// pieces an app hands to Terminal.open() (a CardTransport, the signed kernel configuration, the
// REE health source, a state store) and the in-process card transport the simulators plug into.
// Browser-safe by intent: Node-only pieces (file state store, PC/SC, replay files) are in
// `trusttap/node` (ree/node/index.ts), which this entry never imports.
export { Terminal, type TerminalOptions } from './terminal/terminal.ts';
export {
  PaymentSession, type PaymentRequest, type PaymentEvent, type PaymentResult, type QrPaymentRequest, type Receipt, type Capability, type FailureCode,
} from './terminal/types.ts';
export { MemoryStateStore, type StateStore, type TerminalState } from './terminal/state.ts';
export { currencyOf, formatAmount, type Currency } from '../common/currency.ts';
export type { TeeTransport } from './tee-client/client.ts';
export type { PinFormat } from './pin/pin-entry.ts';
export { HealthCollector, HealthCollectorError, type HealthSnapshot, type HealthSource, type ReeSignals } from './attestation/collector.ts';
export {
  measureClientBundle, platformClientMeasurement, ClientMeasurementError, type ClientMeasurement,
} from './attestation/client-measurement.ts';
export { loadSignedConfig, ConfigError, type SignedConfig } from '../common/emv/signed-config.ts';
export type { TerminalConfig } from '../common/emv/config.ts';
export { CardRemovedError, TransportError, type CardTransport, type CardEvent } from './nfc/transport.ts';
export { InProcessTransport, CardTornError, type InProcessCard } from './nfc/in-process.ts';
