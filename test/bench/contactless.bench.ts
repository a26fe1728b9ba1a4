// Contactless figures (issue 6): card-in-field time per simulated card, TLV parse throughput.
export { run } from './contactless-bench.ts';
