// Charts drawn as SVG, no library: a stacked bar chart (calls per day), a line chart (training
// curves) and quota bars.
// Every chart comes with its numbers as a table, for screen readers and for reading exact values.

import { h, svg, table } from './dom.js';
import { count } from './format.js';

export const PALETTE = ['#0b5cad', '#d1495b', '#2a9d8f', '#edae49', '#6a4c93', '#00798c', '#8d6a9f', '#5c946e'];

/**
 * Bars per category (a day, a model), stacked by series (model, key, share).
 * series: [{key, label}], categories: ['2025-04-01', …], value(category, key) → number;
 * axisLabel(category) → the text under a bar; format(number) → how values read.
 */
export function stackedBarChart({ title, series, categories, value, unit = 'calls', axisLabel = (c) => c.slice(5), format = count, what = 'days', firstColumn = 'Day' }) {
  const width = 720;
  const height = 200;
  const margin = { top: 12, right: 12, bottom: 34, left: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const totals = categories.map((c) => series.reduce((sum, s) => sum + (value(c, s.key) || 0), 0));
  const max = niceMax(Math.max(2, ...totals));
  const step = plotW / Math.max(1, categories.length);
  const barW = Math.max(2, Math.min(40, step * 0.7));

  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `${title}: ${format(totals.reduce((a, b) => a + b, 0))} ${unit} over ${categories.length} ${what}`,
  });
  for (const tick of Number.isInteger(max / 2) ? [0, max / 2, max] : [0, max]) {
    const y = margin.top + plotH - (tick / max) * plotH;
    chart.append(
      svg('line', { x1: margin.left, x2: width - margin.right, y1: y, y2: y, stroke: '#d1d9e0', 'stroke-width': 1 }),
      svg('text', { x: margin.left - 6, y: y + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#59636e' }, format(tick)));
  }
  const labelEvery = Math.ceil(categories.length / 10);
  categories.forEach((category, i) => {
    const x = margin.left + i * step + (step - barW) / 2;
    let y = margin.top + plotH;
    series.forEach((s, si) => {
      const v = value(category, s.key) || 0;
      if (v <= 0) return;
      const barH = (v / max) * plotH;
      y -= barH;
      chart.append(svg('rect', { x, y, width: barW, height: Math.max(1, barH), fill: PALETTE[si % PALETTE.length] },
        svg('title', {}, `${axisLabel(category)} · ${s.label}: ${format(v)} ${unit}`)));
    });
    if (i % labelEvery === 0) {
      chart.append(svg('text', { x: x + barW / 2, y: height - 12, 'text-anchor': 'middle', 'font-size': 11, fill: '#59636e' },
        axisLabel(category)));
    }
  });

  const legend = h('ul', { class: 'legend' }, series.map((s, si) => {
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = PALETTE[si % PALETTE.length];
    return h('li', {}, swatch, s.label);
  }));
  const numbers = table([firstColumn, ...series.map((s) => s.label), 'Total'],
    categories.map((c, i) => [axisLabel(c), ...series.map((s) => format(value(c, s.key) || 0)), format(totals[i])]),
    { numeric: series.map((_, i) => i + 1).concat([series.length + 1]) });
  return h('figure', { class: 'chart' },
    h('figcaption', {}, title),
    chart,
    legend,
    h('details', {}, h('summary', {}, 'Show the numbers'), numbers));
}

/**
 * Lines over numbered steps (a training curve's epochs). xs: [1, 2, …]; series: [{key, label,
 * values, color?}] with one value per x, null where a series has none (it is skipped, the line goes on).
 * The y range is the values' own (padded), or [yMin, yMax] where given; format(number) → how values read.
 */
export function lineChart({ title, xs, series, xLabel = 'Epoch', format = String, yMin, yMax, id }) {
  const width = 720;
  const height = 220;
  const margin = { top: 12, right: 16, bottom: 42, left: 68 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const finite = series.flatMap((s) => s.values).filter(isValue);
  let lo = yMin !== undefined ? yMin : Math.min(...finite);
  let hi = yMax !== undefined ? yMax : Math.max(...finite);
  if (!finite.length) {
    lo = yMin !== undefined ? yMin : 0;
    hi = yMax !== undefined ? yMax : 1;
  }
  if (hi - lo < 1e-12) {
    // one flat line: give it room, below a fixed top (an accuracy of 100%) and above a fixed bottom
    const pad = Math.abs(hi) > 0 ? Math.abs(hi) * 0.05 : 0.5;
    if (yMax === undefined) hi += pad;
    if (yMin === undefined) lo -= pad;
    if (hi - lo < 1e-12) lo -= pad;
  } else {
    const pad = (hi - lo) * 0.06;
    if (yMin === undefined) lo = lo >= 0 && lo - pad < 0 ? 0 : lo - pad;
    if (yMax === undefined) hi += pad;
  }
  const first = xs.length ? xs[0] : 0;
  const last = xs.length ? xs[xs.length - 1] : 1;
  const x = (v) => margin.left + (last === first ? plotW / 2 : ((v - first) / (last - first)) * plotW);
  const y = (v) => margin.top + plotH - ((v - lo) / (hi - lo)) * plotH;

  const latest = (s) => {
    for (let i = s.values.length - 1; i >= 0; i -= 1) {
      if (isValue(s.values[i])) return `${s.label} ${format(s.values[i])} at ${xLabel.toLowerCase()} ${xs[i]}`;
    }
    return `${s.label}: none yet`;
  };
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title}: ${series.map(latest).join('; ')}` });
  for (const tick of [lo, (lo + hi) / 2, hi]) {
    chart.append(
      svg('line', { x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick), stroke: '#d1d9e0', 'stroke-width': 1 }),
      svg('text', { x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end', 'font-size': 15, fill: '#59636e' }, format(tick)));
  }
  const labelEvery = Math.max(1, Math.ceil(xs.length / 10));
  xs.forEach((v, i) => {
    if (i % labelEvery === 0 || i === xs.length - 1) {
      chart.append(svg('text', { x: x(v), y: height - 22, 'text-anchor': 'middle', 'font-size': 15, fill: '#59636e' }, String(v)));
    }
  });
  chart.append(svg('text', { x: width - margin.right, y: height - 4, 'text-anchor': 'end', 'font-size': 15, fill: '#59636e' }, xLabel));
  series.forEach((s, si) => {
    const color = s.color || PALETTE[si % PALETTE.length];
    const points = xs.map((v, i) => [v, s.values[i]]).filter(([, value]) => isValue(value));
    if (points.length > 1) {
      chart.append(svg('polyline', {
        points: points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' '),
        fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-linejoin': 'round', class: 'series', 'data-series': s.key,
      }));
    }
    if (points.length <= 60) {
      for (const [px, py] of points) {
        chart.append(svg('circle', { cx: x(px).toFixed(1), cy: y(py).toFixed(1), r: 3, fill: color },
          svg('title', {}, `${xLabel} ${px} · ${s.label}: ${format(py)}`)));
      }
    }
  });

  const legend = h('ul', { class: 'legend' }, series.map((s, si) => {
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = s.color || PALETTE[si % PALETTE.length];
    return h('li', {}, swatch, s.label);
  }));
  const numbers = table([xLabel, ...series.map((s) => s.label)],
    xs.map((v, i) => [String(v), ...series.map((s) => (isValue(s.values[i]) ? format(s.values[i]) : '–'))]),
    { numeric: series.map((_, i) => i).concat([series.length]) });
  return h('figure', { class: 'chart', id },
    h('figcaption', {}, title),
    chart,
    legend,
    h('details', {}, h('summary', {}, 'Show the numbers'), numbers));
}

const isValue = (v) => typeof v === 'number' && Number.isFinite(v);

function niceMax(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) {
    if (value <= m * magnitude) return m * magnitude;
  }
  return 10 * magnitude;
}

/** A bar of used against allowed calls, with the numbers in words. */
export function quotaBar(label, used, limit, note) {
  const share = limit > 0 ? Math.min(1, used / limit) : 0;
  const fill = h('span');
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  const level = share >= 1 ? 'full' : share >= 0.8 ? 'high' : '';
  const words = `${count(used)} of ${count(limit)} calls (${Math.round(share * 100)}%)`;
  return h('div', { class: 'quota' },
    h('div', {}, h('strong', {}, label), ' · ', words, note ? ` · ${note}` : ''),
    h('div', {
      class: `bar ${level}`,
      role: 'meter',
      'aria-label': `${label}: ${words}`,
      'aria-valuemin': 0,
      'aria-valuemax': limit,
      'aria-valuenow': Math.min(used, limit),
    }, fill));
}
