// API keys: create (the secret is shown once, with a copy button), list, revoke.

import { canManage, currentSession, del, get, post } from '../api.js';
import { badge, confirmDialog, copyButton, field, flash, h, link, messageSlot, onSubmit, table } from '../dom.js';
import { date, dateTime } from '../format.js';
import { keyMemory } from './playground.js';
import { signInFirst } from './common.js';

const enc = encodeURIComponent;

export async function keysPage() {
  const session = currentSession();
  if (!session) return signInFirst('API keys', '/keys');
  if (!canManage(session)) {
    return h('div', {}, h('h1', {}, 'API keys'), h('p', {}, 'Only owners and admins of your organisation manage its API keys.'));
  }
  const messages = messageSlot();
  const created = h('div', { id: 'new-key' });
  const listSlot = h('div', { id: 'key-list' });

  async function refreshList() {
    const keys = (await get('/api/v1/api-keys')).items;
    if (!keys.length) {
      listSlot.replaceChildren(h('p', { class: 'empty' }, 'No keys yet. Create one above to call models from your programs.'));
      return;
    }
    listSlot.replaceChildren(table(['Name', 'Key', 'Scopes', 'Created', 'Last used', 'Expires', 'Status', ''],
      keys.map((k) => [
        k.name,
        h('code', {}, `${k.prefix}…${k.lastFour}`),
        k.scopes.join(', '),
        date(k.createdAt),
        k.lastUsedAt ? dateTime(k.lastUsedAt) : 'never',
        k.expiresAt ? date(k.expiresAt) : 'never',
        k.revokedAt ? badge('revoked', 'revoked') : badge('active', 'status-active'),
        k.revokedAt ? '' : h('button', {
          type: 'button', class: 'danger revoke', dataset: { key: k.name },
          on: { click: () => revoke(k) },
        }, `Revoke ${k.name}`),
      ])));
  }

  async function revoke(key) {
    const ok = await confirmDialog({
      title: `Revoke the key “${key.name}”?`,
      body: h('p', {}, 'Programs using it are refused within a second. This cannot be undone.'),
      confirmLabel: 'Revoke key',
      danger: true,
    });
    if (!ok) return;
    try {
      await del(`/api/v1/api-keys/${enc(key.id)}`);
      flash(`The key “${key.name}” is revoked.`);
      await refreshList();
    } catch (err) {
      messages.error(err);
    }
  }

  const name = h('input', { type: 'text', id: 'key-name', name: 'name', required: true, maxlength: '100' });
  const inference = h('input', { type: 'checkbox', id: 'key-scope-inference', checked: true });
  const usage = h('input', { type: 'checkbox', id: 'key-scope-usage' });
  const expires = h('input', { type: 'date', id: 'key-expires', name: 'expiresAt' });
  const form = h('form', { id: 'key-form', 'aria-label': 'Create an API key' },
    h('div', { class: 'form-grid' },
      field('Name', name, 'What the key is for, e.g. "production backend".'),
      field('Expires on', expires, 'Optional; the key stops working at the start of that day (UTC).')),
    h('fieldset', {}, h('legend', {}, 'Scopes'),
      field('inference: call models', inference),
      field('usage:read: read usage reports', usage)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'key-create' }, 'Create key')));
  onSubmit(form, async () => {
    messages.clear();
    const scopes = [inference.checked ? 'inference' : null, usage.checked ? 'usage:read' : null].filter(Boolean);
    const body = { name: name.value.trim(), scopes };
    if (expires.value) body.expiresAt = new Date(`${expires.value}T00:00:00Z`).toISOString();
    try {
      const key = await post('/api/v1/api-keys', body);
      showSecret(key);
      form.reset();
      inference.checked = true;
      await refreshList();
    } catch (err) {
      messages.error(err);
    }
  });

  function showSecret(key) {
    const secret = h('input', { type: 'text', id: 'new-key-secret', readOnly: true, value: key.secret, class: 'mono', 'aria-describedby': 'new-key-warning' });
    secret.addEventListener('focus', () => secret.select());
    const useIt = h('button', {
      type: 'button', class: 'secondary', id: 'use-in-playground',
      on: { click: () => { keyMemory.secret = key.secret; useIt.textContent = 'The playgrounds will use this key'; } },
    }, 'Use in the playgrounds');
    created.replaceChildren(h('div', { class: 'secret-box', role: 'region', 'aria-label': 'New key secret' },
      h('p', { id: 'new-key-warning' }, h('strong', {}, `The secret of “${key.name}” is shown only this once.`),
        ' Copy it into your secret store now; afterwards only its last four characters are visible.'),
      field('Secret', secret),
      h('div', { class: 'actions' },
        copyButton(() => key.secret, 'Copy secret'),
        useIt,
        h('button', { type: 'button', class: 'link', on: { click: () => created.replaceChildren() } }, 'I have saved it, hide it'))));
    secret.focus();
    created.scrollIntoView({ block: 'nearest' });
  }

  await refreshList();
  return h('div', {},
    h('h1', {}, 'API keys'),
    h('p', {}, 'Programs call models with these keys (', h('code', {}, 'Authorization: Bearer mmk_…'), '). See each model\'s page for example calls, or try one in its ', link('/', 'playground'), '.'),
    created,
    h('h2', {}, 'Your keys'),
    listSlot,
    h('h2', {}, 'Create a key'),
    messages.el,
    form);
}
