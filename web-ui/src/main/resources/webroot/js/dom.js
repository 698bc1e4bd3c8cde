// Building the page with DOM APIs only. Text always goes in as text nodes, so data from the API
// (names, descriptions, error messages) can never become markup. Nothing here uses innerHTML.

const SVG_NS = 'http://www.w3.org/2000/svg';
const BOOLEAN_PROPS = new Set(['checked', 'disabled', 'selected', 'required', 'readOnly', 'multiple', 'hidden', 'open']);

let sequence = 0;

/** A fresh element id. */
export function uid(prefix = 'el') {
  sequence += 1;
  return `${prefix}-${sequence}`;
}

/** An element: h('a', {href: '#/', class: 'x', on: {click}}, 'text', childNode, [more]). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  appendChildren(el, children);
  return el;
}

/** An SVG element (charts). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  appendChildren(el, children);
  return el;
}

function applyProps(el, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      el.className = value;
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value') {
      el.value = value;
    } else if (BOOLEAN_PROPS.has(key)) {
      el[key] = Boolean(value);
    } else if (key.startsWith('on')) {
      throw new Error(`event handlers go in props.on, not ${key}`);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A labelled form control: the label's `for` points at the control, a hint is aria-described. */
export function field(label, control, hint) {
  if (!control.id) control.id = uid('field');
  const parts = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('small', { id: hintId, class: 'hint' }, hint));
  }
  return h('div', { class: control.type === 'checkbox' ? 'field inline' : 'field' }, ...parts);
}

/** A <select> from [[value, label], ...]. */
export function select(options, props = {}) {
  const { value, ...rest } = props;
  const el = h('select', rest, options.map(([v, label]) => h('option', { value: v }, label)));
  if (value !== undefined) el.value = value;
  return el;
}

export function table(headers, rows, { caption, numeric = [] } = {}) {
  const head = h('tr', {}, headers.map((label, i) => h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : null }, label)));
  const body = rows.map((cells) => h('tr', {}, cells.map((cell, i) => h('td', { class: numeric.includes(i) ? 'num' : null }, cell))));
  return h('div', { class: 'table-wrap' },
    h('table', {}, caption ? h('caption', {}, caption) : null, h('thead', {}, head), h('tbody', {}, body)));
}

export function badge(text, kind) {
  return h('span', { class: kind ? `badge ${kind}` : 'badge' }, text);
}

/** The words of an API error (RFC 9457 problem) or any other failure, for people to read. */
export function problemWords(err) {
  const problem = err && err.problem ? err.problem : null;
  if (!problem) {
    return { title: 'Something went wrong', detail: err && err.message ? err.message : String(err), fields: [] };
  }
  const fields = Array.isArray(problem.errors)
    ? problem.errors.map((e) => ({ field: pointerName(e.pointer), detail: e.detail || '' }))
    : [];
  let detail = problem.detail || '';
  if (problem.reason && !detail.includes(problem.reason)) detail = `${detail} ${problem.reason}`.trim();
  return {
    title: problem.title || `The request failed (HTTP ${err.status})`,
    detail,
    check: problem.check,
    reason: problem.reason,
    fields,
    requestId: err.status >= 500 ? problem.requestId : null,
    retryAfter: err.retryAfter,
  };
}

