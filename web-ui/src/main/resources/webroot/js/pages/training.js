// Training: the organisation's jobs and datasets, and one job's page, which follows the job live
// (state, a progress bar per epoch, elapsed and remaining time, loss and metric curves) until it
// ends, then shows the result and links to the model it made.

import { currentSession, del, get, getOrNull, post, request } from '../api.js';
import { badge, confirmDialog, flash, h, infoBox, link, messageSlot, section, table } from '../dom.js';
import { count, dateTime, duration, figure, percent } from '../format.js';
import { trainingCurves, trainingResult } from './training-result.js';
import { signInFirst } from './common.js';

const enc = encodeURIComponent;
const OPEN = new Set(['queued', 'running']);
const STATE_BADGES = { queued: 'state-draft', running: 'state-draft', succeeded: 'state-published', failed: 'state-retired', cancelled: 'state-deprecated' };

export async function trainingPage() {
  if (!currentSession()) return signInFirst('Training', '/training');
  const [jobs, datasets] = await Promise.all([get('/api/v1/training-jobs'), get('/api/v1/datasets')]).then((r) => r.map((x) => x.items));
  const names = new Map(datasets.map((d) => [d.id, d.name]));
  const datasetSlot = h('div', { id: 'dataset-list' });
  const messages = messageSlot();

  function renderDatasets(list) {
    datasetSlot.replaceChildren(list.length
      ? table(['Name', 'Task', 'Rows', 'Label column', 'Uploaded', ''], list.map((d) => [
        d.name, d.task, count(d.rows), h('code', {}, d.labelColumn), dateTime(d.createdAt),
        h('button', { type: 'button', class: 'danger delete-dataset', dataset: { dataset: d.name }, on: { click: () => remove(d) } }, `Delete ${d.name}`),
      ]), { numeric: [2] })
      : h('p', { class: 'empty' }, 'No datasets yet: upload a CSV on an algorithm\'s page.'));
  }

  async function remove(dataset) {
    const ok = await confirmDialog({
      title: `Delete the dataset “${dataset.name}”?`,
      body: h('p', {}, 'Jobs that trained on it keep their results and models; it cannot be trained on again.'),
      confirmLabel: 'Delete dataset',
      danger: true,
    });
    if (!ok) return;
    try {
      await del(`/api/v1/datasets/${enc(dataset.id)}`);
      flash(`The dataset “${dataset.name}” is deleted.`);
      renderDatasets((await get('/api/v1/datasets')).items);
    } catch (err) {
      messages.error(err);
    }
  }

  renderDatasets(datasets);
  return h('div', {},
    h('h1', {}, 'Training'),
    h('p', {}, 'Train an algorithm on your own CSV from the algorithm\'s page: ', link('/?kind=algorithm', 'find an algorithm'),
      '. Each job makes a private model of your organisation, or a new version of one.'),
    h('h2', {}, 'Jobs'),
    h('div', { id: 'job-list' }, jobs.length
      ? table(['Started', 'Model', 'Algorithm', 'Dataset', 'State', 'Progress'], jobs.map((j) => [
        link(`/training-jobs/${enc(j.id)}`, dateTime(j.createdAt), { class: 'job-link', dataset: { job: j.id } }),
        j.state === 'succeeded' && j.result ? link(`/models/${enc(j.result.model)}`, `${j.result.model} ${j.result.version}`)
          : `${j.target.model} ${j.target.version || ''}`,
        link(`/algorithms/${enc(j.algorithm)}`, j.algorithm),
        names.get(j.datasetId) || h('span', { class: 'hint' }, 'deleted'),
        badge(j.state, STATE_BADGES[j.state]),
        summary(j),
      ]))
      : h('p', { class: 'empty' }, 'No training jobs yet.')),
    h('h2', {}, 'Datasets'),
    messages.el,
    datasetSlot);
}

/** One line on how far a job got, or what it achieved. */
function summary(job) {
  const metrics = job.result && job.result.metrics;
  if (metrics) return metrics.task === 'classification' ? `accuracy ${percent(metrics.accuracy)}` : `R² ${figure(metrics.r2)}`;
  const p = job.progress;
  if (p && p.epochs) return `epoch ${count(p.epoch)} of ${count(p.epochs)}`;
  return job.reason || '';
}

// ---- one job ---------------------------------------------------------------------------------

