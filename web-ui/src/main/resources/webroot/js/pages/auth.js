// Sign up and sign in.

import { currentSession, logIn, signUp } from '../api.js';
import { field, flash, h, link, messageSlot, onSubmit } from '../dom.js';

/** Where to go after signing in: only a route of this app ("/models/x"), never another site. */
function nextRoute(params) {
  const next = params.get('next') || '/';
  return /^\/[A-Za-z0-9/_.~%-]*$/.test(next) && !next.startsWith('//') ? next : '/';
}

export async function loginPage({ params, navigate }) {
  const session = currentSession();
  if (session) {
    return h('div', {}, h('h1', {}, 'You are signed in'),
      h('p', {}, `As ${session.email || 'a member'} of ${session.tenant ? session.tenant.name : 'your organisation'}. `, link('/', 'Go to the catalog'), '.'));
  }
  const email = h('input', { type: 'email', id: 'login-email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', id: 'login-password', name: 'password', autocomplete: 'current-password', required: true });
  const messages = messageSlot();
  const form = h('form', { class: 'narrow', id: 'login-form', 'aria-label': 'Sign in' },
    messages.el,
    field('E-mail address', email),
    field('Password', password),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'login-submit' }, 'Sign in')));
  onSubmit(form, async () => {
    messages.clear();
    try {
      await logIn(email.value.trim(), password.value);
      flash('Welcome back.', true);
      navigate(nextRoute(params));
    } catch (err) {
      messages.error(err);
      password.focus();
    }
  });
  return h('div', {}, h('h1', {}, 'Sign in'), form,
    h('p', {}, 'New here? ', link('/signup', 'Create an organisation'), '.'));
}

export async function signupPage({ params, navigate }) {
  const organisation = h('input', { type: 'text', id: 'signup-organisation', name: 'organisation', autocomplete: 'organization', required: true, maxlength: '200' });
  const displayName = h('input', { type: 'text', id: 'signup-name', name: 'displayName', autocomplete: 'name', maxlength: '200' });
  const email = h('input', { type: 'email', id: 'signup-email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', id: 'signup-password', name: 'password', autocomplete: 'new-password', required: true, minlength: '10', maxlength: '200' });
  const messages = messageSlot();
  const form = h('form', { class: 'narrow', id: 'signup-form', 'aria-label': 'Sign up' },
    messages.el,
    field('Organisation', organisation, 'Your company or team; you become its owner.'),
    field('Your name', displayName, 'Optional.'),
    field('E-mail address', email),
    field('Password', password, '10 to 200 characters.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'signup-submit' }, 'Create organisation')));
  onSubmit(form, async () => {
    messages.clear();
    try {
      await signUp({
        organisation: organisation.value.trim(),
        email: email.value.trim(),
        password: password.value,
        displayName: displayName.value.trim() || undefined,
      });
      flash(`Welcome to ModelMarket. ${organisation.value.trim()} is ready.`, true);
      navigate(nextRoute(params));
    } catch (err) {
      messages.error(err);
    }
  });
  return h('div', {}, h('h1', {}, 'Sign up'),
    h('p', {}, 'One account per organisation to start with; invite your colleagues afterwards.'),
    form,
    h('p', {}, 'Already have an account? ', link('/login', 'Sign in'), '.'));
}
