// The organisation: its members and their roles.

import { canManage, currentSession, del, get, patch, post } from '../api.js';
import { confirmDialog, field, flash, h, link, messageSlot, onSubmit, select, table } from '../dom.js';
import { date } from '../format.js';
import { signInFirst } from './common.js';

const ROLES = [
  ['member', 'Member: uses the organisation\'s models'],
  ['publisher', 'Publisher: also publishes models'],
  ['admin', 'Admin: also manages members, keys and subscriptions'],
  ['owner', 'Owner: everything, including owners'],
];

export async function orgPage() {
  const session = currentSession();
  if (!session) return signInFirst('Organisation', '/org');
  const [tenant, members] = await Promise.all([get('/api/v1/tenant'), get('/api/v1/members').then((r) => r.items)]);
  const manager = canManage(session);
  const messages = messageSlot();
  const listSlot = h('div', { id: 'member-list' });

  function renderList(list) {
    listSlot.replaceChildren(table(['Name', 'E-mail', 'Role', 'Member since', ''], list.map((m) => {
      const you = m.id === session.userId;
      const roleControl = manager && !you
        ? roleEditor(m)
        : `${m.role}${you ? ' (you)' : ''}`;
      return [m.displayName || '–', m.email, roleControl, date(m.createdAt),
        manager && !you ? h('button', { type: 'button', class: 'danger', on: { click: () => remove(m) } }, `Remove ${m.email}`) : ''];
    })));
  }

  function roleEditor(member) {
    const role = select(ROLES.map(([v]) => [v, v]), { value: member.role, 'aria-label': `Role of ${member.email}` });
    const save = h('button', {
      type: 'button', class: 'secondary',
      on: {
        click: async () => {
          try {
            await patch(`/api/v1/members/${encodeURIComponent(member.id)}`, { role: role.value });
            flash(`${member.email} is now ${role.value}.`);
            await reload();
          } catch (err) {
            messages.error(err);
          }
        },
      },
    }, 'Save role');
    return h('span', { class: 'actions' }, role, save);
  }

  async function remove(member) {
    const ok = await confirmDialog({
      title: `Remove ${member.email}?`,
      body: h('p', {}, 'Their sessions end at once. API keys belong to the organisation and keep working.'),
      confirmLabel: 'Remove member',
      danger: true,
    });
    if (!ok) return;
    try {
      await del(`/api/v1/members/${encodeURIComponent(member.id)}`);
      flash(`${member.email} was removed.`);
      await reload();
    } catch (err) {
      messages.error(err);
    }
  }

  async function reload() {
    renderList((await get('/api/v1/members')).items);
  }

  renderList(members);
  const view = h('div', {},
    h('h1', {}, tenant.name),
    h('p', {}, 'Organisation slug ', h('code', {}, tenant.slug), ` · since ${date(tenant.createdAt)}. Your role: ${session.role}.`,
      manager ? [' ', link('/audit', 'Audit log')] : ''),
    messages.el,
    h('h2', {}, 'Members'),
    listSlot);
  if (manager) view.append(h('h2', {}, 'Add a member'), addForm(messages, reload));
  return view;
}

function addForm(messages, reload) {
  const email = h('input', { type: 'email', id: 'member-email', required: true, autocomplete: 'off' });
  const name = h('input', { type: 'text', id: 'member-name', maxlength: '200' });
  const password = h('input', { type: 'password', id: 'member-password', required: true, minlength: '10', autocomplete: 'new-password' });
  const role = select(ROLES, { id: 'member-role', value: 'member' });
  const form = h('form', { 'aria-label': 'Add a member' },
    h('div', { class: 'form-grid' },
      field('E-mail address', email),
      field('Name', name, 'Optional.'),
      field('Initial password', password, 'At least 10 characters; tell it to them in person.'),
      field('Role', role)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add member')));
  return onSubmit(form, async () => {
    messages.clear();
    try {
      await post('/api/v1/members', { email: email.value.trim(), password: password.value, role: role.value, displayName: name.value.trim() || undefined });
      flash(`${email.value.trim()} was added.`);
      form.reset();
      await reload();
    } catch (err) {
      messages.error(err);
    }
  });
}