export async function trainingJobPage({ args: [id] }) {
  if (!currentSession()) return signInFirst('Training job', `/training-jobs/${id}`);
  const job = await get(`/api/v1/training-jobs/${enc(id)}`);
  const dataset = job.datasetId ? await getOrNull(`/api/v1/datasets/${enc(job.datasetId)}`).catch(() => null) : null;
  const curves = h('div', { id: 'job-curves' });
  const result = h('div', { id: 'job-result' });
  const messages = messageSlot();
  const status = jobStatus(async () => {
    const ok = await confirmDialog({
      title: 'Cancel this training job?',
      body: h('p', {}, 'It stops between two steps; nothing it learnt so far is kept.'),
      confirmLabel: 'Cancel the job',
      cancelLabel: 'Let it run',
      danger: true,
    });
    if (!ok) return;
    status.cancelling(true);
    try {
      show(await post(`/api/v1/training-jobs/${enc(job.id)}/cancel`));
    } catch (err) {
      status.cancelling(false);
      messages.error(err);
    }
  });
  const view = h('article', { class: 'training-job', dataset: { job: job.id } },
    h('h1', {}, `Training ${job.target.model}`),
    h('p', { class: 'meta' }, 'Algorithm ', link(`/algorithms/${enc(job.algorithm)}`, job.algorithm), ' · dataset ',
      dataset ? h('strong', {}, dataset.name) : h('span', { class: 'hint' }, 'deleted'),
      ` · into ${job.target.model} ${job.target.version || ''} · started ${dateTime(job.createdAt)} · `, link('/training', 'All jobs')),
    status.el,
    messages.el,
    section('Curves', curves),
    result);

  let lastCurve = -1;
  function show(current) {
    status.update(current);
    const curve = current.curve || [];
    if (curve.length !== lastCurve) {
      lastCurve = curve.length;
      const opened = [...curves.querySelectorAll('details')].map((d) => d.open);
      curves.replaceChildren(curve.length ? trainingCurves(curve) : h('p', { class: 'empty' }, 'The curves start after the first epoch.'));
      curves.querySelectorAll('details').forEach((d, i) => { d.open = Boolean(opened[i]); });
    }
    if (current.state === 'succeeded' && current.result && !result.hasChildNodes()) {
      result.append(section('Result', resultHead(current.result), trainingResult(current.result)));
    }
  }

  show(job);
  if (OPEN.has(job.state)) follow(job.id, show, leftPage(view), (err) => messages.error(err));
  return view;
}

/**
 * The job's state, progress bar, times and Cancel button. The elements stay and only their content
 * changes with each update, so the button under a person's pointer (or focus) is never replaced.
 */
function jobStatus(onCancel) {
  const state = h('strong', { id: 'job-state' });
  const bar = h('progress', { id: 'job-progress', max: '1', 'aria-labelledby': 'job-progress-text' });
  const words = h('p', { id: 'job-progress-text', class: 'upload-status' });
  const times = h('p', { id: 'job-times', class: 'hint' });
  const latest = h('p', { id: 'job-latest', class: 'hint' });
  const cancel = h('button', { type: 'button', class: 'danger', id: 'job-cancel', on: { click: onCancel } }, 'Cancel');
  const actions = h('div', { class: 'actions' }, cancel);
  const reason = h('div', { id: 'job-ending' });
  const el = h('div', { id: 'job-status' }, h('p', { role: 'status' }, 'State: ', state), bar, words, times, latest, actions, reason);
  let ended = false;

  function update(job) {
    const p = job.progress || {};
    state.replaceChildren(badge(job.state, STATE_BADGES[job.state]));
    bar.max = Math.max(1, p.epochs || (job.hyperparameters || {}).epochs || 1);
    if (job.state === 'queued') {
      bar.removeAttribute('value'); // an indeterminate bar
      words.textContent = 'Waiting for a free training slot…';
    } else if (job.state === 'succeeded') {
      const r = job.result || {};
      bar.value = bar.max;
      words.textContent = `Done after ${count(r.epochsRun || p.epoch)} of ${count(p.epochs || r.epochsRun)} epochs`
        + `${r.stoppedEarly ? ` (stopped early: no better validation loss after epoch ${count(r.bestEpoch)})` : ''}.`;
    } else {
      bar.value = p.epoch || 0;
      words.textContent = p.epochs ? `Epoch ${count(p.epoch)} of ${count(p.epochs)} · step ${count(p.step)} of ${count(p.totalSteps)}` : 'Starting…';
    }
    const elapsed = job.state === 'succeeded' && job.result ? job.result.elapsedMillis : p.elapsedMs;
    times.textContent = [
      elapsed !== undefined && elapsed !== null ? `elapsed ${duration(elapsed)}` : null,
      job.state === 'running' && p.remainingMs !== undefined && p.remainingMs !== null ? `about ${duration(p.remainingMs)} left` : null,
    ].filter(Boolean).join(' · ');
    latest.textContent = p.epoch ? `Last epoch: ${lastEpoch(p)}` : '';
    times.hidden = !times.textContent;
    latest.hidden = !latest.textContent;
    ended = !OPEN.has(job.state);
    actions.hidden = ended;
    if (ended) cancel.disabled = true;
    if (job.reason && job.state !== 'succeeded' && !reason.hasChildNodes()) {
      reason.append(job.state === 'failed'
        ? h('div', { class: 'alert error', role: 'alert' }, h('strong', {}, 'Why it failed: '), h('span', { id: 'job-reason' }, job.reason))
        : infoBox(h('span', { id: 'job-reason' }, `Cancelled: ${job.reason}`)));
    }
  }

  function cancelling(yes) {
    cancel.disabled = yes || ended;
    cancel.textContent = yes ? 'Cancelling…' : 'Cancel';
  }

  return { el, update, cancelling };
}

