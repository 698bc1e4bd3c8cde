// The publisher console: the organisation's models and a form for a new one.

import { ApiError, canPublish, currentSession, get, getOrNull, post } from '../api.js';
import { stackedBarChart } from '../charts.js';
import { badge, errorBox, field, flash, h, link, messageSlot, onSubmit, select, table } from '../dom.js';
import { TASKS, count, money, priceTypeLabel } from '../format.js';
import { renderMarkdown } from '../markdown.js';
import { signInFirst } from './common.js';

export async function publisherPage({ navigate }) {
  const session = currentSession();
  if (!session) return signInFirst('Publisher console', '/publisher');
  if (!canPublish(session)) {
    return h('div', {}, h('h1', {}, 'Publisher console'), h('p', {}, 'Publishing needs the owner, admin or publisher role in your organisation.'));
  }
  const tenant = session.tenant || await get('/api/v1/tenant');
  const mine = (await get(`/api/v1/catalog?publisher=${encodeURIComponent(tenant.slug)}&sort=newest&limit=100`)).items;
  const messages = messageSlot();
  const card = cardForm({}, { create: true });
  onSubmit(card.form, async () => {
    messages.clear();
    try {
      const created = await post('/api/v1/models', card.values());
      flash(`${created.name} was created. Upload its first version below.`, true);
      navigate(`/publisher/models/${encodeURIComponent(created.slug)}`);
    } catch (err) {
      messages.error(err);
    }
  });
  return h('div', {},
    h('h1', {}, 'Publisher console'),
    h('p', {}, `Models and algorithms of ${tenant.name}. `, link('/audit', 'Audit log'), '.'),
    h('h2', {}, 'Your models'),
    mine.length
      ? table(['Name', 'Kind', 'Latest', 'Visibility', 'Subscribers', 'Plans'], mine.map((m) => [
        link(`/publisher/models/${encodeURIComponent(m.slug)}`, m.name, { class: 'manage-model', dataset: { slug: m.slug } }),
        m.kind,
        m.latestVersion || h('span', { class: 'hint' }, 'none published'),
        badge(m.visibility),
        count(m.subscribers),
        m.priceTypes.map(priceTypeLabel).join(', ') || '–',
      ]), { numeric: [4] })
      : h('p', { class: 'empty' }, 'Nothing published yet. Describe your first model below.'),
    h('h2', {}, 'Earnings'),
    await earnings(mine),
    h('h2', {}, 'New model or algorithm'),
    messages.el,
    card.form);
}

/** Gross, platform fee and payout per model for a month: the running one (draft) or a closed one (final). */
async function earnings(mine) {
  const names = new Map(mine.map((m) => [m.id, m.name]));
  const now = new Date();
  const months = [0, 1, 2, 3, 4, 5].map((back) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1)));
  const period = select(months.map((m, i) => [i === 0 ? '' : m.toISOString().replace('.000Z', 'Z'),
    `${m.toLocaleDateString(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' })}${i === 0 ? ' (so far)' : ''}`]),
  { id: 'earnings-period' });
  const slot = h('div', { id: 'earnings', 'aria-live': 'polite' });

  async function load() {
    let answer;
    try {
      answer = await getOrNull(`/api/v1/earnings${period.value ? `?period=${encodeURIComponent(period.value)}` : ''}`);
    } catch (err) {
      slot.replaceChildren(errorBox(err));
      return;
    }
    if (answer === null) {
      slot.replaceChildren(h('p', { class: 'empty' }, 'Earnings reports are not offered by this server yet.'));
      return;
    }
    const fee = `${(answer.platformFeeBasisPoints / 100).toLocaleString()} %`;
    const status = answer.status === 'final' ? 'Final: from the closed month\'s invoices.' : 'Draft: what the month has earned so far.';
    if (!answer.models.length) {
      slot.replaceChildren(h('p', { class: 'empty' }, `Nothing earned in this period. ${status}`));
      return;
    }
    const currencies = [...new Set(answer.models.map((m) => m.currency))];
    slot.replaceChildren(h('p', { class: 'hint' }, `${status} The platform keeps ${fee} of the gross.`),
      currencies.map((currency) => {
        const rows = answer.models.filter((m) => m.currency === currency);
        const label = (id) => names.get(id) || id.slice(0, 8);
        const byId = new Map(rows.map((m) => [m.modelId, m]));
        return [
          stackedBarChart({
            title: `Earnings in ${currency}, by model`,
            series: [{ key: 'payoutMinor', label: 'Your payout' }, { key: 'feeMinor', label: 'Platform fee' }],
            categories: rows.map((m) => m.modelId),
            value: (id, key) => byId.get(id)[key],
            unit: '',
            what: 'models',
            firstColumn: 'Model',
            axisLabel: label,
            format: (minor) => money(minor, currency),
          }),
          table(['Model', 'Gross', 'Platform fee', 'Payout'], rows.map((m) => [label(m.modelId),
            money(m.grossMinor, currency), money(m.feeMinor, currency), money(m.payoutMinor, currency)]), { numeric: [1, 2, 3] }),
        ];
      }));
  }
  period.addEventListener('change', load);
  await load();
  return h('div', {}, h('div', { class: 'narrow-field' }, field('Month', period)), slot);
}

