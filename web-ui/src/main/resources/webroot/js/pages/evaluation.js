// Evaluation: run a model version (or compare two) over one of the organisation's labelled CSV
// datasets through the platform's serving path, and read what the platform measured: accuracy and
// the confusion matrix, or the regression errors; how fast it was served and the batches it ran in;
// for a comparison, the deltas and the rows where the versions disagree. Dataset names, class names
// and model names come from users: like everything else they go in as text.

import { currentSession, get, post, upload } from '../api.js';
import { badge, field, h, link, messageSlot, onSubmit, section, select, table } from '../dom.js';
import { count, dateTime, figure, percent } from '../format.js';
import { confusionMatrix } from './training-result.js';
import { signInFirst } from './common.js';

const enc = encodeURIComponent;
const OPEN = new Set(['queued', 'running']);
const STATE_BADGES = { queued: 'state-draft', running: 'state-draft', succeeded: 'state-published', failed: 'state-retired', cancelled: 'state-deprecated' };

/** #/evaluations[?model=slug]: the organisation's evaluations and the form that starts one. */
export async function evaluationsPage({ params, navigate }) {
  if (!currentSession()) return signInFirst('Evaluations', '/evaluations');
  const [jobs, datasets] = await Promise.all([get('/api/v1/evaluations'), get('/api/v1/datasets')]).then((r) => r.map((x) => x.items));
  const messages = messageSlot();
  const model = h('input', { id: 'eval-model', required: true, value: params.get('model') || '', autocomplete: 'off' });
  const version = h('input', { id: 'eval-version', placeholder: 'latest', autocomplete: 'off' });
  const compareWith = h('input', { id: 'eval-compare', placeholder: 'none', autocomplete: 'off' });
  const datasetSelect = select(datasets.map((d) => [d.id, `${d.name} (${count(d.rows)} rows, ${d.task})`]), { id: 'eval-dataset' });
  const reference = h('input', { type: 'checkbox', id: 'eval-reference' });
  const form = onSubmit(h('form', { id: 'evaluation-form', class: 'stack' },
    field('Model (slug)', model),
    field('Version', version, 'A version number or alias; empty: the latest.'),
    field('Compare with version', compareWith, 'Optional: a second version, run over the same rows.'),
    field('Dataset', datasetSelect, 'A labelled CSV of your organisation; upload one below.'),
    field('Reference measurement (publishers of the model only): show the result on the model\'s card', reference),
    h('button', { type: 'submit', id: 'start-evaluation' }, 'Run evaluation')), async () => {
    try {
      const body = { model: model.value.trim(), datasetId: datasetSelect.value, reference: reference.checked };
      if (version.value.trim()) body.version = version.value.trim();
      if (compareWith.value.trim()) body.compareWith = compareWith.value.trim();
      const job = await post('/api/v1/evaluations', body);
      navigate(`/evaluations/${enc(job.id)}`);
    } catch (err) {
      messages.error(err);
    }
  });
  return h('div', {},
    h('h1', {}, 'Evaluations'),
    h('p', {}, 'The platform runs a model version over your labelled rows through the same batched serving path as ',
      h('code', {}, '/v2'), ' calls and measures it. Evaluation calls are metered in your usage but never billed.'),
    messages.el,
    section('Run an evaluation', form),
    section('Upload a labelled CSV', datasetUpload(messages, () => navigate(`/evaluations?model=${enc(model.value.trim())}`))),
    section('Your evaluations', h('div', { id: 'evaluation-list' }, jobs.length
      ? table(['Started', 'Model', 'Version', 'Compared with', 'Dataset', 'State', 'Accuracy / R²'], jobs.map((j) => [
        link(`/evaluations/${enc(j.id)}`, dateTime(j.createdAt), { class: 'evaluation-link', dataset: { evaluation: j.id } }),
        j.model, j.version, j.compareWith || '—', (j.dataset || {}).name || '', badge(j.state, STATE_BADGES[j.state]),
        headline(j.result && j.result.metrics),
      ]))
      : h('p', { class: 'empty' }, 'No evaluations yet.'))));
}

