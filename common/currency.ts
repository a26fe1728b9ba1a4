// ISO 4217: the alpha codes a terminal is likely to see, their numeric codes and minor units.
const TABLE: Record<string, [numeric: string, exponent: number]> = {
  CNY: ['156', 2], USD: ['840', 2], EUR: ['978', 2], GBP: ['826', 2], HKD: ['344', 2], JPY: ['392', 0],
  SGD: ['702', 2], AUD: ['036', 2], CAD: ['124', 2], CHF: ['756', 2], KRW: ['410', 0], MOP: ['446', 2],
  TWD: ['901', 2], THB: ['764', 2], MYR: ['458', 2], INR: ['356', 2],
};

export interface Currency { alpha: string; numeric: string; exponent: number }

/** Accepts 'CNY', 'cny', '156' or '0156'; throws on an unknown code. */
export function currencyOf(code: string): Currency {
  const c = code.trim().toUpperCase();
  if (TABLE[c]) return { alpha: c, numeric: TABLE[c][0], exponent: TABLE[c][1] };
  const n = c.replace(/^0+(?=\d{3}$)/, '');
  const hit = Object.entries(TABLE).find(([, [num]]) => num === n);
  if (hit) return { alpha: hit[0], numeric: hit[1][0], exponent: hit[1][1] };
  throw new RangeError(`unknown currency ${code}`);
}

export function formatAmount(minor: number, c: Currency): string {
  const v = (minor / 10 ** c.exponent).toFixed(c.exponent);
  return `${c.alpha} ${v}`;
}
