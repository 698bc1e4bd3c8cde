// The HTTP API and the signed-in session.
//
// The access token lives in this module's memory only. The refresh token is an HttpOnly cookie
// (mm_refresh, Path=/api/v1/auth) that scripts cannot read: after a reload, POST /api/v1/auth/refresh
// with no body restores the session. Nothing is ever written to localStorage or sessionStorage.

/** An API failure: the HTTP status and the RFC 9457 problem the server sent (or one made up here). */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  static async from(response) {
    let problem = null;
    const type = response.headers.get('Content-Type') || '';
    if (type.includes('json')) {
      try {
        problem = await response.json();
      } catch (e) {
        problem = null;
      }
    }
    if (!problem || typeof problem !== 'object') {
      problem = { title: `The server answered ${response.status} ${response.statusText || ''}`.trim() };
    }
    return new ApiError(response.status, problem, response.headers.get('Retry-After'));
  }
}

let session = null; // {accessToken, userId, tenantId, role, email, tenant: {name, slug}}
let refreshTimer = null;
let refreshing = null;
const listeners = new Set();

export function currentSession() {
  return session;
}

export function onSessionChange(listener) {
  listeners.add(listener);
}

function setSession(next) {
  session = next;
  clearTimeout(refreshTimer);
  if (session && session.expiresIn) {
    // renew a minute before the access token expires, so open pages keep working
    const delay = Math.max(30, session.expiresIn - 60) * 1000;
    refreshTimer = setTimeout(() => { refreshSession(); }, delay);
  }
  listeners.forEach((listener) => listener(session));
}

async function adopt(sessionJson, email) {
  const previous = session;
  setSession({
    accessToken: sessionJson.accessToken,
    expiresIn: sessionJson.expiresIn,
    userId: sessionJson.userId,
    tenantId: sessionJson.tenantId,
    role: sessionJson.role,
    email: email || (previous && previous.userId === sessionJson.userId ? previous.email : null),
    tenant: previous && previous.tenantId === sessionJson.tenantId ? previous.tenant : null,
  });
  const mine = session;
  const [tenant, me] = await Promise.all([
    get('/api/v1/tenant').catch(() => null),
    mine.email ? Promise.resolve(null) : get(`/api/v1/members/${encodeURIComponent(mine.userId)}`).catch(() => null),
  ]);
  if (session === mine) {
    setSession({ ...mine, tenant: tenant || mine.tenant, email: mine.email || (me && me.email) || null });
  }
}

/** Restores the session from the refresh cookie; false (and no noise) when there is none. */
export function refreshSession() {
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const response = await fetch('/api/v1/auth/refresh', { method: 'POST', credentials: 'same-origin' });
        if (!response.ok) {
          if (session) setSession(null);
          return false;
        }
        await adopt(await response.json());
        return true;
      } catch (e) {
        return false;
      } finally {
        refreshing = null;
      }
    })();
  }
  return refreshing;
}

export async function signUp({ organisation, email, password, displayName }) {
  const body = await json('POST', '/api/v1/auth/signup', { body: { organisation, email, password, displayName }, auth: false });
  await adopt(body.session, email);
  return body;
}

export async function logIn(email, password) {
  const body = await json('POST', '/api/v1/auth/login', { body: { email, password }, auth: false });
  await adopt(body, email);
  return body;
}

export async function logOut() {
  try {
    // with an expired access token this refreshes first, so the server really ends the session
    if (session) await request('POST', '/api/v1/auth/logout');
  } finally {
    setSession(null);
  }
}

/** A fetch of the API with the access token; throws ApiError for any non-2xx answer. */
export async function request(method, path, { body, headers = {}, auth = true, retry = true, signal } = {}) {
  const sent = { Accept: 'application/json, application/problem+json', ...headers };
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  if (auth && session) sent.Authorization = `Bearer ${session.accessToken}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { title: 'The server could not be reached', detail: `${e.message}. Check your connection and try again.` });
  }
  if (response.status === 401 && auth && session && retry) {
    if (await refreshSession()) return request(method, path, { body, headers, auth, retry: false, signal });
  }
  if (!response.ok) throw await ApiError.from(response);
  return response;
}

export async function json(method, path, options) {
  const response = await request(method, path, options);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, options) => json('GET', path, options);
export const post = (path, body, options = {}) => json('POST', path, { ...options, body });
export const patch = (path, body, options = {}) => json('PATCH', path, { ...options, body });
export const put = (path, body, options = {}) => json('PUT', path, { ...options, body });
export const del = (path, options) => json('DELETE', path, options);

/** GET that answers null for 404 (an API that this server does not offer yet, or a missing resource). */
export async function getOrNull(path) {
  try {
    return await get(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/**
 * Uploads a file as the raw request body with XMLHttpRequest, which (unlike fetch) reports upload
 * progress. onProgress(fraction) is called as bytes leave the browser.
 */
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    if (session) xhr.setRequestHeader('Authorization', `Bearer ${session.accessToken}`);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch (e) {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body);
      } else {
        reject(new ApiError(xhr.status, body && typeof body === 'object' ? body : { title: `The upload failed (HTTP ${xhr.status})` },
          xhr.getResponseHeader('Retry-After')));
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, {
      title: 'The upload was interrupted',
      detail: 'The connection closed before the server answered (a file over the size limit is cut off this way).',
    })));
    xhr.send(file);
  });
}

/**
 * Downloads a file the API only hands out with the access token (a plain link would not send it):
 * fetched, then given to the browser as a file.
 */
export async function download(path, filename, accept = 'text/csv') {
  const response = await request('GET', path, { headers: { Accept: accept } });
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Roles that may manage keys, members and subscriptions; roles that may publish. */
export const canManage = (s) => Boolean(s && (s.role === 'owner' || s.role === 'admin'));
export const canPublish = (s) => Boolean(s && (s.role === 'owner' || s.role === 'admin' || s.role === 'publisher'));
