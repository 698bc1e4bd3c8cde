// The playground of a model page: sends an (editable) example request to the Open Inference
// Protocol endpoint with one of the tenant's API keys and shows the outputs, with labels for
// classifiers, and the latency and batching facts from the response headers.

import { ApiError } from '../api.js';
import { errorBox, field, h, link, select } from '../dom.js';
import { micros } from '../format.js';
import { exampleBody, formatBody } from '../examples.js';

/**
 * The key secret typed into a playground. Secrets are shown once, so the person pastes one; it is
 * kept in this tab's memory only (never in storage) so that it survives moving between pages.
 */
export const keyMemory = { secret: '' };

export function playground(page) {
  const serving = page.versions.filter((v) => v.state === 'published' || v.state === 'deprecated');
  const byVersion = new Map(page.versions.map((v) => [v.version, v]));
  const targets = [
    ...Object.entries(page.aliases || {}).map(([alias, version]) => [alias, `${alias} (now ${version})`]),
    ...serving.map((v) => [v.version, `${v.version}${v.state === 'deprecated' ? ' (deprecated)' : ''}`]),
  ];
  if (!targets.length) {
    return h('p', { class: 'empty' }, 'No version of this model is serving yet, so there is nothing to try.');
  }
  const manifestOf = (target) => {
    const version = byVersion.get(page.aliases && page.aliases[target] ? page.aliases[target] : target);
    return version ? version.manifest : null;
  };

  const version = select(targets, { id: 'pg-version', name: 'version' });
  const key = h('input', {
    type: 'password', id: 'pg-key', name: 'key', autocomplete: 'off', spellcheck: 'false',
    value: keyMemory.secret, placeholder: 'mmk_…',
    on: { input: () => { keyMemory.secret = key.value.trim(); } },
  });
  let example = formatBody(exampleBody(manifestOf(version.value)));
  const body = h('textarea', { id: 'pg-body', name: 'body', rows: '6', spellcheck: 'false', value: example });
  version.addEventListener('change', () => {
    const next = formatBody(exampleBody(manifestOf(version.value)));
    if (body.value === example) body.value = next; // keep the person's own edits
    example = next;
  });
  const result = h('div', { id: 'pg-result', 'aria-live': 'polite' });
  const run = h('button', { type: 'submit', id: 'pg-run' }, 'Run');
  const reset = h('button', { type: 'button', class: 'secondary', id: 'pg-reset', on: { click: () => { body.value = example; } } }, 'Reset to the example');

  const form = h('form', { class: 'playground', 'aria-label': 'Playground' },
    h('div', { class: 'form-grid' },
      field('Version or alias', version),
      field('API key secret', key, h('span', {}, 'A key of your organisation with the inference scope. It stays in this tab\'s memory only. ',
        link('/keys', 'Manage keys')))),
    field('Request body (Open Inference Protocol JSON)', body, 'The model\'s example input; edit it freely.'),
    h('div', { class: 'actions' }, run, reset),
    result);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    run.disabled = true;
    result.replaceChildren(h('p', { class: 'loading', role: 'status' }, 'Running…'));
    try {
      result.replaceChildren(await infer(page, version.value, key.value.trim(), body.value, byVersion, manifestOf(version.value)));
    } catch (err) {
      result.replaceChildren(errorBox(err), err.status === 403 ? h('p', {}, 'Subscribe to one of the plans above, then try again.') : '');
    } finally {
      run.disabled = false;
    }
  });
  return form;
}

async function infer(page, target, secret, text, byVersion, requestedManifest) {
  let request;
  try {
    request = JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, { title: 'The request body is not valid JSON', detail: e.message });
  }
  if (!secret) {
    throw new ApiError(401, { title: 'An API key is needed', detail: 'Paste the secret of one of your organisation\'s API keys (it starts with mmk_).' });
  }
  const url = `/v2/models/${encodeURIComponent(page.slug)}/versions/${encodeURIComponent(target)}/infer`;
  const started = performance.now();
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(request),
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, { title: 'The server could not be reached', detail: e.message });
  }
  if (!response.ok) throw await ApiError.from(response);
  const answer = await response.json();
  const roundTrip = performance.now() - started;
  const answered = byVersion.get(answer.model_version);
  const manifest = answered ? answered.manifest : requestedManifest;
  return renderAnswer(answer, response.headers, roundTrip, manifest);
}

