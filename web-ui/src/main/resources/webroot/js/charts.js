// Charts drawn as SVG, no library: a stacked bar chart (calls per day) and quota bars.
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
