// Pieces shared by the signed-in pages.

import { h, link } from '../dom.js';

export function signInFirst(title, route) {
  return h('div', {},
    h('h1', {}, title),
    h('p', {}, link(`/login?next=${encodeURIComponent(route)}`, 'Sign in', { id: 'sign-in-first' }), ' to see this page, or ',
      link('/signup', 'sign up'), ' for a new organisation.'));
}
