// The catalog home: search, filters and model cards.

import { get } from '../api.js';
import { badge, errorBox, field, h, link, onSubmit, select } from '../dom.js';
import { PRICE_TYPES, TASKS, planPrice, priceTypeLabel, taskLabel } from '../format.js';

const FILTERS = ['q', 'task', 'tag', 'publisher', 'priceType', 'kind', 'sort'];

/** Publishers of the models seen in the catalog, for model pages (whose API answer does not name it). */
export const publishersSeen = new Map();

export async function catalogPage({ params, navigate }) {
  const form = filterForm(params, navigate);
  const results = h('div', { id: 'catalog-results', 'aria-live': 'polite' });
  const query = new URLSearchParams();
  for (const name of FILTERS) {
    if (params.get(name)) query.set(name, params.get(name));
  }
  query.set('limit', '24');

  const list = h('ul', { class: 'cards', id: 'catalog-cards' });
  const more = h('div', { class: 'actions' });
  const status = h('p', { class: 'hint', id: 'catalog-count' });
  results.append(status, list, more);

  async function load(cursor) {
    const q = new URLSearchParams(query);
    if (cursor) q.set('cursor', cursor);
    let page;
    try {
      page = await get(`/api/v1/catalog?${q}`);
    } catch (err) {
      results.replaceChildren(errorBox(err));
      return;
    }
    page.items.forEach((item) => list.append(card(item)));
    const shown = list.children.length;
    status.textContent = shown === 0 ? '' : `${shown} ${shown === 1 ? 'result' : 'results'}${page.nextCursor ? ' so far' : ''}`;
    if (shown === 0) {
      results.replaceChildren(h('p', { class: 'empty', id: 'catalog-empty' },
        params.toString() ? 'Nothing matches these filters. Try fewer words or clear the filters.' : 'The catalog is empty for now.'));
      return;
    }
    more.replaceChildren(page.nextCursor
      ? h('button', { type: 'button', class: 'secondary', on: { click: () => load(page.nextCursor) } }, 'Show more')
      : '');
  }
  await load(null);

  return h('div', {},
    h('h1', {}, 'Model catalog'),
    h('p', {}, 'Trained models and algorithms from independent publishers, served behind one API. Subscribe to a plan, create a key, and call any of them with the Open Inference Protocol.'),
    form,
    results);
}

function filterForm(params, navigate) {
  const q = h('input', { type: 'search', name: 'q', value: params.get('q') || '', placeholder: 'e.g. digits "handwritten" -cnn', id: 'search-q' });
  const task = select([['', 'Any task'], ...TASKS], { name: 'task', value: params.get('task') || '', id: 'filter-task' });
  const tag = h('input', { type: 'text', name: 'tag', value: params.get('tag') || '', id: 'filter-tag' });
  const publisher = h('input', { type: 'text', name: 'publisher', value: params.get('publisher') || '', id: 'filter-publisher', placeholder: 'organisation slug' });
  const priceType = select([['', 'Any price'], ...PRICE_TYPES], { name: 'priceType', value: params.get('priceType') || '', id: 'filter-price' });
  const kind = select([['', 'Models and algorithms'], ['model', 'Models'], ['algorithm', 'Algorithms']], { name: 'kind', value: params.get('kind') || '', id: 'filter-kind' });
  const sort = select([['', 'Default'], ['newest', 'Newest'], ['popular', 'Most subscribed'], ['relevance', 'Relevance']],
    { name: 'sort', value: params.get('sort') || '', id: 'filter-sort' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Search the catalog' },
    field('Search', q),
    field('Task', task),
    field('Tag', tag),
    field('Publisher', publisher),
    field('Price', priceType),
    field('Kind', kind),
    field('Sort by', sort),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', id: 'search-submit' }, 'Search'),
      h('a', { href: '#/', class: 'button secondary' }, 'Clear filters')));
  return onSubmit(form, () => {
    const next = new URLSearchParams();
    for (const control of [q, task, tag, publisher, priceType, kind, sort]) {
      if (control.value.trim()) next.set(control.name, control.value.trim());
    }
    const query = next.toString();
    navigate(query ? `/?${query}` : '/');
  });
}

function card(item) {
  publishersSeen.set(item.slug, item.publisher);
  const route = `/${item.kind === 'algorithm' ? 'algorithms' : 'models'}/${encodeURIComponent(item.slug)}`;
  const price = h('p', { class: 'price' },
    item.priceTypes.length ? item.priceTypes.map((t) => badge(priceTypeLabel(t))) : h('span', { class: 'hint' }, 'No plans yet'));
  // The catalog item names the plan types only; the prices come from the model's plans.
  if (item.priceTypes.length) fillPrices(item.slug, price);
  return h('li', { class: 'card', dataset: { slug: item.slug } },
    h('h2', {}, link(route, item.name, { class: 'card-link' })),
    h('p', { class: 'meta' },
      `by ${item.publisher ? item.publisher.name : 'unknown'}`,
      item.latestVersion ? ` · v${item.latestVersion}` : ' · no published version',
      ` · ${taskLabel(item.task)}`),
    item.summary ? h('p', { class: 'summary' }, item.summary) : null,
    h('p', { class: 'meta' },
      item.kind === 'algorithm' ? badge('algorithm') : null,
      item.visibility !== 'public' ? badge(item.visibility) : null,
      item.tags.map((t) => badge(`#${t}`))),
    price);
}

async function fillPrices(slug, target) {
  try {
    const plans = (await get(`/api/v1/models/${encodeURIComponent(slug)}/plans`)).items;
    if (plans.length) target.replaceChildren(...plans.map((p, i) => h('span', {}, i ? ' · ' : '', h('strong', {}, p.name), `: ${planPrice(p)}`)));
  } catch (e) {
    // the plan-type badges already say what kind of price it has
  }
}