function lastEpoch(p) {
  const metric = p.metric === 'accuracy' ? `accuracy ${percent(p.validationMetric)}` : `${p.metric === 'r2' ? 'R²' : p.metric} ${figure(p.validationMetric)}`;
  return [
    `train loss ${figure(p.trainLoss)}`,
    p.validationLoss !== null && p.validationLoss !== undefined ? `validation loss ${figure(p.validationLoss)}` : null,
    p.validationMetric !== null && p.validationMetric !== undefined ? `validation ${metric}` : null,
  ].filter(Boolean).join(' · ');
}

function resultHead(result) {
  return h('p', { id: 'result-model' }, 'The model ',
    link(`/models/${enc(result.model)}`, `${result.model} ${result.version}`, { id: 'result-model-link' }),
    ' is published, private to your organisation: try it in its playground, or call ',
    h('code', {}, `/v2/models/${result.model}/infer`), ' with one of your keys.');
}

/** True once the view has been on screen and is no longer (the person moved to another page). */
function leftPage(view) {
  const born = Date.now();
  let shown = false;
  return () => {
    if (view.isConnected) shown = true;
    return !view.isConnected && (shown || Date.now() - born > 10000);
  };
}

/**
 * Follows a job until it ends. EventSource cannot send the Authorization header, and the API takes
 * the access token only from that header (the refresh cookie is scoped to /api/v1/auth), so the
 * event stream is read with fetch instead, which can. Where that fails (a proxy that buffers, a
 * dropped connection), the job is polled every second.
 */
async function follow(id, onJob, gone, onError) {
  const controller = new AbortController();
  const watch = setInterval(() => { if (gone()) controller.abort(); }, 2000);
  let ended = false;
  const take = (job) => {
    if (gone()) {
      controller.abort();
      return;
    }
    onJob(job);
    ended = !OPEN.has(job.state);
  };
  try {
    const response = await request('GET', `/api/v1/training-jobs/${enc(id)}/events`, { headers: { Accept: 'text/event-stream' }, signal: controller.signal });
    await readEvents(response, (type, data) => {
      if (type === 'job') take(JSON.parse(data));
    });
  } catch (err) {
    if (err.name === 'AbortError') return;
  } finally {
    clearInterval(watch);
  }
  while (!ended && !gone()) {
    await new Promise((resolve) => { setTimeout(resolve, 1000); });
    if (gone()) return;
    try {
      take(await get(`/api/v1/training-jobs/${enc(id)}`));
    } catch (err) {
      onError(err);
      return;
    }
  }
}

/** Calls onEvent(type, data) for each Server-Sent Event of a fetch response, until the stream ends. */
async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent(type, data.join('\n'));
      end = buffer.indexOf('\n\n');
    }
  }
}
