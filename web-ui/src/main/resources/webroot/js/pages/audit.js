// The organisation's audit log, newest first, paged with "before".

import { canManage, currentSession, get } from '../api.js';
import { errorBox, h, table } from '../dom.js';
import { dateTime } from '../format.js';
import { signInFirst } from './common.js';

export async function auditPage() {
  const session = currentSession();
  if (!session) return signInFirst('Audit log', '/audit');
  if (!canManage(session)) {
    return h('div', {}, h('h1', {}, 'Audit log'), h('p', {}, 'Only owners and admins read the audit log.'));
  }
  const rows = h('tbody');
  const more = h('div', { class: 'actions' });
  const view = h('div', {},
    h('h1', {}, 'Audit log'),
    h('p', {}, 'Who changed what in your organisation: models, versions, aliases, plans and subscriptions.'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'audit-table' },
      h('thead', {}, h('tr', {}, ['When', 'Who', 'Action', 'Target', 'Details', 'From'].map((t) => h('th', { scope: 'col' }, t)))),
      rows)),
    more);

  async function load(before) {
    try {
      const page = await get(`/api/v1/audit-log?limit=50${before ? `&before=${before}` : ''}`);
      page.items.forEach((e) => rows.append(h('tr', {},
        h('td', {}, dateTime(e.at)),
        h('td', {}, e.actorEmail || e.actorUserId || 'system'),
        h('td', {}, h('code', {}, e.action)),
        h('td', {}, `${e.targetType || ''} ${e.targetId ? e.targetId.slice(0, 8) : ''}`),
        h('td', {}, details(e.details)),
        h('td', {}, e.clientAddress || ''))));
      if (!rows.children.length) rows.append(h('tr', {}, h('td', { colspan: '6', class: 'empty' }, 'Nothing recorded yet.')));
      more.replaceChildren(page.nextBefore
        ? h('button', { type: 'button', class: 'secondary', on: { click: () => load(page.nextBefore) } }, 'Older entries')
        : '');
    } catch (err) {
      more.replaceChildren(errorBox(err));
    }
  }
  await load(null);
  return view;
}

function details(value) {
  if (!value || typeof value !== 'object') return '';
  return Object.entries(value).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ');
}
