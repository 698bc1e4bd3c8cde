// "Train on your data", on an algorithm's page: a CSV becomes a dataset (uploaded with progress,
// parsed and summarised by the server, or refused naming the row and column), then a job is
// started with hyperparameters from the recipe's schema into a private model of the tenant.

import { ApiError, canPublish, currentSession, get, post, upload } from '../api.js';
import { badge, errorBox, field, flash, h, infoBox, link, messageSlot, okBox, onSubmit, select, table } from '../dom.js';
import { bytes, count, figure } from '../format.js';

const enc = encodeURIComponent;
const SLUG = '[a-z0-9][a-z0-9\\-]{0,62}';

const HP_LABELS = {
  epochs: 'Epochs',
  learningRate: 'Learning rate',
  batchSize: 'Batch size',
  hiddenSizes: 'Hidden layer sizes',
  weightDecay: 'Weight decay',
  earlyStoppingPatience: 'Early-stopping patience (epochs)',
  validationFraction: 'Validation fraction',
  seed: 'Random seed',
};

/**
 * The section's content; refresh() draws it again (after a subscription changed). With
 * ?target=slug in the route (the "Retrain" link of a trained model) the target is pre-filled.
 */
export function trainSection(page, { params, navigate }) {
  const el = h('div', { id: 'train' }, h('p', { class: 'loading' }, 'Loading…'));
  const target = params && params.get('target');

  async function refresh() {
    const session = currentSession();
    const recipe = page.algorithm && typeof page.algorithm === 'object' ? page.algorithm : {};
    if (!session) {
      el.replaceChildren(h('p', { id: 'train-sign-in' }, link(`/login?next=${enc(`/algorithms/${page.slug}`)}`, 'Sign in'), ' or ',
        link('/signup', 'sign up'), ' to train this algorithm on your own data.'));
      return;
    }
    if (!canPublish(session)) {
      el.replaceChildren(h('p', { class: 'hint' }, 'Training needs the owner, admin or publisher role in your organisation.'));
      return;
    }
    const entitled = page.owned ? true : await subscribed(page.slug);
    if (entitled === false) {
      el.replaceChildren(infoBox(h('p', { id: 'train-subscribe-first' }, 'Subscribe to one of this algorithm\'s plans below first; then you can train it on your data here.')));
      return;
    }
    const datasets = await get('/api/v1/datasets').then((r) => r.items.filter((d) => d.task === recipe.task)).catch(() => []);
    el.replaceChildren(trainForm(page, recipe, datasets, target, navigate));
  }

  refresh().catch((err) => el.replaceChildren(errorBox(err)));
  if (target) setTimeout(() => { if (el.isConnected) el.scrollIntoView({ block: 'start' }); }, 0);
  return { el, refresh: () => refresh().catch((err) => el.replaceChildren(errorBox(err))) };
}

/** True or false; null when the subscriptions cannot be read (the server decides when the job starts). */
async function subscribed(slug) {
  try {
    const subs = (await get('/api/v1/subscriptions')).items;
    return subs.some((s) => s.model === slug && s.status === 'active');
  } catch (err) {
    return null;
  }
}

function trainForm(page, recipe, datasets, target, navigate) {
  const task = recipe.task || 'classification';
  const datasetSlot = h('div', { id: 'dataset-result' });
  const jobSlot = h('div', { id: 'train-job' });
  const choose = (dataset) => {
    datasetSlot.replaceChildren(preview(dataset));
    jobSlot.replaceChildren(jobForm(page, recipe, dataset, target, navigate));
  };
  const refused = (err) => {
    datasetSlot.replaceChildren(refusal(err));
    jobSlot.replaceChildren();
  };
  const clear = () => {
    datasetSlot.replaceChildren();
    jobSlot.replaceChildren();
  };

  const previous = datasets.length ? select([['', 'Upload a new CSV file'],
    ...datasets.map((d) => [d.id, `${d.name} (${count(d.rows)} rows, label ${d.labelColumn})`])], { id: 'train-existing' }) : null;
  const uploading = uploadForm(task, choose, refused, clear);
  if (previous) {
    previous.addEventListener('change', () => {
      const dataset = datasets.find((d) => d.id === previous.value);
      uploading.hidden = Boolean(dataset);
      if (dataset) choose(dataset);
      else clear();
    });
  }
  return h('div', {},
    h('p', {}, 'Train this algorithm on a CSV of yours: the platform trains, measures the result on rows held out from training and ',
      'publishes it as a private model of your organisation, served like any other.',
      target ? [' This run adds a new version to ', h('code', {}, target), '.'] : ''),
    h('h3', {}, '1. Your data'),
    previous ? field('Dataset', previous, 'One you uploaded before, or a new file.') : null,
    uploading,
    datasetSlot,
    jobSlot);
}

