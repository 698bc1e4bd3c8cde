// The single-page app: hash routes (#/models/x), the navigation, and session restore at start.

import { canManage, canPublish, currentSession, logOut, onSessionChange, refreshSession } from './api.js';
import { clearFlash, errorBox, flash, h, link } from './dom.js';
import { catalogPage } from './pages/catalog.js';
import { modelPage } from './pages/model.js';
import { loginPage, signupPage } from './pages/auth.js';
import { keysPage } from './pages/keys.js';
import { subscriptionsPage } from './pages/subscriptions.js';
import { usagePage } from './pages/usage.js';
import { invoicesPage } from './pages/invoices.js';
import { orgPage } from './pages/org.js';
import { publisherPage } from './pages/publisher.js';
import { manageModelPage } from './pages/manage-model.js';
import { auditPage } from './pages/audit.js';
import { trainingJobPage, trainingPage } from './pages/training.js';
import { evaluationPage, evaluationsPage } from './pages/evaluation.js';

const ROUTES = [
  [/^\/$/, catalogPage, 'Catalog'],
  [/^\/models\/([^/]+)$/, modelPage, 'Model'],
  [/^\/algorithms\/([^/]+)$/, modelPage, 'Algorithm'],
  [/^\/login$/, loginPage, 'Sign in'],
  [/^\/signup$/, signupPage, 'Sign up'],
  [/^\/subscriptions$/, subscriptionsPage, 'Subscriptions'],
  [/^\/keys$/, keysPage, 'API keys'],
  [/^\/usage$/, usagePage, 'Usage'],
  [/^\/invoices$/, invoicesPage, 'Invoices'],
  [/^\/org$/, orgPage, 'Organisation'],
  [/^\/publisher$/, publisherPage, 'Publisher console'],
  [/^\/publisher\/models\/([^/]+)$/, manageModelPage, 'Manage model'],
  [/^\/audit$/, auditPage, 'Audit log'],
  [/^\/training$/, trainingPage, 'Training'],
  [/^\/training-jobs\/([^/]+)$/, trainingJobPage, 'Training job'],
  [/^\/evaluations$/, evaluationsPage, 'Evaluations'],
  [/^\/evaluations\/([^/]+)$/, evaluationPage, 'Evaluation'],
];

let renderCount = 0;

/** The route and its query: "#/models/x?tab=y" → {path: "/models/x", params}. */
export function currentRoute() {
  const hash = window.location.hash;
  const raw = hash.startsWith('#/') ? hash.slice(1) : '/';
  const q = raw.indexOf('?');
  return { path: q < 0 ? raw : raw.slice(0, q), params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

export function navigate(route) {
  if (window.location.hash === `#${route}`) {
    clearFlash();
    render();
  } else {
    window.location.hash = route;
  }
}

async function render() {
  const mine = ++renderCount;
  const { path, params } = currentRoute();
  const main = document.getElementById('main-content');
  const match = ROUTES.map(([pattern, page, name]) => ({ m: pattern.exec(path), page, name })).find((r) => r.m);
  updateNav(path);
  main.setAttribute('aria-busy', 'true');
  let view;
  try {
    view = match
      ? await match.page({ args: match.m.slice(1).map(decodeURIComponent), params, navigate, refresh: render })
      : h('div', {}, h('h1', { tabindex: '-1' }, 'Page not found'), h('p', {}, 'There is nothing at this address. ', link('/', 'Go to the catalog'), '.'));
  } catch (err) {
    view = h('div', {}, h('h1', { tabindex: '-1' }, 'This page could not be shown'), errorBox(err),
      h('p', {}, link('/', 'Back to the catalog')));
  }
  if (mine !== renderCount) return; // a newer navigation won
  main.replaceChildren(view);
  main.removeAttribute('aria-busy');
  main.dataset.route = window.location.hash.slice(1) || '/'; // which route is on screen (tests wait for it)
  const heading = main.querySelector('h1');
  document.title = heading ? `${heading.textContent} · ModelMarket` : 'ModelMarket';
  if (heading && (navigatedByUser || document.activeElement === document.body)) {
    if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
  navigatedByUser = false;
}

let navigatedByUser = false;

function updateNav(path) {
  const nav = document.getElementById('site-nav');
  const session = currentSession();
  const here = (route) => route === path || (route !== '/' && path.startsWith(`${route}/`));
  const item = (route, text, also = []) => link(route, text, { 'aria-current': here(route) || also.some(here) ? 'page' : null });
  const items = [item('/', 'Catalog')];
  if (session) {
    if (canManage(session)) items.push(item('/subscriptions', 'Subscriptions'), item('/keys', 'API keys'));
    items.push(item('/training', 'Training', ['/training-jobs']), item('/evaluations', 'Evaluations'), item('/usage', 'Usage'), item('/invoices', 'Invoices'), item('/org', 'Organisation'));
    if (canPublish(session)) items.push(item('/publisher', 'Publisher'));
    const who = session.email || 'signed in';
    const org = session.tenant ? ` · ${session.tenant.name}` : '';
    items.push(h('span', { class: 'who', id: 'who' }, `${who}${org} (${session.role})`));
    items.push(h('button', {
      type: 'button',
      id: 'logout',
      on: {
        click: async () => {
          await logOut().catch(() => null);
          flash('You are signed out.', true);
          navigate('/');
        },
      },
    }, 'Log out'));
  } else {
    items.push(h('span', { class: 'who' }), item('/login', 'Sign in'), item('/signup', 'Sign up'));
  }
  nav.replaceChildren(...items);
}

window.addEventListener('hashchange', () => {
  // Only "#/…" is a route; other fragments (the skip link's) stay on the page.
  if (window.location.hash === '' || window.location.hash.startsWith('#/')) {
    navigatedByUser = true;
    clearFlash();
    render();
  }
});

document.getElementById('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  document.getElementById('main-content').focus();
});

let lastSession = null;
onSessionChange((session) => {
  const changedUser = (lastSession && lastSession.userId) !== (session && session.userId);
  lastSession = session;
  updateNav(currentRoute().path);
  if (changedUser && started) render();
});

let started = false;

async function start() {
  await refreshSession(); // restores a session from the HttpOnly refresh cookie, if there is one
  lastSession = currentSession();
  started = true;
  await render();
  document.body.dataset.ready = 'true';
}

start();
