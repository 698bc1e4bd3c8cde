// The organisation's subscriptions; plans are changed or cancelled on each model's page.

import { canManage, currentSession, get } from '../api.js';
import { badge, h, link, table } from '../dom.js';
import { date } from '../format.js';
import { signInFirst } from './common.js';

export async function subscriptionsPage() {
  const session = currentSession();
  if (!session) return signInFirst('Subscriptions', '/subscriptions');
  if (!canManage(session)) {
    return h('div', {}, h('h1', {}, 'Subscriptions'), h('p', {}, 'Only owners and admins of your organisation manage its subscriptions.'));
  }
  const subs = (await get('/api/v1/subscriptions')).items;
  const active = subs.filter((s) => s.status === 'active');
  const ended = subs.filter((s) => s.status !== 'active');
  const rows = (list) => list.map((s) => [
    link(`/models/${encodeURIComponent(s.model)}`, s.model),
    s.planName,
    badge(s.status, `status-${s.status}`),
    date(s.startedAt),
    s.endedAt ? date(s.endedAt) : '',
  ]);
  return h('div', {},
    h('h1', {}, 'Subscriptions'),
    h('p', {}, 'To change a plan or cancel, open the model.'),
    active.length
      ? table(['Model', 'Plan', 'Status', 'Since', 'Ended'], rows(active), { caption: 'Active' })
      : h('p', { class: 'empty' }, 'No active subscriptions. ', link('/', 'Browse the catalog'), ' to find a model.'),
    ended.length ? table(['Model', 'Plan', 'Status', 'Since', 'Ended'], rows(ended), { caption: 'Ended' }) : null);
}
