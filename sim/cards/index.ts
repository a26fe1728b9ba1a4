// SIMULATOR ONLY. Simulated contactless cards with real card cryptography (see sim/README.md).
export { VisaCardSim, VISA_CREDIT_AID } from './visa-card.ts';
export { MastercardCardSim, MASTERCARD_AID } from './mastercard-card.ts';
export { UnionPayCardSim, UnionPaySmCardSim, UNIONPAY_CREDIT_AID } from './unionpay-card.ts';
export { CardTornError, type SimulatedCard } from './card.ts';
export { TEST_ISSUER_MASTER_KEY_AC, TEST_ISSUER_MASTER_KEY_AC_SM4, TEST_ISSUER_MASTER_KEY_SMI_SM4, TEST_ISSUER_MASTER_KEY_SMC_SM4, type CardOptions } from './personalisation.ts';
export { testCapks, testPki, testSm2Pki } from './test-pki.ts';
export { SimulatedClock } from './sim-clock.ts';
export { RRP_CARD_TIMING } from './mastercard-card.ts';