function renderAnswer(answer, headers, roundTrip, manifest) {
  const header = (name) => headers.get(name);
  const facts = [
    ['Round trip (measured here)', `${roundTrip.toFixed(1)} ms`],
    ['Queue time', micros(header('X-Queue-Time-Micros'))],
    ['Compute time (whole batch)', micros(header('X-Compute-Time-Micros'))],
    ['Batch size', header('X-Batch-Size') || '–'],
    ['Cold start', header('X-Cold-Start') === 'true' ? 'yes: the version was loaded for this call' : 'no'],
  ];
  if (header('Deprecation')) facts.push(['Deprecated', 'this version is deprecated; move to a newer one']);
  const declared = new Map(((manifest && manifest.outputs) || []).map((o) => [o.name, o]));
  return h('div', { class: 'pg-answer' },
    h('h3', {}, 'Result'),
    h('p', { id: 'pg-model-version' }, 'Answered by version ', h('strong', { class: 'model-version' }, answer.model_version || '?')),
    (answer.outputs || []).map((output) => renderOutput(output, declared.get(output.name))),
    h('dl', { class: 'facts', id: 'pg-facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('details', {}, h('summary', {}, 'Raw response'), h('pre', {}, h('code', {}, truncate(JSON.stringify(answer, null, 1), 20000)))));
}

function renderOutput(output, declared) {
  const labels = declared && Array.isArray(declared.labels) ? declared.labels : null;
  const shape = output.shape || [];
  const data = flatten(output.data || []);
  const title = h('h4', {}, `${output.name} `, h('span', { class: 'hint' }, `${output.datatype} [${shape.join(', ')}]`));
  const perItem = shape.length >= 1 ? data.length / Math.max(1, shape[0]) : data.length;
  if (labels && labels.length === perItem && shape.length === 2) {
    const items = [];
    for (let i = 0; i < shape[0] && i < 16; i += 1) {
      items.push(classification(i, data.slice(i * perItem, (i + 1) * perItem), labels));
    }
    return h('div', { class: 'pg-output', dataset: { output: output.name } }, title, items);
  }
  return h('div', { class: 'pg-output', dataset: { output: output.name } }, title,
    h('pre', {}, h('code', {}, truncate(JSON.stringify(data.slice(0, 512)), 8000) + (data.length > 512 ? ` … (${data.length} values)` : ''))));
}

function classification(index, scores, labels) {
  const ranked = scores.map((score, i) => ({ score: Number(score), label: labels[i] })).sort((a, b) => b.score - a.score);
  const probabilities = ranked.every((r) => r.score >= 0 && r.score <= 1);
  const top = ranked.slice(0, 3);
  return h('div', { class: 'pg-item', dataset: { item: String(index) } },
    h('p', {}, `Item ${index + 1}: predicted `, h('strong', { class: 'prediction' }, top[0].label)),
    h('ul', { class: 'prediction-list' }, top.map((r, i) => {
      const bar = h('span');
      bar.style.width = `${probabilities ? (r.score * 100).toFixed(1) : 0}%`;
      return h('li', { class: i === 0 ? 'top' : null },
        h('span', {}, r.label),
        h('span', { class: 'score-bar', 'aria-hidden': 'true' }, bar),
        h('span', {}, probabilities ? `${(r.score * 100).toFixed(1)}%` : r.score.toPrecision(4)));
    })));
}

function flatten(data) {
  return Array.isArray(data) ? data.flat(Infinity) : [data];
}

function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max)} …` : text;
}
