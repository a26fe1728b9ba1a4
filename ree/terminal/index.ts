export { Terminal, type TerminalOptions } from './terminal.ts';
export {
  PaymentSession, type PaymentRequest, type PaymentEvent, type PaymentResult, type QrPaymentRequest, type Receipt, type Capability, type FailureCode, type OfflineUploadEvent,
} from './types.ts';
export { MemoryStateStore, type StateStore, type TerminalState } from './state.ts';
export { currencyOf, formatAmount } from '../../common/currency.ts';