/** The model-card form, for creating (slug and kind editable) and for editing. */
export function cardForm(model, { create = false } = {}) {
  const kind = select([['model', 'Model (you upload trained versions)'], ['algorithm', 'Algorithm (trained on the buyer\'s data)']],
    { id: 'card-kind', value: model.kind || 'model', disabled: !create });
  const slug = h('input', { type: 'text', id: 'card-slug', value: model.slug || '', required: create, disabled: !create, pattern: '[a-z0-9-]{1,63}', maxlength: '63' });
  const name = h('input', { type: 'text', id: 'card-name', value: model.name || '', required: true, maxlength: '200' });
  const task = select(TASKS, { id: 'card-task', value: model.task || 'image-classification' });
  const summary = h('input', { type: 'text', id: 'card-summary', value: model.summary || '', maxlength: '500' });
  const description = h('textarea', { id: 'card-description', rows: '10', value: model.description || '' });
  const preview = h('div', { class: 'markdown', id: 'card-preview', 'aria-live': 'off' });
  const tags = h('input', { type: 'text', id: 'card-tags', value: (model.tags || []).join(', ') });
  const license = h('input', { type: 'text', id: 'card-license', value: model.license || '', maxlength: '100' });
  const framework = h('input', { type: 'text', id: 'card-framework', value: model.framework || '', maxlength: '40', placeholder: 'pytorch' });
  const visibility = select([['public', 'Public: everyone'], ['shared', 'Shared: named organisations'], ['private', 'Private: your organisation only']],
    { id: 'card-visibility', value: model.visibility || 'public' });
  const sharedWith = h('input', { type: 'text', id: 'card-shared', value: (model.sharedWith || []).join(', ') });
  const metrics = h('textarea', { id: 'card-metrics', rows: '3', value: model.claimedMetrics && Object.keys(model.claimedMetrics).length ? JSON.stringify(model.claimedMetrics, null, 1) : '' });
  const algorithm = h('textarea', { id: 'card-algorithm', rows: '5', value: model.algorithm ? JSON.stringify(model.algorithm, null, 1) : '{"hyperparameters": {}, "data": {}}' });
  const algorithmField = field('Algorithm (JSON: hyperparameters and the data it expects)', algorithm);
  const sharedField = field('Shared with', sharedWith, 'Organisation slugs, separated by commas.');

  const updatePreview = () => preview.replaceChildren(description.value.trim()
    ? renderMarkdown(description.value) : h('p', { class: 'hint' }, 'The preview of the description appears here.'));
  let timer = null;
  description.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(updatePreview, 150);
  });
  updatePreview();
  const toggle = () => {
    algorithmField.hidden = kind.value !== 'algorithm';
    sharedField.hidden = visibility.value !== 'shared';
  };
  kind.addEventListener('change', toggle);
  visibility.addEventListener('change', toggle);
  toggle();

  const form = h('form', { id: create ? 'new-model-form' : 'edit-card-form', 'aria-label': create ? 'New model' : 'Edit the model card' },
    h('div', { class: 'form-grid' },
      field('Kind', kind),
      field('Slug', slug, 'Its name in URLs and API calls: lower-case letters, digits and "-". Cannot change later.'),
      field('Name', name),
      field('Task', task),
      h('div', { class: 'wide' }, field('Summary', summary, 'One sentence for the catalog.')),
      field('Description (Markdown)', description, 'Headings, lists, tables, code, links. HTML is shown as text.'),
      h('div', { class: 'field' }, h('span', { class: 'hint' }, 'Preview'), preview),
      field('Tags', tags, 'Separated by commas.'),
      field('Licence', license),
      field('Framework', framework),
      field('Visibility', visibility),
      sharedField,
      field('Claimed metrics (JSON object)', metrics, 'Optional, e.g. {"accuracy": 0.97}.'),
      algorithmField),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: create ? 'create-model' : 'save-card' }, create ? 'Create' : 'Save the model card')));

  const json = (textarea, pointer) => {
    if (!textarea.value.trim()) return undefined;
    try {
      return JSON.parse(textarea.value);
    } catch (e) {
      throw new ApiError(400, { title: 'Not valid JSON', errors: [{ pointer, detail: e.message }] });
    }
  };
  const list = (input) => input.value.split(',').map((t) => t.trim()).filter(Boolean);

  return {
    form,
    values() {
      const body = {
        name: name.value.trim(),
        summary: summary.value.trim(),
        description: description.value,
        task: task.value,
        tags: list(tags),
        license: license.value.trim(),
        visibility: visibility.value,
        claimedMetrics: json(metrics, '/claimedMetrics') || {},
      };
      if (framework.value.trim()) body.framework = framework.value.trim();
      if (create) {
        body.slug = slug.value.trim();
        body.kind = kind.value;
      }
      if (visibility.value === 'shared') body.sharedWith = list(sharedWith);
      if (kind.value === 'algorithm') body.algorithm = json(algorithm, '/algorithm');
      return body;
    },
  };
}
