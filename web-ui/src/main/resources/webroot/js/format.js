// Numbers, money, dates and plan prices, in the reader's locale.

export const TASKS = [
  ['image-classification', 'Image classification'],
  ['tabular-classification', 'Tabular classification'],
  ['regression', 'Regression'],
  ['text-classification', 'Text classification'],
  ['text-generation', 'Text generation'],
  ['object-detection', 'Object detection'],
  ['embedding', 'Embedding'],
  ['other', 'Other'],
];

export const PRICE_TYPES = [
  ['free', 'Free'],
  ['pay_as_you_go', 'Pay as you go'],
  ['monthly', 'Monthly'],
];

export function taskLabel(task) {
  const found = TASKS.find(([value]) => value === task);
  return found ? found[1] : task || '';
}

export function priceTypeLabel(type) {
  const found = PRICE_TYPES.find(([value]) => value === type);
  return found ? found[1] : type;
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

export function count(n) {
  return integer.format(Number(n) || 0);
}

/** Digits after the decimal point of a currency's minor unit (2 for EUR, 0 for JPY). */
export function minorDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch (e) {
    return 2;
  }
}

/** Integer minor units as money: money(4900, 'USD') → "$49.00". */
export function money(minor, currency) {
  const digits = minorDigits(currency);
  const value = Number(minor) / 10 ** digits;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, minimumFractionDigits: digits }).format(value);
  } catch (e) {
    return `${value.toFixed(digits)} ${currency}`;
  }
}

/** "12.50" in a currency → 1250 minor units; NaN when it is not an amount with at most the currency's decimals. */
export function parseMoney(text, currency) {
  const digits = minorDigits(currency);
  const trimmed = String(text || '0').trim().replace(',', '.');
  const match = /^(\d+)(?:\.(\d*))?$/.exec(trimmed);
  if (!match || (match[2] || '').length > digits) return NaN;
  const fraction = (match[2] || '').padEnd(digits, '0');
  return Number(match[1]) * 10 ** digits + (digits ? Number(fraction) : 0);
}

/** A plan's price in one sentence. */
export function planPrice(plan) {
  const c = plan.currency;
  switch (plan.type) {
    case 'free':
      return `Free: ${count(plan.includedCalls)} calls per month (hard cap)`;
    case 'pay_as_you_go':
      return `${money(plan.pricePer1000Minor, c)} per 1,000 calls`;
    case 'monthly':
      return `${money(plan.monthlyFeeMinor, c)} per month with ${count(plan.includedCalls)} calls included, then ${money(plan.pricePer1000Minor, c)} per 1,000 calls`;
    default:
      return plan.type;
  }
}

export function planLimit(plan) {
  return plan.rateLimitPerMinute > 0 ? `up to ${count(plan.rateLimitPerMinute)} requests per minute` : 'no per-minute limit';
}

export function date(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
}

export function dateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function bytes(n) {
  const units = ['bytes', 'KB', 'MB', 'GB'];
  let value = Number(n) || 0;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function micros(us) {
  const n = Number(us);
  if (!Number.isFinite(n)) return '–';
  if (n < 1000) return `${Math.round(n)} µs`;
  return `${(n / 1000).toFixed(n < 10000 ? 2 : 1)} ms`;
}

/** YYYY-MM-DD of a Date, in UTC (days of usage and billing are UTC days). */
export function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

/** Compares semantic versions "1.10.0" > "1.9.2". */
export function compareVersions(a, b) {
  const pa = String(a).split('.').map(Number);
  const pb = String(b).split('.').map(Number);
  for (let i = 0; i < 3; i += 1) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) - (pb[i] || 0);
  }
  return 0;
}

/** A length of time for people: "850 ms", "12 s", "3 min 5 s", "1 h 2 min". */
export function duration(ms) {
  const n = Number(ms);
  if (!Number.isFinite(n) || n < 0) return '–';
  if (n < 1000) return `${Math.round(n)} ms`;
  const s = Math.round(n / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 60)} h`;
}

/** A measured figure with a few significant digits ("0.0123", "12.3", "1,234"); "–" when there is none. */
export function figure(value, digits = 3) {
  const n = Number(value);
  if (value === null || value === undefined || !Number.isFinite(n)) return '–';
  if (n !== 0 && Math.abs(n) < 10 ** -digits) return n.toExponential(digits - 1);
  return new Intl.NumberFormat(undefined, { maximumSignificantDigits: Math.max(digits, Math.ceil(Math.log10(Math.abs(n) + 1))) }).format(n);
}

/** A share in [0, 1] as a percentage: 0.9565 → "95.7%". */
export function percent(share, digits = 1) {
  const n = Number(share);
  if (share === null || share === undefined || !Number.isFinite(n)) return '–';
  return `${(n * 100).toFixed(digits)}%`;
}
