// Invoices with their lines, and a CSV download of each.

import { canManage, currentSession, download, getOrNull } from '../api.js';
import { badge, errorBox, h, messageSlot, table } from '../dom.js';
import { count, date, money } from '../format.js';
import { signInFirst } from './common.js';

export async function invoicesPage() {
  const session = currentSession();
  if (!session) return signInFirst('Invoices', '/invoices');
  if (!canManage(session)) {
    return h('div', {}, h('h1', {}, 'Invoices'), h('p', {}, 'Only owners and admins of your organisation see its invoices.'));
  }
  const view = h('div', {}, h('h1', {}, 'Invoices'));
  let answer;
  try {
    answer = await getOrNull('/api/v1/invoices');
  } catch (err) {
    view.append(errorBox(err));
    return view;
  }
  if (answer === null) {
    view.append(h('p', { class: 'empty', id: 'invoices-unavailable' },
      'Invoices are not available on this server yet. Your usage is metered and will be invoiced once they are.'));
    return view;
  }
  const invoices = answer.items || [];
  if (!invoices.length) {
    view.append(h('p', { class: 'empty', id: 'invoices-empty' }, 'No invoices yet: the first one is made after your first month with a subscription.'));
    return view;
  }
  const messages = messageSlot();
  view.append(messages.el,
    h('p', { class: 'hint' }, 'One invoice per month and currency. Open one to see its lines.'),
    h('div', { id: 'invoice-list' }, invoices.map((invoice) => invoiceBlock(invoice, messages))));
  return view;
}

function invoiceBlock(invoice, messages) {
  const period = invoice.period ? `${date(invoice.period.start)} – ${date(lastDay(invoice.period.end))}` : '';
  const lines = invoice.lines || [];
  const draft = invoice.status === 'draft';
  const c = invoice.currency;
  const name = draft ? 'This month so far' : `Invoice ${invoice.number || invoice.id}`;
  return h('details', { class: 'invoice', dataset: { number: invoice.number || 'draft' }, open: draft },
    h('summary', {},
      h('strong', {}, name), ` · ${period} · `,
      badge(draft ? 'draft: amount to date' : invoice.status || 'final', draft ? 'state-draft' : 'status-active'), ' · ',
      h('strong', { class: 'invoice-total' }, money(invoice.totalMinor, c))),
    lines.length
      ? table(['Description', 'Calls', 'Included', 'Charged calls', 'Per 1,000', 'Fee', 'Usage', 'Amount'],
        lines.map((l) => [l.description, count(l.calls ?? l.quantity), count(l.includedCalls ?? 0), count(l.quantity),
          money(l.unitPricePer1000Minor ?? l.unitPriceMinor ?? 0, c), money(l.feeMinor ?? 0, c), money(l.usageMinor ?? 0, c),
          money(l.amountMinor, c)])
          .concat([[h('strong', {}, 'Total'), '', '', '', '', '', '', h('strong', {}, money(invoice.totalMinor, c))]]),
        { numeric: [1, 2, 3, 4, 5, 6, 7] })
      : h('p', { class: 'hint' }, 'No lines.'),
    draft
      ? h('p', { class: 'hint' }, 'A draft changes with every call until the month ends; then it becomes a numbered invoice you can download.')
      : h('div', { class: 'actions' }, h('button', {
        type: 'button', class: 'secondary',
        on: { click: () => downloadCsv(invoice, messages) },
      }, `Download invoice ${invoice.number || ''} as CSV`)));
}

/** Periods end at the first instant of the next month; people read the last day. */
function lastDay(end) {
  const t = Date.parse(end);
  return Number.isNaN(t) ? end : new Date(t - 1).toISOString();
}

function downloadCsv(invoice, messages) {
  return download(`/api/v1/invoices/${encodeURIComponent(invoice.id)}.csv`, `invoice-${invoice.number || invoice.id}.csv`)
    .catch((err) => messages.error(err));
}
