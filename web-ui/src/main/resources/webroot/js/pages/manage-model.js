// Managing one of the organisation's models: upload and validate versions, publish, deprecate and
// retire them, move aliases (rollback is one click), manage plans, edit the model card.

import { ApiError, canPublish, currentSession, del, get, patch, post, put, upload } from '../api.js';
import { badge, confirmDialog, errorBox, field, flash, h, link, messageSlot, okBox, onSubmit, section, select, table } from '../dom.js';
import { PRICE_TYPES, bytes, compareVersions, count, date, micros, parseMoney, planLimit, planPrice } from '../format.js';
import { cardForm } from './publisher.js';
import { signInFirst } from './common.js';
import { canarySection, gateFailureBox, gatesSection, isGateFailure } from './canary.js';

const enc = encodeURIComponent;

export async function manageModelPage({ args: [slug] }) {
  const session = currentSession();
  if (!session) return signInFirst('Manage model', `/publisher/models/${slug}`);
  if (!canPublish(session)) {
    return h('div', {}, h('h1', {}, 'Manage model'), h('p', {}, 'Publishing needs the owner, admin or publisher role.'));
  }
  const page = await get(`/api/v1/models/${enc(slug)}`);
  if (!page.owned) {
    return h('div', {}, h('h1', {}, page.name), h('p', {}, 'Only the organisation that publishes this model manages it. ',
      link(`/models/${enc(slug)}`, 'See its page'), '.'));
  }
  const isModel = page.kind !== 'algorithm';
  const versions = isModel ? versionsManager(page) : null;
  return h('div', {},
    h('h1', {}, `Manage ${page.name}`),
    h('p', {}, link(`/${isModel ? 'models' : 'algorithms'}/${enc(slug)}`, 'See the public page', { id: 'public-page-link' }), ' · ',
      link('/publisher', 'All your models'), ' · ', link('/audit', 'Audit log')),
    isModel ? section('Versions and aliases', versions.el) : null,
    isModel ? section('Upload a new version', uploadForm(page, () => versions.reload())) : null,
    isModel ? section('Publish gates', await gatesSection(page)) : null,
    isModel ? section('Canary', canarySection(page, () => versions.reload())) : null,
    section('Plans', await plansManager(page)),
    section('Model card', cardEditor(page)));
}

// ---- upload ---------------------------------------------------------------------------------

function uploadForm(page, onCreated) {
  const version = h('input', { type: 'text', id: 'upload-version', required: true, placeholder: '1.0.0', pattern: '\\d+\\.\\d+\\.\\d+', inputmode: 'decimal' });
  const file = h('input', { type: 'file', id: 'upload-file', required: true, accept: '.pt,.pth,.ts,.zip' });
  const manifest = h('textarea', { id: 'upload-manifest', rows: '8', spellcheck: 'false', placeholder: '{"name": "...", "inputs": [...], "outputs": [...], "example": {"inputs": [...]}}' });
  const manifestFile = h('input', { type: 'file', id: 'upload-manifest-file', accept: '.json,application/json' });
  manifestFile.addEventListener('change', async () => {
    if (manifestFile.files[0]) manifest.value = await manifestFile.files[0].text();
  });
  const progress = h('progress', { id: 'upload-progress', max: '100', value: '0', 'aria-labelledby': 'upload-status' });
  const status = h('p', { id: 'upload-status', class: 'upload-status', role: 'status' }, 'Nothing uploaded yet.');
  const result = h('div', { id: 'upload-result' });
  const progressBox = h('div', { hidden: true }, progress, status);

  const form = h('form', { id: 'upload-form', 'aria-label': 'Upload a new version' },
    h('p', {}, 'A TorchScript file (', h('code', {}, 'torch.jit.save'), ') with its manifest, or a bundle zip holding ',
      h('code', {}, 'model.pt'), ', ', h('code', {}, 'manifest.json'), ' and optionally ', h('code', {}, 'README.md'),
      '. The platform loads it, runs the manifest\'s example and checks the outputs against the declared schema before the version exists.'),
    h('div', { class: 'form-grid' },
      field('Version number', version, 'MAJOR.MINOR.PATCH; numbers are never reused.'),
      field('Model file', file, 'TorchScript (.pt) or bundle (.zip).')),
    field('Manifest (JSON)', manifest, 'Needed for a TorchScript file; a bundle carries its own.'),
    field('…or load the manifest from a file', manifestFile),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'upload-submit' }, 'Upload and validate')),
    progressBox,
    result);

  onSubmit(form, async () => {
    result.replaceChildren();
    const chosen = file.files[0];
    const isBundle = chosen && /\.zip$/i.test(chosen.name);
    let manifestJson = null;
    try {
      if (!/^\d+\.\d+\.\d+$/.test(version.value.trim())) {
        throw new ApiError(400, { title: 'Check the form', errors: [{ pointer: '/version', detail: 'must look like 1.0.0' }] });
      }
      if (!chosen) throw new ApiError(400, { title: 'Check the form', errors: [{ pointer: '/file', detail: 'choose the model file' }] });
      if (!isBundle) {
        if (!manifest.value.trim()) throw new ApiError(400, { title: 'Check the form', errors: [{ pointer: '/manifest', detail: 'a TorchScript file needs its manifest' }] });
        try {
          manifestJson = JSON.parse(manifest.value);
        } catch (e) {
          throw new ApiError(400, { title: 'The manifest is not valid JSON', detail: e.message });
        }
      }
    } catch (err) {
      result.replaceChildren(errorBox(err));
      return;
    }

    progressBox.hidden = false;
    progress.value = 0;
    status.textContent = `Uploading ${chosen.name} (${bytes(chosen.size)})… 0%`;
    let stored;
    try {
      stored = await upload('/api/v1/uploads', chosen, (fraction) => {
        progress.value = Math.round(fraction * 100);
        status.textContent = `Uploading ${chosen.name} (${bytes(chosen.size)})… ${Math.round(fraction * 100)}%`;
      });
    } catch (err) {
      status.textContent = 'The upload failed.';
      result.replaceChildren(errorBox(err));
      return;
    }
    status.textContent = `Uploaded 100% (${bytes(stored.sizeBytes)}, sha256 ${stored.sha256.slice(0, 12)}…). Validating: loading the model and running its example…`;
    const body = isBundle
      ? { version: version.value.trim(), bundleSha256: stored.sha256 }
      : { version: version.value.trim(), artifactSha256: stored.sha256, manifest: manifestJson };
    try {
      const created = await post(`/api/v1/models/${enc(page.slug)}/versions`, body);
      status.textContent = `Uploaded 100%. Version ${created.version} passed validation.`;
      result.replaceChildren(validated(page, created, onCreated));
      onCreated();
    } catch (err) {
      status.textContent = err.status === 422 ? 'Uploaded 100%. The platform refused this version.' : 'Uploaded 100%. The version was not created.';
      result.replaceChildren(refusal(err));
    }
  });
  return form;
}

