// A model (or algorithm) page: the rendered model card, schema, versions, plans with subscribe /
// change / cancel, the playground and ready-to-copy example calls; on an algorithm's page the form
// that trains it on the reader's data, on a trained model's page what its training measured.

import { canManage, currentSession, del, get, patch, post } from '../api.js';
import { badge, confirmDialog, copyButton, flash, h, link, messageSlot, section, table, uid } from '../dom.js';
import { bytes, compareVersions, count, date, micros, planLimit, planPrice, taskLabel } from '../format.js';
import { renderMarkdown } from '../markdown.js';
import { curlExample, javascriptExample, pythonExample } from '../examples.js';
import { publishersSeen } from './catalog.js';
import { playground } from './playground.js';
import { trainSection } from './train-form.js';
import { trainingCurves, trainingResult } from './training-result.js';
import { platformMeasuredSection } from './evaluation.js';

const enc = encodeURIComponent;

export async function modelPage({ args: [slug], params, navigate }) {
  const page = await get(`/api/v1/models/${enc(slug)}`);
  const plans = await get(`/api/v1/models/${enc(slug)}/plans`).then((r) => r.items).catch(() => []);
  const isModel = page.kind !== 'algorithm';
  const serving = page.versions.filter((v) => v.state === 'published' || v.state === 'deprecated');
  const latest = page.versions.find((v) => v.version === (page.aliases || {}).latest)
    || highest(serving) || highest(page.versions);
  const manifest = latest ? latest.manifest : null;
  const training = isModel && manifest && manifest.training && typeof manifest.training === 'object' ? manifest.training : null;
  const train = page.algorithm ? trainSection(page, { params, navigate }) : null;

  return h('article', { class: 'model', dataset: { slug: page.slug } },
    header(page, latest),
    training ? section('Measured by the platform', trainedSection(page, latest, training)) : null,
    isModel ? section('Measured by the platform on reference data', platformMeasuredSection(page)) : null,
    section('Model card', description(page)),
    page.claimedMetrics && Object.keys(page.claimedMetrics).length ? section('Claimed metrics (the publisher\'s, not measured by the platform)',
      h('p', { class: 'hint' }, 'As stated by the publisher.'),
      table(['Metric', 'Value'], Object.entries(page.claimedMetrics).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]))) : null,
    page.algorithm ? algorithmSection(page.algorithm) : null,
    train ? section('Train on your data', train.el) : null,
    isModel && manifest ? section('Inputs and outputs', schema(manifest, latest.version)) : null,
    isModel ? section('Versions', versionsTable(page)) : null,
    section('Plans', plansSection(page, plans, train ? train.refresh : () => {})),
    isModel ? section('Playground', playground(page)) : null,
    isModel && manifest && serving.length ? section('Call it from code', examples(page.slug, manifest)) : null);
}

function highest(versions) {
  return [...versions].sort((a, b) => compareVersions(b.version, a.version))[0] || null;
}

function header(page, latest) {
  const publisher = publishersSeen.get(page.slug);
  return h('header', { class: 'model-head' },
    h('h1', {}, page.name),
    page.summary ? h('p', { class: 'summary' }, page.summary) : null,
    h('p', { class: 'meta' },
      badge(page.kind === 'algorithm' ? 'algorithm' : 'model'),
      badge(taskLabel(page.task)),
      page.visibility !== 'public' ? badge(page.visibility) : null,
      page.framework ? badge(page.framework) : null,
      page.license ? badge(`licence: ${page.license}`) : null,
      (page.tags || []).map((t) => badge(`#${t}`))),
    h('p', { class: 'meta' },
      publisher ? `Published by ${publisher.name} · ` : '',
      latest ? ['Latest version ', h('strong', { id: 'latest-version' }, latest.version)] : 'No version yet',
      ` · slug `, h('code', {}, page.slug)),
    page.owned ? h('p', {}, 'This is your organisation\'s ', page.kind, '. ',
      link(`/publisher/models/${enc(page.slug)}`, 'Manage it in the publisher console', { id: 'manage-link' }), '.') : null);
}

function description(page) {
  const body = h('div', { class: 'markdown', id: 'model-description' });
  if (page.description && page.description.trim()) body.append(renderMarkdown(page.description));
  else body.append(h('p', { class: 'hint' }, 'The publisher has not written a description yet.'));
  return body;
}

