// The simulated cards the demo offers, with the PIN each one's issuer account holds (the
// simulated issuer's table, backend/issuer-sim, is the source; sim/README.md lists them).
import { UnionPayCardSim, VisaCardSim, MastercardCardSim, type SimulatedCard, type CardOptions } from './cards/index.ts';

export interface DemoCard {
  scheme: 'unionpay' | 'visa' | 'mastercard';
  label: string;
  pin: string;
  make(o?: CardOptions): SimulatedCard;
}

export const DEMO_CARDS: Record<DemoCard['scheme'], DemoCard> = {
  unionpay: { scheme: 'unionpay', label: 'UnionPay QuickPass (simulated)', pin: '1234', make: (o = {}) => new UnionPayCardSim(o) },
  visa: { scheme: 'visa', label: 'Visa payWave (simulated)', pin: '1234', make: (o = {}) => new VisaCardSim(o) },
  mastercard: { scheme: 'mastercard', label: 'Mastercard contactless (simulated)', pin: '1234', make: (o = {}) => new MastercardCardSim(o) },
};
