// What a training run produced, as the platform measured it: the held-out metrics, the confusion
// matrix as a heat map (classification) or the error figures (regression), the training curves,
// and what went in (dataset, split, hyperparameters). Shown on a job's page and, from the
// version's manifest.training, on the trained model's page. Class names come from the tenant's
// CSV: like everything else they go in as text.

import { h, table } from '../dom.js';
import { PALETTE, lineChart } from '../charts.js';
import { count, duration, figure, percent } from '../format.js';

const METRIC_NAMES = { accuracy: 'Validation accuracy', r2: 'Validation R²' };

/** The metrics and how they were measured; the confusion matrix for a classifier. */
export function trainingResult(result) {
  const metrics = result.metrics || {};
  const split = result.split || {};
  const heldOut = Array.isArray(split.heldOutRows) ? split.heldOutRows.length : 0;
  const classification = metrics.task === 'classification';
  const figures = classification
    ? [['Accuracy', percent(metrics.accuracy), 'accuracy'], ['Macro-F1', figure(metrics.macroF1), 'macro-f1']]
    : [['MAE (mean absolute error)', figure(metrics.mae), 'mae'], ['RMSE (root mean squared error)', figure(metrics.rmse), 'rmse'],
      ['R² (share of variance explained)', figure(metrics.r2), 'r2']];
  return h('div', { class: 'training-result' },
    h('p', {}, 'Measured by the platform on ', h('strong', {}, `${count(heldOut)} held-out rows`),
      ' of the dataset that the model never saw while it trained (',
      `${count(split.train)} rows trained it, ${count(split.validation)} chose when to stop).`),
    h('dl', { class: 'facts metrics', id: 'result-metrics' },
      figures.map(([name, value, key]) => [h('dt', {}, name), h('dd', { dataset: { metric: key } }, value)])),
    classification && Array.isArray(metrics.confusionMatrix) ? confusionMatrix(metrics.labels || [], metrics.confusionMatrix) : null,
    inputs(result));
}

/**
 * The confusion matrix as a heat map: a table (rows: actual class, columns: predicted), each cell
 * shaded by its share of the actual class's rows, so the diagonal is dark when the model is right.
 */
export function confusionMatrix(labels, matrix) {
  const head = h('tr', {}, h('th', { scope: 'col' }, 'Actual ↓ · predicted →'),
    labels.map((label) => h('th', { scope: 'col', class: 'num' }, label)));
  const rows = matrix.map((row, actual) => {
    const total = row.reduce((sum, n) => sum + Number(n || 0), 0);
    return h('tr', {}, h('th', { scope: 'row' }, labels[actual] !== undefined ? labels[actual] : String(actual)),
      row.map((n, predicted) => {
        const share = total > 0 ? Number(n) / total : 0;
        const cell = h('td', {
          class: predicted === actual ? 'num heat diagonal' : 'num heat',
          title: `${labels[actual]} predicted as ${labels[predicted]}: ${count(n)} of ${count(total)} (${percent(share, 0)})`,
          dataset: { actual: String(actual), predicted: String(predicted) },
        }, count(n));
        cell.style.background = `rgba(11, 92, 173, ${(0.08 + share * 0.92).toFixed(3)})`;
        if (share > 0.5) cell.classList.add('dark');
        return cell;
      }));
  });
  return h('figure', { class: 'confusion', id: 'confusion-matrix' },
    h('figcaption', {}, 'Confusion matrix on the held-out rows'),
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, head), h('tbody', {}, rows))),
    h('p', { class: 'hint' }, 'Rows are the actual classes, columns what the model predicted; the darker a cell, the larger its share of the actual class\'s rows.'));
}

/** The loss curves and the validation metric per epoch, as line charts. */
export function trainingCurves(curve) {
  const points = Array.isArray(curve) ? curve : [];
  const xs = points.map((p) => p.epoch);
  const metric = (points.find((p) => p.metric) || {}).metric;
  const hasValidation = points.some((p) => typeof p.validationLoss === 'number');
  return h('div', { class: 'curves' },
    lineChart({
      title: 'Loss per epoch',
      id: 'loss-chart',
      xs,
      series: [
        { key: 'train', label: 'Train loss', values: points.map((p) => p.trainLoss) },
        ...(hasValidation ? [{ key: 'validation', label: 'Validation loss', values: points.map((p) => p.validationLoss) }] : []),
      ],
      format: (v) => figure(v),
    }),
    hasValidation ? lineChart({
      title: `${METRIC_NAMES[metric] || `Validation ${metric || 'metric'}`} per epoch`,
      id: 'metric-chart',
      xs,
      series: [{ key: 'metric', label: METRIC_NAMES[metric] || metric || 'metric', values: points.map((p) => p.validationMetric), color: PALETTE[2] }],
      format: metric === 'accuracy' ? (v) => percent(v) : (v) => figure(v),
      yMax: metric === 'accuracy' ? 1 : undefined,
    }) : h('p', { class: 'hint' }, 'No validation rows (validation fraction 0): only the training loss is known per epoch.'));
}

/** What went into the run: dataset, epochs, time, hyperparameters. */
function inputs(result) {
  const dataset = result.dataset || {};
  const hp = result.hyperparameters || {};
  const epochs = result.epochsRun !== undefined
    ? `${count(result.epochsRun)}${result.stoppedEarly ? ` (stopped early; the best was epoch ${count(result.bestEpoch)})` : ''}`
    : '–';
  return h('details', { class: 'training-inputs' },
    h('summary', {}, 'What went in'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Dataset'), h('dd', {}, dataset.name || '–', dataset.rows !== undefined ? ` (${count(dataset.rows)} rows)` : ''),
      h('dt', {}, 'Algorithm'), h('dd', {}, result.algorithm || '–'),
      h('dt', {}, 'Epochs run'), h('dd', {}, epochs),
      h('dt', {}, 'Training time'), h('dd', {}, result.elapsedMillis !== undefined ? duration(result.elapsedMillis) : '–')),
    Object.keys(hp).length
      ? table(['Hyperparameter', 'Value'], Object.entries(hp).map(([k, v]) => [h('code', {}, k), Array.isArray(v) ? v.join(', ') : String(v)]),
        { caption: 'Hyperparameters used' })
      : null);
}