function validated(page, version, onChange) {
  const m = version.measured;
  const slot = messageSlot();
  const publish = h('button', {
    type: 'button', id: 'publish-uploaded',
    on: {
      click: async () => {
        publish.disabled = true;
        try {
          await post(`/api/v1/models/${enc(page.slug)}/versions/${enc(version.version)}/publish`);
          slot.ok(`Version ${version.version} is published.`);
          flash(`Version ${version.version} of ${page.name} is published.`);
          publish.remove();
          onChange();
        } catch (err) {
          slot.error(err);
          publish.disabled = false;
        }
      },
    },
  }, `Publish ${version.version}`);
  return h('div', { id: 'validation-result' },
    okBox(h('strong', {}, `Validated: version ${version.version} is a draft.`),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Artifact'), h('dd', {}, `${bytes(m.artifactSizeBytes)}, sha256 ${version.artifact.sha256.slice(0, 16)}…`),
        h('dt', {}, 'Load time'), h('dd', {}, `${count(m.loadMillis)} ms`),
        h('dt', {}, 'Single-item latency'), h('dd', {}, micros(m.singleItemLatencyMicros))),
      h('p', {}, 'Drafts are visible to your organisation only. Publish it to put it on the market.')),
    h('div', { class: 'actions' }, publish),
    slot.el);
}

function refusal(err) {
  const problem = err.problem || {};
  return h('div', { id: 'upload-refusal' },
    errorBox(err),
    problem.check ? h('p', {}, 'Failed check: ', h('strong', { id: 'refusal-check' }, problem.check), '. Reason: ',
      h('span', { id: 'refusal-reason' }, problem.reason || problem.detail || '')) : null);
}

// ---- versions and aliases --------------------------------------------------------------------