// ---- the dataset -----------------------------------------------------------------------------

function uploadForm(task, onDataset, onRefused, onClear) {
  const file = h('input', { type: 'file', id: 'train-file', required: true, accept: '.csv,text/csv' });
  const label = select([], { id: 'train-label', required: true, disabled: true });
  const name = h('input', { type: 'text', id: 'train-dataset-name', required: true, maxlength: '200' });
  const progress = h('progress', { id: 'train-upload-progress', max: '100', value: '0', 'aria-labelledby': 'train-upload-status' });
  const status = h('p', { id: 'train-upload-status', class: 'upload-status', role: 'status' }, 'Nothing uploaded yet.');
  const progressBox = h('div', { hidden: true }, progress, status);
  const messages = messageSlot();

  file.addEventListener('change', async () => {
    onClear();
    messages.clear();
    const chosen = file.files[0];
    if (!chosen) return;
    if (!name.value.trim() || name.dataset.suggested === name.value) {
      name.value = chosen.name.replace(/\.csv$/i, '').slice(0, 200);
      name.dataset.suggested = name.value;
    }
    try {
      const header = await csvHeader(chosen);
      label.replaceChildren(...header.map((column) => h('option', { value: column }, column)));
      label.value = guessLabel(header);
      label.disabled = false;
    } catch (err) {
      label.replaceChildren();
      label.disabled = true;
      messages.error(err);
    }
  });

  const form = h('form', { id: 'train-upload-form', 'aria-label': 'Upload a CSV dataset' },
    h('div', { class: 'form-grid' },
      field('CSV file', file, 'A header row, then one row per example: numeric feature columns and one label column.'),
      field('Label column', label, 'The column the model learns to predict; read from the file\'s header.'),
      field('Dataset name', name, 'How the dataset is listed under Training.'),
      h('div', { class: 'field' }, h('span', { class: 'field-label' }, 'Task'),
        h('p', { id: 'train-task' }, badge(task), ' ', h('span', { class: 'hint' }, 'set by the algorithm\'s recipe')))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'train-upload' }, 'Upload and check the data')),
    messages.el,
    progressBox);

  onSubmit(form, async () => {
    messages.clear();
    onClear();
    const chosen = file.files[0];
    progressBox.hidden = false;
    progress.value = 0;
    const say = (fraction) => {
      progress.value = Math.round(fraction * 100);
      status.textContent = `Uploading ${chosen.name} (${bytes(chosen.size)})… ${Math.round(fraction * 100)}%`;
    };
    say(0);
    let stored;
    try {
      stored = await upload('/api/v1/uploads', chosen, say);
    } catch (err) {
      status.textContent = 'The upload failed.';
      messages.error(err);
      return;
    }
    status.textContent = `Uploaded 100% (${bytes(stored.sizeBytes)}). Checking the rows…`;
    try {
      const dataset = await post('/api/v1/datasets', { uploadSha256: stored.sha256, name: name.value.trim(), labelColumn: label.value, task });
      status.textContent = `Uploaded 100%. ${count(dataset.rows)} rows read.`;
      onDataset(dataset);
    } catch (err) {
      status.textContent = err.status === 422 ? 'Uploaded 100%. The platform refused this file.' : 'Uploaded 100%. The dataset was not created.';
      onRefused(err);
    }
  });
  return form;
}