/** What training measured for the latest version of a trained model, and the way to train it again. */
function trainedSection(page, latest, training) {
  const retrain = page.owned && training.algorithm
    ? h('p', {}, link(`/algorithms/${enc(training.algorithm)}?target=${enc(page.slug)}`, 'Retrain with new data',
      { id: 'retrain-link', class: 'button secondary' }), ' ',
    h('span', { class: 'hint' }, `The same algorithm on another CSV, into version ${nextMinor(latest.version)} of this model.`))
    : null;
  return h('div', { id: 'training-result' },
    h('p', {}, `Version ${latest.version} was trained by ModelMarket with the algorithm `,
      training.algorithm ? link(`/algorithms/${enc(training.algorithm)}`, training.algorithm) : '?',
      training.jobId ? [' (', link(`/training-jobs/${enc(training.jobId)}`, 'training job', { id: 'training-job-link' }), ')'] : '', '.'),
    trainingResult(training),
    retrain,
    Array.isArray(training.curve) && training.curve.length ? h('details', { class: 'curves-details' },
      h('summary', {}, 'Training curves'), trainingCurves(training.curve)) : null);
}

function nextMinor(version) {
  const [major, minor] = String(version).split('.').map(Number);
  return Number.isFinite(minor) ? `${major}.${minor + 1}.0` : 'a new version';
}

function algorithmSection(spec) {
  const hyper = spec.hyperparameters && typeof spec.hyperparameters === 'object' ? spec.hyperparameters : {};
  return section('Algorithm',
    Object.keys(hyper).length ? table(['Hyperparameter', 'Value'], Object.entries(hyper).map(([k, v]) => [k, JSON.stringify(v)]), { caption: 'Hyperparameters' }) : null,
    spec.data ? [h('h3', {}, 'Data'), h('pre', {}, h('code', {}, JSON.stringify(spec.data, null, 2)))] : null);
}

export function schema(manifest, version) {
  const rows = (tensors, withLabels) => tensors.map((t) => [
    h('code', {}, t.name), t.datatype, `[${(t.shape || []).join(', ')}]`,
    withLabels ? (Array.isArray(t.labels) ? `${t.labels.length} labels: ${t.labels.slice(0, 12).join(', ')}${t.labels.length > 12 ? ', …' : ''}` : '–') : null,
  ].filter((c) => c !== null));
  return h('div', { id: 'model-schema' },
    h('p', { class: 'hint' }, `Of version ${version}. −1 marks the batch dimension and any variable dimension.`),
    table(['Input', 'Datatype', 'Shape'], rows(manifest.inputs || [], false), { caption: 'Inputs' }),
    table(['Output', 'Datatype', 'Shape', 'Labels'], rows(manifest.outputs || [], true), { caption: 'Outputs' }));
}

function versionsTable(page) {
  if (!page.versions.length) return h('p', { class: 'empty' }, 'No versions yet.');
  const aliasesOf = (version) => Object.entries(page.aliases || {}).filter(([, v]) => v === version).map(([a]) => a);
  const sorted = [...page.versions].sort((a, b) => compareVersions(b.version, a.version));
  return h('div', { id: 'versions' }, table(['Version', 'State', 'Aliases', 'Published', 'Size', 'Load time', 'Single-item latency'],
    sorted.map((v) => [
      v.version,
      badge(v.state, `state-${v.state}`),
      aliasesOf(v.version).map((a) => badge(a)),
      date(v.publishedAt),
      bytes(v.measured.artifactSizeBytes),
      `${count(v.measured.loadMillis)} ms`,
      micros(v.measured.singleItemLatencyMicros),
    ]), { numeric: [4, 5, 6] }));
}