function versionsManager(initial) {
  const el = h('div', { id: 'version-manager' });
  const messages = messageSlot();
  let page = initial;

  async function reload() {
    page = await get(`/api/v1/models/${enc(page.slug)}`);
    render();
  }

  async function act(label, action) {
    messages.clear();
    try {
      await action();
      flash(label);
      await reload();
    } catch (err) {
      if (isGateFailure(err)) {
        messages.el.replaceChildren(gateFailureBox(err, (reason) => act(label, () => action({ override: true, reason }))));
      } else {
        messages.error(err);
      }
    }
  }

  const state = (v, target) => act(`Version ${v.version} is ${target}.`,
    (extra) => post(`/api/v1/models/${enc(page.slug)}/versions/${enc(v.version)}/${target === 'published' ? 'publish' : target === 'deprecated' ? 'deprecate' : 'retire'}`, extra));
  const moveAlias = (alias, version, label) => act(label || `${alias} now points at ${version}.`,
    (extra) => put(`/api/v1/models/${enc(page.slug)}/aliases/${enc(alias)}`, { version, ...extra }));

  async function retire(v) {
    const ok = await confirmDialog({
      title: `Retire version ${v.version}?`,
      body: [h('p', {}, 'A retired version stops serving at once; calls pinned to it get 410 Gone. It cannot be published again.'),
        h('p', { class: 'hint' }, 'Move any alias that points at it first.')],
      confirmLabel: `Retire ${v.version}`,
      danger: true,
    });
    if (ok) await state(v, 'retired');
  }

  function render() {
    const aliases = page.aliases || {};
    const latest = aliases.latest;
    const serving = page.versions.filter((v) => v.state === 'published' || v.state === 'deprecated');
    const sorted = [...page.versions].sort((a, b) => compareVersions(b.version, a.version));
    const rows = sorted.map((v) => {
      const buttons = [];
      const button = (text, cls, onClick) => h('button', { type: 'button', class: cls, dataset: { version: v.version }, on: { click: onClick } }, text);
      if (v.state === 'draft') buttons.push(button(`Publish ${v.version}`, 'publish', () => state(v, 'published')));
      if (v.state === 'published') buttons.push(button(`Deprecate ${v.version}`, 'secondary deprecate', () => state(v, 'deprecated')));
      if (v.state === 'published' || v.state === 'deprecated') buttons.push(button(`Retire ${v.version}`, 'danger retire', () => retire(v)));
      if ((v.state === 'published' || v.state === 'deprecated') && latest !== v.version) {
        const back = latest && compareVersions(v.version, latest) < 0;
        const text = back ? `Roll back latest to ${v.version}` : `Point latest at ${v.version}`;
        buttons.push(button(text, back ? 'rollback' : 'secondary move-latest',
          () => moveAlias('latest', v.version, back ? `Rolled back: latest now answers with ${v.version}.` : `latest now points at ${v.version}.`)));
      }
      return [
        h('strong', {}, v.version),
        badge(v.state, `state-${v.state}`),
        Object.entries(aliases).filter(([, target]) => target === v.version).map(([a]) => badge(a)),
        `${bytes(v.measured.artifactSizeBytes)} · ${count(v.measured.loadMillis)} ms load · ${micros(v.measured.singleItemLatencyMicros)}`,
        date(v.createdAt),
        h('span', { class: 'actions' }, buttons),
      ];
    });
    const aliasRows = Object.entries(aliases).map(([alias, target]) => {
      const choice = select(serving.map((v) => [v.version, v.version]), { value: target, 'aria-label': `Version for alias ${alias}` });
      return [h('code', {}, alias), target, h('span', { class: 'actions' }, choice,
        h('button', { type: 'button', class: 'secondary', on: { click: () => moveAlias(alias, choice.value) } }, `Move ${alias}`),
        h('button', { type: 'button', class: 'link', on: { click: () => act(`Alias ${alias} deleted.`, () => del(`/api/v1/models/${enc(page.slug)}/aliases/${enc(alias)}`)) } }, `Delete ${alias}`))];
    });
    const newAlias = h('input', { type: 'text', id: 'alias-name', placeholder: 'stable', pattern: '[a-z][a-z0-9_-]*', required: true });
    const newTarget = select(serving.map((v) => [v.version, v.version]), { id: 'alias-version' });
    const aliasForm = onSubmit(h('form', { 'aria-label': 'Create or move an alias' },
      h('div', { class: 'form-grid' }, field('Alias', newAlias, 'Lower-case letters, digits, "-" or "_".'), field('Version', newTarget)),
      h('div', { class: 'actions' }, h('button', { type: 'submit', disabled: !serving.length }, 'Set alias'))),
    () => moveAlias(newAlias.value.trim(), newTarget.value));

    el.replaceChildren(
      messages.el,
      page.versions.length
        ? table(['Version', 'State', 'Aliases', 'Measured', 'Created', 'Actions'], rows)
        : h('p', { class: 'empty' }, 'No versions yet. Upload the first one above.'),
      h('h3', {}, 'Aliases'),
      h('p', { class: 'hint' }, 'Calls without a version go to latest. Moving an alias takes effect for the next request, so a rollback is one click.'),
      aliasRows.length ? table(['Alias', 'Version', 'Move to'], aliasRows) : h('p', { class: 'empty' }, 'No aliases yet: publishing a version creates latest.'),
      aliasForm);
  }

  render();
  return { el, reload: () => reload().catch((err) => messages.error(err)) };
}

