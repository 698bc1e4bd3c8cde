// The publisher console's publish gates and canary controls for one model: the gates form (schema
// compatibility, "metric on dataset no worse than the current version's by more than X"), the
// figures of a refused publish with an audited override, and a canary split of `latest` with both
// versions' live figures side by side, a chart of them, and promote / roll back.

import { ApiError, get, getOrNull, post, put } from '../api.js';
import { badge, field, h, messageSlot, onSubmit, select, table } from '../dom.js';
import { stackedBarChart } from '../charts.js';
import { compareVersions, count, figure, micros, percent } from '../format.js';

const enc = encodeURIComponent;
const METRICS = [['accuracy', 'accuracy'], ['macroF1', 'macro F1'], ['mae', 'MAE (regression)'], ['rmse', 'RMSE (regression)']];

/** Whether an API error is a refusal by the publish gates (409 with the figures). */
export function isGateFailure(err) {
  return err instanceof ApiError && err.status === 409 && Array.isArray(err.problem && err.problem.gates);
}

/** The figures of a refused change, and a form to override it with a reason (audited). */
export function gateFailureBox(err, override) {
  const rows = err.problem.gates.map((g) => g.gate === 'metric'
    ? [g.metric, `${g.currentVersion}: ${figure(g.current, 4)}`, `${g.candidateVersion}: ${figure(g.candidate, 4)}`,
      `at most ${figure(g.maxDrop)} worse`, g.reason || '']
    : ['schema', g.currentVersion, g.candidateVersion, 'compatible, or a new major version', (g.breakingChanges || []).join('; ')]);
  const reason = h('input', { type: 'text', id: 'override-reason', required: true, placeholder: 'why this goes out anyway' });
  const form = onSubmit(h('form', { 'aria-label': 'Override the publish gates' },
    field('Reason for the override (kept in the audit log)', reason),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger', id: 'override-submit' }, 'Override and go ahead'))),
  () => override(reason.value.trim()));
  return h('div', { class: 'alert error', role: 'alert', id: 'gate-failure' },
    h('strong', { class: 'error-title' }, err.problem.title || 'Publish gate failed'),
    h('p', { class: 'error-detail' }, err.problem.detail || ''),
    table(['Gate', 'Current', 'Candidate', 'Allowed', 'Why'], rows, { caption: 'Gate figures' }),
    form);
}

// ---- gates ------------------------------------------------------------------------------------

export async function gatesSection(page) {
  const el = h('div', { id: 'gates-manager' });
  const messages = messageSlot();
  const [gates, datasets] = await Promise.all([
    get(`/api/v1/models/${enc(page.slug)}/gates`),
    getOrNull('/api/v1/datasets').then((d) => (d ? d.items : [])),
  ]);
  const schema = h('input', { type: 'checkbox', id: 'gate-schema', checked: gates.schema });
  const first = gates.metrics[0] || {};
  const metric = select(METRICS, { id: 'gate-metric', value: first.metric || 'accuracy' });
  const dataset = select([['', '(no metric gate)'], ...datasets.map((d) => [d.id, `${d.name} · ${count(d.rows)} rows`])],
    { id: 'gate-dataset', value: first.datasetId || '' });
  const maxDrop = h('input', { type: 'number', id: 'gate-max-drop', min: '0', step: 'any', value: String(first.maxDrop ?? 0.01) });
  const form = onSubmit(h('form', { id: 'gates-form', 'aria-label': 'Publish gates' },
    h('p', { class: 'hint' }, 'Checked when publishing moves latest, when an alias moves and when a canary is promoted: ',
      'against the version the alias points at now. A refused change answers with the figures; you can override it, and the override is audited.'),
    field('Schema compatibility: a breaking change to inputs or outputs needs a new major version', schema),
    h('div', { class: 'form-grid' },
      field('Metric', metric),
      field('On dataset', dataset, 'One of your datasets; the platform runs its rows through both versions.'),
      field('Allowed drop', maxDrop, 'e.g. 0.01: at most one point of accuracy worse.')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'gates-save' }, 'Save gates'))),
  async () => {
    messages.clear();
    try {
      const metrics = dataset.value ? [{ metric: metric.value, datasetId: dataset.value, maxDrop: Number(maxDrop.value) }] : [];
      await put(`/api/v1/models/${enc(page.slug)}/gates`, { schema: schema.checked, metrics });
      messages.ok('Gates saved.');
    } catch (err) {
      messages.error(err);
    }
  });
  el.append(messages.el, form);
  return el;
}

// ---- canary -----------------------------------------------------------------------------------