/** A small CSV upload that makes a dataset (the same two steps as training's). */
function datasetUpload(messages, done) {
  const file = h('input', { type: 'file', id: 'eval-csv', accept: '.csv,text/csv', required: true });
  const name = h('input', { id: 'eval-csv-name', required: true });
  const label = h('input', { id: 'eval-csv-label', required: true, placeholder: 'label' });
  const task = select([['classification', 'classification'], ['regression', 'regression']], { id: 'eval-csv-task' });
  const status = h('p', { class: 'hint', id: 'eval-csv-status', role: 'status' });
  return onSubmit(h('form', { id: 'eval-upload-form', class: 'stack' }, field('CSV file', file), field('Name', name),
    field('Label column', label), field('Task', task), h('button', { type: 'submit' }, 'Upload dataset'), status), async () => {
    try {
      const stored = await upload('/api/v1/uploads', file.files[0], (p) => { status.textContent = `Uploaded ${percent(p, 0)}`; });
      const dataset = await post('/api/v1/datasets', { uploadSha256: stored.sha256, name: name.value.trim(), labelColumn: label.value.trim(), task: task.value });
      status.textContent = `${count(dataset.rows)} rows read.`;
      done();
    } catch (err) {
      messages.error(err);
    }
  });
}

function headline(metrics) {
  if (!metrics) return '';
  return metrics.task === 'classification' ? percent(metrics.accuracy) : figure(metrics.r2);
}

/** #/evaluations/{id}: follows an open job until it ends, then shows its result (and its comparison). */
export async function evaluationPage({ args: [id] }) {
  if (!currentSession()) return signInFirst('Evaluation', `/evaluations/${id}`);
  const body = h('div', { id: 'evaluation-body' });
  const root = h('div', {}, h('h1', {}, 'Evaluation'), body);
  async function show() {
    const job = await get(`/api/v1/evaluations/${enc(id)}`);
    body.replaceChildren(...view(job));
    // follow an open job while its page is on screen (the first look runs before it is attached)
    if (OPEN.has(job.state)) setTimeout(() => { if (root.isConnected) show().catch(() => null); }, 500);
  }
  await show();
  return root;
}

function view(job) {
  const r = job.result;
  const progress = job.progress || {};
  const parts = [
    h('p', {}, h('strong', {}, `${job.model} ${job.version}`), job.compareWith ? ` compared with ${job.compareWith}` : '',
      ' on ', h('strong', {}, (job.dataset || {}).name || ''), ` (${count((job.dataset || {}).rows)} rows) · `,
      badge(job.state, STATE_BADGES[job.state]), h('span', { id: 'evaluation-state', dataset: { state: job.state } }, ` ${job.state}`)),
  ];
  if (OPEN.has(job.state)) {
    parts.push(h('p', { role: 'status' }, progress.rows
      ? `Pass ${progress.pass} of ${progress.passes} (${progress.version}): ${count(progress.rowsDone)} of ${count(progress.rows)} rows`
      : 'Waiting for a place in the evaluation queue…'));
  }
  if (job.reason) parts.push(h('p', { class: 'error' }, job.reason));
  if (!r) return parts;
  parts.push(section(`Measured by the platform · version ${r.version}`, metricsView(r.metrics, r.version), servingView(r.serving)));
  if (r.comparison) parts.push(section(`Compared with ${r.comparison.version}`, compareView(r)));
  return parts;
}

