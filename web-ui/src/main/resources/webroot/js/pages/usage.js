// The usage dashboard: calls per day per model and per key, quota bars, and the month's cost so far
// (the running month's draft invoice, rated by the server with the billing module's formulas).

import { canManage, currentSession, download, getOrNull } from '../api.js';
import { errorBox, field, h, link, messageSlot, onSubmit, section, table } from '../dom.js';
import { count, date, isoDay, money } from '../format.js';
import { quotaBar, stackedBarChart } from '../charts.js';
import { signInFirst } from './common.js';

const DAY_MS = 86400000;

export async function usagePage({ params, navigate }) {
  const session = currentSession();
  if (!session) return signInFirst('Usage', '/usage');
  const now = new Date();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const today = isoDay(now);
  const from = validDay(params.get('from')) || isoDay(monthStart);
  const to = validDay(params.get('to')) || today;

  const fromInput = h('input', { type: 'date', id: 'usage-from', value: from, max: today });
  const toInput = h('input', { type: 'date', id: 'usage-to', value: to, max: today });
  const form = onSubmit(h('form', { class: 'filters period', 'aria-label': 'Period' },
    field('From (UTC day)', fromInput),
    field('To (UTC day, included)', toInput),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show'))), () => {
    navigate(`/usage?from=${fromInput.value}&to=${toInput.value}`);
  });

  const view = h('div', {}, h('h1', {}, 'Usage'));
  let summary;
  try {
    summary = await getOrNull(`/api/v1/usage/summary?from=${from}&to=${to}`);
  } catch (err) {
    view.append(errorBox(err));
    return view;
  }
  if (summary === null) {
    view.append(h('p', { class: 'empty', id: 'usage-unavailable' },
      'Usage reports are not available on this server yet. Calls are metered all the same and will show here once it offers them.'));
    return view;
  }
  const items = summary.items || [];
  const days = daysBetween(from, to);

  const totalCalls = items.reduce((sum, i) => sum + (i.calls || 0), 0);
  const messages = messageSlot();
  const csv = h('button', {
    type: 'button', class: 'secondary', id: 'usage-csv',
    on: { click: () => download(`/api/v1/usage/summary.csv?from=${from}&to=${to}`, `usage-${from}-${to}.csv`).catch((err) => messages.error(err)) },
  }, 'Download as CSV');
  view.append(await monthSection(session), h('h2', {}, 'Calls'), form,
    h('div', { class: 'actions' }, h('p', { class: 'totals', id: 'usage-total' }, h('strong', {}, count(totalCalls)),
      ` ${plural(totalCalls, 'call')} from ${from} to ${to}.`), items.length ? csv : null),
    messages.el);
  if (!items.length) {
    view.append(h('p', { class: 'empty', id: 'usage-empty' }, 'No calls in this period. ', link('/', 'Try a model'), ' in its playground.'));
  } else {
    const models = unique(items, (i) => i.modelId, (i) => i.model || i.modelId);
    const byKey = unique(items, (i) => i.apiKeyId || 'none', (i) => (i.apiKeyId ? i.apiKey || `key ${i.apiKeyId.slice(0, 8)}` : 'no key (own model)'));
    const sum = (predicate) => items.filter(predicate).reduce((s, i) => s + (i.calls || 0), 0);
    view.append(
      h('section', {},
        stackedBarChart({ title: 'Calls per day, by model', series: models, categories: days, value: (day, model) => sum((i) => i.day === day && i.modelId === model) }),
        table(['Model', 'Calls', 'Items'], models.map((m) => [m.label, count(sum((i) => i.modelId === m.key)),
          count(items.filter((i) => i.modelId === m.key).reduce((s, i) => s + (i.items || 0), 0))]), { numeric: [1, 2], caption: 'Totals by model' })),
      h('section', {},
        stackedBarChart({ title: 'Calls per day, by API key', series: byKey, categories: days, value: (day, key) => sum((i) => i.day === day && (i.apiKeyId || 'none') === key) })));
  }
  return view;
}

async function monthSection(session) {
  const cost = [];
  const quotas = [];
  if (canManage(session)) {
    try {
      const invoices = await getOrNull('/api/v1/invoices');
      if (invoices === null) {
        cost.push(h('p', { class: 'hint' }, 'Costs are not available on this server yet.'));
      } else {
        const drafts = invoices.items.filter((i) => i.status === 'draft');
        cost.push(h('p', { class: 'totals', id: 'usage-cost' }, 'Cost this month so far: ',
          h('strong', {}, drafts.length ? drafts.map((d) => money(d.totalMinor, d.currency)).join(' + ') : 'nothing')),
        h('p', { class: 'hint' }, 'From the running month\'s draft invoice (', link('/invoices', 'see its lines'), '); it becomes final after the month ends.'));
      }
    } catch (err) {
      cost.push(errorBox(err));
    }
  } else {
    cost.push(h('p', { class: 'hint' }, 'Owners and admins see the cost here.'));
  }
  try {
    const answer = await getOrNull('/api/v1/quotas');
    if (answer === null) {
      quotas.push(h('p', { class: 'hint' }, 'Quotas are not available on this server yet.'));
    } else if (!answer.items.length) {
      quotas.push(h('p', { class: 'empty' }, 'No active subscriptions. ', link('/', 'Browse the catalog'), '.'));
    } else {
      quotas.push(h('div', { id: 'usage-quotas' }, answer.items.map((q) => (q.included > 0
        ? quotaBar(`${q.model} · ${q.plan}`, q.used, q.included,
          q.hardCap ? `calls beyond it are refused until ${date(q.resetAt)}` : 'calls beyond it are charged as overage')
        : h('p', { class: 'quota' }, h('strong', {}, `${q.model} · ${q.plan}`), ` · ${count(q.used)} ${plural(q.used, 'call')} this month, each one charged`)))));
    }
  } catch (err) {
    quotas.push(errorBox(err));
  }
  return section('This month', cost, quotas);
}

function plural(n, word) {
  return Number(n) === 1 ? word : `${word}s`;
}

function validDay(text) {
  return text && /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) ? text : null;
}

function daysBetween(from, to) {
  const days = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && days.length < 366; t += DAY_MS) days.push(isoDay(new Date(t)));
  return days;
}

function unique(items, key, label) {
  const seen = new Map();
  for (const item of items) {
    if (!seen.has(key(item))) seen.set(key(item), label(item));
  }
  return [...seen.entries()].map(([k, l]) => ({ key: k, label: l }));
}