/** The column names of a CSV's header row, read in the browser from the file's start. */
async function csvHeader(file) {
  const start = await file.slice(0, 256 * 1024).text();
  const cells = [];
  let cell = '';
  let quoted = false;
  for (let i = start.charCodeAt(0) === 0xfeff ? 1 : 0; i < start.length; i += 1) {
    const c = start[i];
    if (quoted) {
      if (c === '"' && start[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"' && cell === '') {
      quoted = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      break;
    } else {
      cell += c;
    }
  }
  cells.push(cell);
  if (cells.length < 2 || cells.every((c) => c === '')) {
    throw new ApiError(400, { title: 'This file has no header row', detail: 'The first line must name the columns, separated by commas.' });
  }
  return cells;
}

function guessLabel(header) {
  const usual = header.find((c) => /^(label|target|class|y|species|outcome)$/i.test(c.trim()));
  return usual !== undefined ? usual : header[header.length - 1];
}

function preview(dataset) {
  const previewRows = (dataset.preview && dataset.preview.rows) || [];
  const header = (dataset.preview && dataset.preview.header) || [];
  const labelAt = header.indexOf(dataset.labelColumn);
  const classes = dataset.classes || [];
  return h('div', { id: 'dataset-preview' },
    okBox(h('strong', {}, `The dataset “${dataset.name}” is ready: `), `${count(dataset.rows)} rows, ${count((dataset.features || []).length)} features, label column `,
      h('code', {}, dataset.labelColumn), '.'),
    h('h4', {}, `First ${previewRows.length} rows`),
    h('div', { id: 'dataset-rows' }, table(header, previewRows, { numeric: header.map((_, i) => i).filter((i) => i !== labelAt) })),
    classes.length ? [h('h4', {}, 'Label classes'), h('div', { id: 'dataset-classes' },
      table(['Class', 'Rows', 'Share'], classes.map((c) => [c.name, count(c.rows), `${((c.rows / Math.max(1, dataset.rows)) * 100).toFixed(1)}%`]),
        { numeric: [1, 2] }))] : null,
    h('h4', {}, 'Columns'),
    h('div', { id: 'dataset-columns' }, table(['Column', 'Min', 'Max', 'Mean', 'Missing'],
      (dataset.columns || []).map((c) => [c.name, figure(c.min), figure(c.max), figure(c.mean), count(c.missing)]),
      { numeric: [1, 2, 3, 4] })));
}

function refusal(err) {
  const problem = err.problem || {};
  const where = [
    problem.row ? ['Row', h('span', { id: 'refusal-row' }, `${count(problem.row)} (line ${count(problem.line)} of the file)`)] : null,
    !problem.row && problem.line ? ['Line', h('span', { id: 'refusal-line' }, count(problem.line))] : null,
    problem.column ? ['Column', h('code', { id: 'refusal-column' }, problem.column)] : null,
    problem.reason ? ['Reason', h('code', { id: 'refusal-reason' }, problem.reason)] : null,
  ].filter(Boolean);
  return h('div', { id: 'dataset-refusal' },
    errorBox(err),
    where.length ? h('dl', { class: 'facts' }, where.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : null,
    h('p', { class: 'hint' }, 'Nothing was kept. Fix the file and upload it again.'));
}

// ---- the job ---------------------------------------------------------------------------------

function jobForm(page, recipe, dataset, target, navigate) {
  const specs = Object.entries(recipe.hyperparameters && typeof recipe.hyperparameters === 'object' ? recipe.hyperparameters : {});
  const inputs = specs.map(([name, spec]) => [name, spec, hyperparameterInput(name, spec)]);
  const slug = h('input', {
    type: 'text', id: 'train-target', required: true, maxlength: '63', pattern: SLUG, autocapitalize: 'none', spellcheck: 'false',
    value: target || suggestSlug(`${page.slug}-${dataset.name}`),
  });
  const modelName = h('input', { type: 'text', id: 'train-target-name', maxlength: '200' });
  const messages = messageSlot();
  const form = h('form', { id: 'train-form', 'aria-label': 'Train' },
    h('h3', {}, '2. Hyperparameters'),
    h('p', { class: 'hint' }, 'The recipe\'s defaults are filled in; each value must stay within the range shown.'),
    h('div', { class: 'form-grid' }, inputs.map(([name, spec, input]) => field(HP_LABELS[name] || words(name), input, hint(name, spec)))),
    h('h3', {}, '3. The model it makes'),
    h('div', { class: 'form-grid' },
      field('Model slug', slug, target ? 'Your trained model: this run becomes its next version.'
        : 'A new private model of your organisation (lower-case letters, digits, "-"), or one of your trained models for a new version.'),
      field('Model name (optional)', modelName, 'Shown on a new model\'s page; the slug when empty.')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'train-start' }, 'Start training')),
    messages.el);

  onSubmit(form, async () => {
    messages.clear();
    let hyperparameters;
    try {
      hyperparameters = Object.fromEntries(inputs.map(([name, spec, input]) => [name, parseValue(name, spec, input.value)]));
    } catch (err) {
      messages.error(err);
      return;
    }
    const body = {
      algorithm: page.slug,
      datasetId: dataset.id,
      hyperparameters,
      target: { model: slug.value.trim(), ...(modelName.value.trim() ? { name: modelName.value.trim() } : {}) },
    };
    try {
      const job = await post('/api/v1/training-jobs', body);
      flash(`Training started: ${job.target.model} ${job.target.version || ''}`.trim(), true);
      navigate(`/training-jobs/${enc(job.id)}`);
    } catch (err) {
      messages.error(err);
    }
  });
  return form;
}

function hyperparameterInput(name, spec) {
  const id = `hp-${name}`;
  const dflt = spec.default;
  if (spec.type === 'int-list') {
    return h('input', {
      type: 'text', id, name, required: true, inputmode: 'numeric', pattern: '\\s*\\d+(\\s*,\\s*\\d+)*\\s*',
      value: Array.isArray(dflt) ? dflt.join(', ') : '',
    });
  }
  return h('input', {
    type: 'number', id, name, required: true,
    step: spec.type === 'int' ? '1' : 'any',
    min: spec.min !== undefined ? String(spec.min) : null,
    max: spec.max !== undefined ? String(spec.max) : null,
    value: dflt !== undefined && dflt !== null ? String(dflt) : '',
  });
}

function hint(name, spec) {
  const range = spec.min !== undefined && spec.max !== undefined ? ` from ${spec.min} to ${spec.max}` : '';
  const dflt = Array.isArray(spec.default) ? spec.default.join(', ') : spec.default;
  const what = spec.type === 'int-list'
    ? `Comma-separated, up to ${spec.maxItems || 4} layers, each${range || ' a positive integer'}.`
    : `${spec.type === 'int' ? 'A whole number' : 'A number'}${range}.`;
  return [spec.description ? `${spec.description} ` : '', `${what} Default ${dflt}.`];
}

/** A form value as the API wants it; a wrong one is reported with the field's pointer. */
function parseValue(name, spec, text) {
  const wrong = (detail) => new ApiError(400, { title: 'Check the hyperparameters', errors: [{ pointer: `/hyperparameters/${name}`, detail }] });
  const trimmed = String(text).trim();
  if (spec.type === 'int-list') {
    const items = trimmed.split(/\s*,\s*/).filter((s) => s !== '');
    if (!items.length || !items.every((s) => /^\d+$/.test(s))) throw wrong('must be whole numbers separated by commas');
    return items.map(Number);
  }
  if (trimmed === '' || !Number.isFinite(Number(trimmed))) throw wrong('must be a number');
  if (spec.type === 'int' && !/^-?\d+$/.test(trimmed)) throw wrong('must be a whole number');
  return Number(trimmed);
}

function words(camel) {
  const spaced = camel.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** A model slug from free text: lower case, "-" between words, at most 63 characters. */
function suggestSlug(text) {
  const slug = text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return slug || 'my-trained-model';
}