function plansSection(page, plans, onSubscriptionChange) {
  const container = h('div', { id: 'plans' });
  const messages = messageSlot();

  async function render() {
    const session = currentSession();
    let subscription = null;
    if (canManage(session) && !page.owned) {
      const subs = await get('/api/v1/subscriptions').then((r) => r.items).catch(() => []);
      subscription = subs.find((s) => s.model === page.slug && s.status === 'active') || null;
    }
    const current = subscription ? plans.find((p) => p.id === subscription.planId) : null;
    const status = [];
    if (page.owned) {
      status.push(h('p', { class: 'hint' }, 'Your organisation publishes this model: its keys call it without a subscription.'));
    } else if (!session) {
      status.push(h('p', {}, link(`/login?next=${enc(`/models/${page.slug}`)}`, 'Sign in'), ' or ', link('/signup', 'sign up'), ' to subscribe.'));
    } else if (!canManage(session)) {
      status.push(h('p', { class: 'hint' }, 'Owners and admins of your organisation choose its subscriptions.'));
    } else if (subscription) {
      status.push(h('p', { id: 'subscription-status' }, 'Your organisation is subscribed on the ', h('strong', {}, subscription.planName),
        ` plan since ${date(subscription.startedAt)}. `,
        h('button', { type: 'button', class: 'danger', id: 'cancel-subscription', on: { click: () => cancel(subscription, current) } }, 'Cancel subscription')));
    } else {
      status.push(h('p', { id: 'subscription-status' }, 'Your organisation has no subscription to this model.'));
    }
    const items = plans.map((plan) => {
      const mine = subscription && subscription.planId === plan.id;
      let action = null;
      if (session && canManage(session) && !page.owned) {
        if (mine) action = badge('your plan', 'status-active');
        else if (subscription) action = h('button', { type: 'button', class: 'secondary change-plan', dataset: { plan: plan.name }, on: { click: () => change(subscription, current, plan) } }, `Switch to ${plan.name}`);
        else action = h('button', { type: 'button', class: 'subscribe', dataset: { plan: plan.name }, on: { click: () => subscribe(plan) } }, `Subscribe to ${plan.name}`);
      }
      return h('li', { class: mine ? 'plan current' : 'plan', dataset: { plan: plan.name } },
        h('h3', {}, plan.name),
        h('p', { class: 'price' }, planPrice(plan)),
        h('p', { class: 'hint' }, planLimit(plan)),
        action);
    });
    container.replaceChildren(...status, messages.el,
      plans.length ? h('ul', { class: 'plans' }, items) : h('p', { class: 'empty' }, 'The publisher has not offered a plan yet.'));
  }

  const priceLines = (plan) => [h('p', {}, h('strong', {}, plan.name), ': ', h('span', { class: 'dialog-price' }, planPrice(plan))), h('p', { class: 'hint' }, planLimit(plan))];

  async function subscribe(plan) {
    const ok = await confirmDialog({
      title: `Subscribe to ${page.name}?`,
      body: [...priceLines(plan), h('p', {}, 'Charges, if any, start today and are invoiced monthly.')],
      confirmLabel: `Subscribe for ${plan.type === 'free' ? 'free' : 'this price'}`,
    });
    if (!ok) return;
    try {
      await post('/api/v1/subscriptions', { model: page.slug, planId: plan.id });
      flash(`Subscribed to ${page.name} on the ${plan.name} plan.`);
      messages.clear();
      await render();
      onSubscriptionChange();
    } catch (err) {
      messages.error(err);
    }
  }

  async function change(subscription, current, plan) {
    const ok = await confirmDialog({
      title: `Switch to the ${plan.name} plan?`,
      body: [
        current ? h('p', {}, 'Now: ', h('strong', {}, current.name), `: ${planPrice(current)}`) : h('p', {}, `Now: ${subscription.planName}`),
        h('p', {}, 'From now on: ', h('strong', {}, plan.name), ': ', h('span', { class: 'dialog-price' }, planPrice(plan))),
        h('p', { class: 'hint' }, 'Each plan is charged for the days it was active this month.'),
      ],
      confirmLabel: `Switch to ${plan.name}`,
    });
    if (!ok) return;
    try {
      await patch(`/api/v1/subscriptions/${enc(subscription.id)}`, { planId: plan.id });
      flash(`Your plan for ${page.name} is now ${plan.name}.`);
      messages.clear();
      await render();
    } catch (err) {
      messages.error(err);
    }
  }

  async function cancel(subscription, current) {
    const ok = await confirmDialog({
      title: `Cancel the subscription to ${page.name}?`,
      body: [
        h('p', {}, 'Plan ', h('strong', {}, subscription.planName), current ? [': ', h('span', { class: 'dialog-price' }, planPrice(current))] : ''),
        h('p', {}, 'Calls with your keys are refused from now on. Usage until now is still invoiced.'),
      ],
      confirmLabel: 'Cancel subscription',
      cancelLabel: 'Keep it',
      danger: true,
    });
    if (!ok) return;
    try {
      await del(`/api/v1/subscriptions/${enc(subscription.id)}`);
      flash(`Your subscription to ${page.name} is cancelled.`);
      messages.clear();
      await render();
      onSubscriptionChange();
    } catch (err) {
      messages.error(err);
    }
  }

  render().catch((err) => messages.error(err));
  return container;
}

function examples(slug, manifest) {
  const snippets = [
    ['curl', 'curl', curlExample(slug, manifest)],
    ['python', 'Python (requests)', pythonExample(slug, manifest)],
    ['javascript', 'JavaScript (fetch)', javascriptExample(slug, manifest)],
  ];
  return h('div', { id: 'examples' },
    h('p', {}, 'Set ', h('code', {}, 'MM_API_KEY'), ' to one of your key secrets. Without a version in the path a call goes to ',
      h('code', {}, 'latest'), '; add ', h('code', {}, '/versions/1.0.0'), ' (or an alias) to pin one.'),
    snippets.map(([id, title, code]) => {
      const codeId = uid(`example-${id}`);
      return h('div', { class: 'snippet', dataset: { language: id } },
        h('div', { class: 'actions' }, h('h3', {}, title), copyButton(() => code, `Copy ${title.split(' ')[0]}`, codeId)),
        h('pre', {}, h('code', { id: codeId }, code)));
    }));
}