export function canarySection(page, onChange) {
  const el = h('div', { id: 'canary-manager' });
  const messages = messageSlot();
  const splitPath = `/api/v1/models/${enc(page.slug)}/aliases/latest/split`;

  async function act(label, action) {
    messages.clear();
    try {
      await action();
      messages.ok(label);
      await render();
      if (onChange) onChange();
    } catch (err) {
      if (isGateFailure(err)) {
        messages.el.replaceChildren(gateFailureBox(err, (reason) => act(label, () => action({ override: true, reason }))));
      } else {
        messages.error(err);
      }
    }
  }

  async function render() {
    const latest = (page.aliases || {}).latest;
    const split = latest ? await getOrNull(splitPath) : null;
    el.replaceChildren(messages.el, split ? running(split) : startForm(latest));
  }

  function startForm(latest) {
    if (!latest) return h('p', { class: 'empty' }, 'Publish a version first: a canary splits latest between two versions.');
    const others = page.versions.filter((v) => (v.state === 'published' || v.state === 'deprecated') && v.version !== latest)
      .sort((a, b) => compareVersions(b.version, a.version));
    if (!others.length) return h('p', { class: 'empty' }, `latest points at ${latest}; publish another version to try it as a canary.`);
    const version = select(others.map((v) => [v.version, v.version]), { id: 'canary-version' });
    const share = h('input', { type: 'number', id: 'canary-percent', min: '1', max: '99', step: '1', value: '10', required: true });
    const stickiness = select([['tenant', 'by organisation (each keeps its version)'], ['request', 'by request']], { id: 'canary-stickiness' });
    return onSubmit(h('form', { id: 'canary-form', 'aria-label': 'Start a canary' },
      h('p', { class: 'hint' }, `latest points at ${latest}. A canary sends a share of its calls to another version; `,
        'every answer says which version gave it, and usage is metered on that version.'),
      h('div', { class: 'form-grid' }, field('Canary version', version), field('Share of calls (%)', share), field('Chosen', stickiness)),
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'canary-start' }, 'Start canary'))),
    () => act(`Canary started: ${version.value} gets ${share.value}% of latest's calls.`,
      (extra) => put(splitPath, { version: version.value, percent: Number(share.value), stickiness: stickiness.value, ...extra })));
  }

  function running(split) {
    const [stable, canary] = split.versions;
    const rows = split.versions.map((v) => [
      h('strong', {}, v.version), badge(v.role, `role-${v.role}`), `${v.percent}%`, count(v.requests), count(v.errors),
      v.requests ? percent(v.errorRate) : '–', micros(v.p50Micros), micros(v.p99Micros),
      v.labelled ? `${percent(v.accuracy)} of ${count(v.labelled)}` : '–']);
    const chart = stackedBarChart({
      title: 'Calls per version during the canary',
      series: [{ key: 'ok', label: 'answered' }, { key: 'errors', label: 'errors' }],
      categories: split.versions.map((v) => v.version),
      value: (c, key) => {
        const v = split.versions.find((x) => x.version === c);
        return key === 'errors' ? v.errors : v.requests - v.errors;
      },
      axisLabel: (c) => c,
      what: 'versions',
      firstColumn: 'Version',
    });
    return h('div', { id: 'canary-running' },
      h('p', {}, `latest: ${stable.version} ${stable.percent}% · ${canary.version} ${canary.percent}%, chosen `,
        split.stickiness === 'tenant' ? 'by organisation' : 'by request', ` since ${new Date(split.startedAt).toLocaleString()}.`),
      h('div', { id: 'canary-figures' }, table(['Version', 'Role', 'Share', 'Calls', 'Errors', 'Error rate', 'p50', 'p99', 'Labelled accuracy'], rows,
        { caption: 'Live figures on this server', numeric: [3, 4, 5, 6, 7] })),
      chart,
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'canary-refresh', class: 'secondary', on: { click: () => render().catch((e) => messages.error(e)) } }, 'Refresh figures'),
        h('button', { type: 'button', id: 'canary-promote', on: { click: () => act(`Promoted: latest now answers with ${canary.version}.`,
          (extra) => post(`${splitPath}/promote`, extra)) } }, `Promote ${canary.version}`),
        h('button', { type: 'button', id: 'canary-rollback', class: 'rollback', on: { click: () => act(`Rolled back: every call of latest goes to ${stable.version}.`,
          () => post(`${splitPath}/rollback`)) } }, `Roll back to ${stable.version}`)));
  }

  render().catch((err) => messages.error(err));
  return el;
}
