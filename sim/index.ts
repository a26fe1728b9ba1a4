// `trusttap/sim` — simulators of what a test bench does not have: contactless cards with real
// card cryptography, the OEM root that provisions a device, the acquirer's signed test terminal
// configuration, a customer's QR wallet. Everything here uses TEST keys and is named so.
export { VisaCardSim, MastercardCardSim, UnionPayCardSim, UnionPaySmCardSim, CardTornError, SimulatedClock, type SimulatedCard, type CardOptions } from './cards/index.ts';
export { DEMO_CARDS, type DemoCard } from './demo-cards.ts';
export { TEST_OEM_ROOT, simulatedDevice, provisionDevice, type OemRoot, type ProvisionOptions } from './oem/index.ts';
export { testTerminalConfig, signedTestTerminalConfig, testConfigSigningKey } from './test-terminal-config.ts';
export { SimWallet, WalletError } from './wallet/index.ts';