// ---- plans -----------------------------------------------------------------------------------

async function plansManager(page) {
  const el = h('div', { id: 'plan-manager' });
  const messages = messageSlot();
  const listSlot = h('div');

  async function reload() {
    const plans = (await get(`/api/v1/models/${enc(page.slug)}/plans`)).items;
    listSlot.replaceChildren(plans.length
      ? table(['Plan', 'Price', 'Limit', ''], plans.map((p) => [h('strong', {}, p.name), planPrice(p), planLimit(p),
        h('button', { type: 'button', class: 'danger', on: { click: () => archive(p) } }, `Archive ${p.name}`)]))
      : h('p', { class: 'empty' }, 'No plans: nobody can subscribe yet.'));
  }

  async function archive(plan) {
    const ok = await confirmDialog({
      title: `Archive the ${plan.name} plan?`,
      body: h('p', {}, `${planPrice(plan)}. Nobody can subscribe to it any more; current subscribers keep it until they change.`),
      confirmLabel: 'Archive plan',
      danger: true,
    });
    if (!ok) return;
    try {
      await del(`/api/v1/models/${enc(page.slug)}/plans/${enc(plan.id)}`);
      flash(`The ${plan.name} plan is archived.`);
      await reload();
    } catch (err) {
      messages.error(err);
    }
  }

  const name = h('input', { type: 'text', id: 'plan-name', required: true, maxlength: '100' });
  const type = select(PRICE_TYPES, { id: 'plan-type', value: 'free' });
  const currency = h('input', { type: 'text', id: 'plan-currency', value: 'EUR', required: true, maxlength: '3', pattern: '[A-Z]{3}', autocapitalize: 'characters' });
  const fee = h('input', { type: 'text', id: 'plan-fee', inputmode: 'decimal', value: '0' });
  const included = h('input', { type: 'number', id: 'plan-included', min: '0', step: '1', value: '1000' });
  const price = h('input', { type: 'text', id: 'plan-price', inputmode: 'decimal', value: '0' });
  const rate = h('input', { type: 'number', id: 'plan-rate', min: '0', step: '1', value: '60' });
  const fields = {
    fee: field('Monthly fee', fee, 'In the currency, e.g. 49.00.'),
    included: field('Included calls per month', included),
    price: field('Price per 1,000 calls', price, 'In the currency, e.g. 0.50.'),
  };
  const toggle = () => {
    fields.fee.hidden = type.value !== 'monthly';
    fields.included.hidden = type.value === 'pay_as_you_go';
    fields.price.hidden = type.value === 'free';
  };
  type.addEventListener('change', toggle);
  toggle();
  const form = onSubmit(h('form', { id: 'plan-form', 'aria-label': 'New plan' },
    h('div', { class: 'form-grid' }, field('Name', name), field('Type', type), field('Currency (ISO 4217)', currency),
      fields.fee, fields.included, fields.price, field('Requests per minute', rate, '0 means no per-minute limit.')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'plan-create' }, 'Add plan'))), async () => {
    messages.clear();
    const c = currency.value.trim().toUpperCase();
    const body = { name: name.value.trim(), type: type.value, currency: c, rateLimitPerMinute: Number(rate.value || 0) };
    const money = (input, pointer) => {
      const minor = parseMoney(input.value, c);
      if (Number.isNaN(minor)) throw new ApiError(400, { title: 'Check the form', errors: [{ pointer, detail: 'is not an amount in this currency' }] });
      return minor;
    };
    try {
      if (type.value === 'monthly') body.monthlyFeeMinor = money(fee, '/monthlyFee');
      if (type.value !== 'pay_as_you_go') body.includedCalls = Number(included.value || 0);
      if (type.value !== 'free') body.pricePer1000Minor = money(price, '/pricePer1000');
      const plan = await post(`/api/v1/models/${enc(page.slug)}/plans`, body);
      flash(`The ${plan.name} plan is on offer: ${planPrice(plan)}.`);
      form.reset();
      toggle();
      await reload();
    } catch (err) {
      messages.error(err);
    }
  });
  await reload();
  el.append(messages.el, listSlot, h('h3', {}, 'Add a plan'), form);
  return el;
}

// ---- model card -----------------------------------------------------------------------------

function cardEditor(page) {
  const card = cardForm(page);
  const messages = messageSlot();
  onSubmit(card.form, async () => {
    messages.clear();
    try {
      await patch(`/api/v1/models/${enc(page.slug)}`, card.values());
      messages.ok('The model card is saved.');
    } catch (err) {
      messages.error(err);
    }
  });
  return h('div', { id: 'card-editor' }, messages.el, card.form);
}