function pointerName(pointer) {
  if (!pointer) return '';
  return pointer.replace(/^\//, '').split('/').join(' › ') || '(body)';
}

/** An alert box that says what went wrong, in words. */
export function errorBox(err) {
  const words = problemWords(err);
  return h('div', { class: 'alert error', role: 'alert' },
    h('strong', { class: 'error-title' }, words.title),
    words.detail ? h('p', { class: 'error-detail' }, words.detail) : null,
    words.fields.length ? h('ul', {}, words.fields.map((f) => h('li', {}, f.field ? `${f.field}: ${f.detail}` : f.detail))) : null,
    words.retryAfter ? h('p', {}, `Try again in ${words.retryAfter} seconds.`) : null,
    words.requestId ? h('span', { class: 'request-id' }, `Request id: ${words.requestId}`) : null);
}

export function okBox(...children) {
  return h('div', { class: 'alert ok', role: 'status' }, ...children);
}

export function infoBox(...children) {
  return h('div', { class: 'alert info' }, ...children);
}

/** A slot that shows one message at a time (errors announce themselves through role=alert). */
export function messageSlot() {
  const slot = h('div', { class: 'message-slot' });
  return {
    el: slot,
    error(err) { slot.replaceChildren(errorBox(err)); },
    ok(...children) { slot.replaceChildren(okBox(...children)); },
    clear() { slot.replaceChildren(); },
  };
}

let keepFlash = false;

/**
 * Shows a short confirmation above the page until the next navigation; with beforeNavigation it
 * is meant for the page about to be shown, and survives that one navigation.
 */
export function flash(message, beforeNavigation = false) {
  const el = document.getElementById('flash');
  if (el) el.textContent = message;
  keepFlash = beforeNavigation;
}

export function clearFlash() {
  const el = document.getElementById('flash');
  if (keepFlash) keepFlash = false;
  else if (el) el.textContent = '';
}

/**
 * A modal confirmation (native <dialog>: focus moves in, Escape cancels, focus returns after).
 * Resolves true when confirmed.
 */
export function confirmDialog({ title, body, confirmLabel = 'Confirm', cancelLabel = 'Cancel', danger = false }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid('dialog-title');
    const confirm = h('button', { type: 'submit', value: 'confirm', class: danger ? 'danger' : null, id: 'dialog-confirm' }, confirmLabel);
    const dialog = h('dialog', { 'aria-labelledby': titleId, class: 'confirm-dialog' },
      h('form', { method: 'dialog' },
        h('h2', { id: titleId }, title),
        h('div', { class: 'dialog-body' }, body),
        h('div', { class: 'actions' },
          confirm,
          h('button', { type: 'submit', value: 'cancel', class: 'secondary', id: 'dialog-cancel' }, cancelLabel))));
    dialog.addEventListener('close', () => {
      const confirmed = dialog.returnValue === 'confirm';
      dialog.remove();
      if (opener && typeof opener.focus === 'function' && opener.isConnected) opener.focus();
      resolve(confirmed);
    });
    document.body.append(dialog);
    dialog.showModal();
    confirm.focus();
  });
}

/** A copy button for some text; falls back to selecting the text when the clipboard is unavailable. */
export function copyButton(getText, label = 'Copy', describedBy) {
  const status = h('span', { class: 'hint copy-status', role: 'status' });
  const button = h('button', {
    type: 'button',
    class: 'secondary copy',
    'aria-describedby': describedBy,
    on: {
      click: async () => {
        const text = getText();
        try {
          await navigator.clipboard.writeText(text);
          status.textContent = 'Copied to the clipboard.';
        } catch (e) {
          status.textContent = legacyCopy(text) ? 'Copied to the clipboard.' : 'Could not copy: select the text and copy it yourself.';
        }
      },
    },
  }, label);
  return h('span', { class: 'copy-wrap' }, button, ' ', status);
}

function legacyCopy(text) {
  const area = h('textarea', { 'aria-hidden': 'true', readOnly: true });
  area.value = text;
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch (e) {
    ok = false;
  }
  area.remove();
  return ok;
}

/** A button that disables itself while its async action runs. */
export function actionButton(label, action, props = {}) {
  const button = h('button', { type: 'button', ...props }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await action();
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  return button;
}

/** Runs a form's async submit handler with its submit button disabled meanwhile. */
export function onSubmit(form, handler) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll('button[type="submit"]');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await handler(event);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return form;
}

/** A link to a route of this app. */
export function link(route, text, props = {}) {
  return h('a', { href: `#${route}`, ...props }, text);
}

export function section(title, ...children) {
  const id = uid('section');
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}