/** The figures of one run, and a classifier's confusion matrix. */
export function metricsView(m, version) {
  const classification = m.task === 'classification';
  const figures = classification
    ? [['Accuracy', percent(m.accuracy), 'accuracy'], ['Macro-F1', figure(m.macroF1), 'macro-f1'],
      ...(m.topK ? [[`Top-${m.topK} accuracy`, percent(m.topKAccuracy), 'top-k']] : [])]
    : [['MAE', figure(m.mae), 'mae'], ['RMSE', figure(m.rmse), 'rmse'], ['R²', figure(m.r2), 'r2']];
  const out = [h('dl', { class: 'facts metrics', dataset: { version } },
    figures.map(([name, value, key]) => [h('dt', {}, name), h('dd', { dataset: { metric: key } }, value)]))];
  if (classification && Array.isArray(m.confusionMatrix)) {
    const matrix = confusionMatrix(m.labels || [], m.confusionMatrix);
    matrix.id = `confusion-${version}`;
    matrix.classList.add('evaluation-confusion');
    matrix.querySelector('figcaption').textContent = `Confusion matrix of ${version} on ${count(m.rows)} rows`;
    out.push(matrix);
    out.push(table(['Class', 'Precision', 'Recall', 'Rows'], (m.perClass || []).map((c) => [c.label, figure(c.precision), figure(c.recall), count(c.support)]),
      { caption: 'Per class', numeric: [1, 2, 3] }));
  }
  return h('div', { class: 'evaluation-metrics' }, out);
}

function servingView(s) {
  if (!s) return null;
  const sizes = (s.batchSizes && s.batchSizes.histogram) || {};
  return h('div', { class: 'evaluation-serving' },
    h('dl', { class: 'facts', id: 'serving-facts' },
      h('dt', {}, 'Rows per second'), h('dd', {}, figure(s.itemsPerSecond)),
      h('dt', {}, 'Latency p50 / p99'), h('dd', {}, `${figure(s.latencyMillis.p50)} ms / ${figure(s.latencyMillis.p99)} ms`),
      h('dt', {}, 'Requests'), h('dd', {}, count(s.requests)),
      h('dt', {}, 'Largest batch'), h('dd', { id: 'largest-batch' }, count(s.batchSizes.max))),
    table(['Batch size', 'Requests'], Object.entries(sizes).map(([size, n]) => [size, count(n)]),
      { caption: 'Batches the serving engine formed', numeric: [0, 1] }));
}

/** The compare view: both versions' figures side by side, the deltas, and the rows they disagree on. */
function compareView(r) {
  const c = r.comparison;
  const names = Object.keys(c.deltas || {});
  const d = c.disagreements || { count: 0, rows: [] };
  return h('div', { class: 'evaluation-compare', id: 'comparison' },
    table(['Metric', r.version, c.version, 'Change'], names.map((n) => [n, figure(r.metrics[n]), figure(c.metrics[n]),
      `${c.deltas[n] >= 0 ? '+' : ''}${figure(c.deltas[n])}`]), { caption: 'Figures and their change', numeric: [1, 2, 3] }),
    h('p', { id: 'disagreement-count' }, `The versions disagree on ${count(d.count)} of ${count(r.metrics.rows)} rows.`),
    d.rows.length ? table(['Row', 'Label', r.version, c.version], d.rows.map((x) => [count(x.row), String(x.actual), String(x.base), String(x.other)]),
      { caption: `The first ${d.rows.length} rows where they disagree (0-based data rows of the CSV)`, numeric: [0] }) : null,
    metricsView(c.metrics, c.version), servingView(c.serving));
}

/**
 * On a model page: each version's platform measurements on the publisher's reference datasets,
 * told apart from the card's claimed metrics, and a link to evaluate the model on your own data.
 */
export function platformMeasuredSection(page) {
  const rows = [];
  (page.versions || []).forEach((v) => (v.platformMeasured || []).forEach((m) => rows.push({ version: v.version, ...m })));
  const items = rows.map((m) => h('div', { class: 'platform-measured', dataset: { version: m.version } },
    h('p', {}, `Version ${m.version}: measured by the platform on the publisher's reference set `,
      h('strong', {}, m.dataset.name), ` (${count(m.dataset.rows)} rows) on ${dateTime(m.measuredAt)}.`),
    metricsView(m.metrics, `ref-${m.version}`)));
  return h('div', { id: 'platform-measured' },
    items.length ? items : h('p', { class: 'empty' }, 'The publisher has not had the platform measure this model on a reference dataset.'),
    h('p', {}, 'These figures are the platform\'s own measurement, not the publisher\'s claims. ',
      currentSession() ? link(`/evaluations?model=${enc(page.slug)}`, 'Evaluate it on your own data', { id: 'evaluate-link' }) : ''));
}
