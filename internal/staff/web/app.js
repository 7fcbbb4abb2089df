// Staff inbox: signs staff in with Cognito's JSON API, then lists leads and
// shows one lead from the staff API. Plain DOM, no framework. Every value
// from a lead reaches the page through textContent or an attribute, never as
// markup. Tokens live in memory and sessionStorage only; nothing about a lead
// is ever stored, and the only lead data in a URL is its id in the hash.
'use strict';

(() => {
  const SESSION_KEY = 'leadpipe.staff.session';
  const NOTE_MAX = 2000;
  const PASSWORD_MIN = 12;
  const PAGE_SIZE = 50;
  const REQUEST_TIMEOUT_MS = 30000;
  const STATUS_LABELS = {
    new: 'New',
    contacted: 'Contacted',
    scheduled: 'Scheduled',
    closed: 'Closed',
    not_a_fit: 'Not a fit',
    spam: 'Spam',
  };
  const KINDS = [['', 'All forms'], ['contact', 'Contact'], ['consultation', 'Consultation']];
  const LEAD_ROUTE = /^#\/leads\/([A-Za-z0-9-]{1,64})$/;

  const state = {
    config: null,
    session: null, // {accessToken, refreshToken, expiresAt, username}
    challenge: null, // a sign-in in progress: {name, session, username, email, secret}
    list: { status: 'new', kind: '', leads: [], next: '' },
    lead: null, // the lead on screen
    gen: 0, // bumped on every new screen and on sign-out: answers for an older screen are dropped
    lastActivity: Date.now(),
    savedActivity: 0,
    idleTimer: 0,
    idleWarned: false,
    refreshing: null,
    returnFocusId: '',
  };

  let $view, $notice, $problem, $account, $who;

  // ---------------------------------------------------------------- DOM

  // el builds an element. attrs: "text" sets textContent, "class" the class
  // list, "on<event>" adds a listener, true sets an empty attribute, and
  // false/null/undefined leave the attribute out.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === false || value == null) continue;
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // say shows calm news (role=status); problem shows what went wrong
  // (role=alert). A fresh child node each time makes screen readers announce
  // a repeated message again.
  function say(text) {
    if (text) $notice.replaceChildren(el('p', { text }));
    else $notice.replaceChildren();
  }
  function problem(text) {
    if (text) $problem.replaceChildren(el('p', { text }));
    else $problem.replaceChildren();
  }
  function clearMessages() {
    say('');
    problem('');
  }

  function show(node, title) {
    $view.replaceChildren(node);
    document.title = title ? title + ' · Staff inbox' : 'Staff inbox';
  }

  function focus(node) {
    if (!node) return;
    node.focus({ preventScroll: false });
  }

  function charCount(text) {
    return Array.from(text).length;
  }

  let timeFormat = null;
  // formatTime shows an RFC 3339 time in the clinic's time zone (config
  // timeZone), or UTC, the way the server formats receivedLocal.
  function formatTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    if (!timeFormat) {
      const opts = { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' };
      try {
        timeFormat = new Intl.DateTimeFormat('en-US', { ...opts, timeZone: (state.config && state.config.timeZone) || 'UTC' });
      } catch {
        timeFormat = new Intl.DateTimeFormat('en-US', { ...opts, timeZone: 'UTC' });
      }
    }
    return timeFormat.format(d);
  }

  function timeEl(iso, attrs) {
    return el('time', { datetime: iso || false, ...attrs, text: formatTime(iso) || 'Unknown time' });
  }

  function statusLabel(s) {
    return STATUS_LABELS[s] || s || '';
  }

  // ---------------------------------------------------------------- Cognito

  class CognitoError extends Error {
    constructor(type, message) {
      super(message || type);
      this.type = type;
    }
  }

  async function cognito(op, body) {
    const c = state.config;
    const endpoint = c.cognitoEndpoint || `https://cognito-idp.${c.region}.amazonaws.com/`;
    let res;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': 'AWSCognitoIdentityProviderService.' + op,
        },
        body: JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
        signal: timeoutSignal(),
      });
    } catch {
      throw new CognitoError('NetworkError', '');
    }
    let data = {};
    try {
      data = await res.json();
    } catch {
      data = {};
    }
    if (!res.ok) {
      // __type is "NotAuthorizedException" or "prefix#NotAuthorizedException".
      const type = String((data && data.__type) || 'UnknownError').split('#').pop().split(':')[0];
      throw new CognitoError(type, String((data && (data.message || data.Message)) || ''));
    }
    return data || {};
  }

  // cognitoMessage turns a Cognito error into words for staff. step is
  // "password" while the password itself is checked: there an
  // InvalidPasswordException (what cognito-local answers for a wrong
  // password) means a wrong password, not one that breaks the policy.
  function cognitoMessage(err, step) {
    const m = (err && err.message) || '';
    if (step === 'password' && err && err.type === 'InvalidPasswordException') {
      return 'That email address and password do not match. Check them and try again.';
    }
    switch (err && err.type) {
      case 'NetworkError':
        return 'We could not reach the sign-in service. Check your connection and try again.';
      case 'NotAuthorizedException':
        if (/attempts exceeded/i.test(m)) return 'Too many attempts. Please wait a few minutes, then try again.';
        if (/session/i.test(m)) return 'This sign-in took too long and has expired. Please sign in again.';
        if (/disabled/i.test(m)) return 'This account is switched off. Please ask the person who manages staff accounts.';
        if (/refresh token/i.test(m)) return 'Your sign-in has ended. Please sign in again.';
        return 'That email address and password do not match. Check them and try again.';
      case 'UserNotFoundException':
        return 'That email address and password do not match. Check them and try again.';
      case 'CodeMismatchException':
      case 'EnableSoftwareTokenMFAException':
        return 'That code is not right. Enter the 6-digit code your authenticator app shows now.';
      case 'ExpiredCodeException':
        return 'That code has expired or was already used. Wait for the next code in your authenticator app and enter it.';
      case 'TooManyRequestsException':
      case 'TooManyFailedAttemptsException':
      case 'LimitExceededException':
        return 'Too many attempts. Please wait a few minutes, then try again.';
      case 'InvalidPasswordException':
        return 'That password is not accepted. ' + (m.replace(/^Password does not conform to policy:\s*/i, '') || 'Choose a longer one.');
      case 'PasswordResetRequiredException':
        return 'Your password has to be reset before you can sign in. Please ask the person who manages staff accounts.';
      case 'UserNotConfirmedException':
        return 'Your account is not ready yet. Please ask the person who manages staff accounts.';
      case 'InvalidParameterException':
        return 'The sign-in service did not accept that. ' + m;
      case 'ResourceNotFoundException':
      case 'InvalidUserPoolConfigurationException':
        return 'The inbox\'s sign-in settings are not right. Please tell whoever runs the inbox.';
      default:
        return 'Signing in did not work (' + ((err && err.type) || 'unknown error') + '). Please try again.';
    }
  }

  function jwtClaims(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const json = decodeURIComponent(Array.from(atob(part), (ch) => '%' + ch.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
      return JSON.parse(json) || {};
    } catch {
      return {};
    }
  }

  function timeoutSignal() {
    return typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined;
  }

  // ---------------------------------------------------------------- session

  function saveSession() {
    if (!state.session) return;
    state.savedActivity = state.lastActivity;
    try {
      sessionStorage.setItem(SESSION_KEY, JSON.stringify({ ...state.session, lastActivity: state.lastActivity }));
    } catch {
      // Storage refused (private mode, quota): the session stays in memory.
    }
  }

  function restoreSession() {
    let saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    } catch {
      saved = null;
    }
    if (!saved || typeof saved.accessToken !== 'string' || !saved.accessToken) return;
    const quiet = Date.now() - Number(saved.lastActivity || 0);
    const usable = saved.expiresAt > Date.now() || saved.refreshToken;
    if (quiet >= idleLimit() || !usable) {
      forgetSession();
      return;
    }
    state.session = {
      accessToken: saved.accessToken,
      refreshToken: saved.refreshToken || '',
      expiresAt: Number(saved.expiresAt) || 0,
      username: String(saved.username || ''),
    };
    state.lastActivity = Date.now();
    saveSession();
  }

  function forgetSession() {
    try {
      sessionStorage.removeItem(SESSION_KEY);
    } catch {
      // nothing stored
    }
  }

  function signedIn(result, username) {
    const claims = jwtClaims(result.AccessToken);
    state.session = {
      accessToken: result.AccessToken,
      refreshToken: result.RefreshToken || '',
      expiresAt: claims.exp ? claims.exp * 1000 : Date.now() + (Number(result.ExpiresIn) || 3600) * 1000,
      // The address typed at sign-in: the token's username claim may be the
      // user's sub where a pool signs in by email alias (cognito-local's default).
      username: String(username || claims.username || ''),
    };
    state.challenge = null;
    state.lastActivity = Date.now();
    saveSession();
    startIdleWatch();
    showAccount();
    clearMessages();
    route();
  }

  // signOut forgets the tokens, drops every lead from memory and the page,
  // and shows the sign-in form with why. Ending the session at Cognito is
  // best-effort: GlobalSignOut, and RevokeToken for the refresh token
  // (the one cognito-local supports).
  function signOut(reason, opts) {
    const token = state.session && state.session.accessToken;
    const refreshToken = state.session && state.session.refreshToken;
    state.gen++;
    state.session = null;
    state.challenge = null;
    state.lead = null;
    state.list = { status: 'new', kind: '', leads: [], next: '' };
    state.returnFocusId = '';
    forgetSession();
    stopIdleWatch();
    hideAccount();
    $view.replaceChildren();
    if (token) cognito('GlobalSignOut', { AccessToken: token }).catch(() => {});
    if (refreshToken) cognito('RevokeToken', { Token: refreshToken, ClientId: state.config.clientId }).catch(() => {});
    if (opts && opts.explicit && location.hash) history.replaceState(null, '', location.pathname + location.search);
    renderSignIn();
    clearMessages();
    if (reason) say(reason);
  }

  function showAccount() {
    $who.textContent = state.session.username ? 'Signed in as ' + state.session.username : 'Signed in';
    $account.hidden = false;
  }

  function hideAccount() {
    $who.textContent = '';
    $account.hidden = true;
  }

  // ---------------------------------------------------------------- idle sign-out

  function idleLimit() {
    const minutes = Number(state.config && state.config.idleMinutes);
    return (minutes > 0 ? minutes : 15) * 60000;
  }

  function idleWords() {
    const minutes = idleLimit() / 60000;
    return minutes >= 1 && Number.isInteger(minutes) ? minutes + (minutes === 1 ? ' minute' : ' minutes') : 'a while';
  }

  function noteActivity() {
    if (!state.session) return;
    state.lastActivity = Date.now();
    if (state.idleWarned) {
      state.idleWarned = false;
      say('');
    }
    if (state.lastActivity - state.savedActivity > 5000) saveSession();
  }

  function checkIdle() {
    if (!state.session) return;
    const limit = idleLimit();
    const quiet = Date.now() - state.lastActivity;
    if (quiet >= limit) {
      signOut('You were signed out after ' + idleWords() + ' without activity. Please sign in again.');
    } else if (limit >= 120000 && limit - quiet <= 60000 && !state.idleWarned) {
      state.idleWarned = true;
      say('You will be signed out in about a minute unless you use the page.');
    }
  }

  function startIdleWatch() {
    stopIdleWatch();
    state.idleWarned = false;
    state.idleTimer = setInterval(checkIdle, Math.min(15000, Math.max(250, idleLimit() / 20)));
  }

  function stopIdleWatch() {
    if (state.idleTimer) clearInterval(state.idleTimer);
    state.idleTimer = 0;
    state.idleWarned = false;
  }

  // ---------------------------------------------------------------- staff API

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || 'request failed: ' + status);
      this.status = status;
      this.body = body || {};
    }
  }

  // SessionEnded means the request was dropped because the sign-in ended;
  // the sign-in form is already on screen.
  class SessionEnded extends Error {}

  // freshToken renews the access token with the refresh token when it has
  // less than a minute left. If renewal fails while the token still works,
  // the page keeps using it (the API's 401 ends the session); once it has
  // expired, the session ends here.
  async function freshToken() {
    const s = state.session;
    if (!s) throw new SessionEnded('signed out');
    if (s.expiresAt - Date.now() > 60000) return;
    if (s.refreshToken && !s.refreshFailed) {
      if (!state.refreshing) {
        state.refreshing = cognito('InitiateAuth', {
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: state.config.clientId,
          AuthParameters: { REFRESH_TOKEN: s.refreshToken },
        })
          .then((data) => {
            const r = data.AuthenticationResult || {};
            if (!r.AccessToken) throw new CognitoError('NotAuthorizedException', 'refresh token');
            const claims = jwtClaims(r.AccessToken);
            s.accessToken = r.AccessToken;
            s.expiresAt = claims.exp ? claims.exp * 1000 : Date.now() + (Number(r.ExpiresIn) || 3600) * 1000;
            if (state.session === s) saveSession();
          })
          .catch(() => {
            s.refreshFailed = true;
          })
          .finally(() => {
            state.refreshing = null;
          });
      }
      await state.refreshing;
    }
    if (state.session !== s) throw new SessionEnded('signed out');
    if (s.expiresAt <= Date.now()) {
      signOut('Your sign-in has ended. Please sign in again.');
      throw new SessionEnded('expired');
    }
  }

  async function api(method, path, body) {
    await freshToken();
    const token = state.session.accessToken;
    const headers = { Accept: 'application/json', Authorization: 'Bearer ' + token };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(new URL(path, location.href), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
        signal: timeoutSignal(),
      });
    } catch {
      throw new ApiError(0, null);
    }
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (res.status === 401) {
      if (state.session && state.session.accessToken === token) {
        signOut('Your sign-in has ended. Please sign in again.');
      }
      throw new SessionEnded('unauthorized');
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  // apiMessage turns a failed API call into words for staff.
  function apiMessage(err) {
    const body = err.body || {};
    const ref = body.requestId ? ' (Reference: ' + body.requestId + ')' : '';
    switch (true) {
      case err.status === 0:
        return 'We could not reach the inbox. Check your connection and try again.';
      case err.status === 403:
        return 'Your account is signed in but may not see leads. Please ask the person who manages staff accounts to add you to the staff group.';
      case err.status === 404:
        return 'This lead was not found. It may have been removed at the end of its retention period, or the link is incomplete.';
      case err.status === 429:
        return 'The inbox is busy. Please wait a moment and try again.';
      case err.status >= 500:
        return 'Something went wrong on the server. Please try again in a moment.' + ref;
      default:
        return (body.message ? capitalise(body.message) + '.' : 'The inbox could not do that (' + err.status + ').') + ref;
    }
  }

  function capitalise(s) {
    s = String(s).replace(/[.\s]+$/, '');
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  // ---------------------------------------------------------------- routing

  function route() {
    if (!state.config) return;
    if (!state.session) {
      if (!state.challenge) renderSignIn();
      return;
    }
    state.gen++;
    const m = LEAD_ROUTE.exec(location.hash);
    if (m) showDetail(m[1]);
    else showList();
  }

  // ---------------------------------------------------------------- sign-in screens

  function authScreen(title, intro, form, extra) {
    const heading = el('h1', { id: 'auth-title', tabindex: '-1', text: title });
    const section = el('section', { class: 'auth card', 'aria-labelledby': 'auth-title', 'data-testid': 'auth' }, heading, intro, form, extra);
    show(section, title);
    return section;
  }

  function field(id, label, attrs, hint) {
    const hintId = hint ? id + '-hint' : null;
    return el(
      'div',
      { class: 'form-row' },
      el('label', { for: id, text: label }),
      hint ? el('p', { class: 'hint', id: hintId, text: hint }) : null,
      el('input', { id, name: id, 'data-testid': id, 'aria-describedby': hintId, ...attrs }),
    );
  }

  function showPasswordToggle(ids) {
    const box = el('input', { type: 'checkbox', id: 'show-password', 'data-testid': 'show-password' });
    box.addEventListener('change', () => {
      for (const id of ids) {
        const input = document.getElementById(id);
        if (input) input.type = box.checked ? 'text' : 'password';
      }
    });
    return el('div', { class: 'choice' }, box, el('label', { for: 'show-password', text: 'Show password' }));
  }

  function submitButton(id, text) {
    return el('button', { type: 'submit', class: 'button button-primary', id, 'data-testid': id, text });
  }

  function restartButton() {
    return el('button', {
      type: 'button',
      class: 'button button-quiet',
      id: 'signin-restart',
      'data-testid': 'signin-restart',
      text: 'Start again',
      onclick: () => {
        state.gen++;
        state.challenge = null;
        clearMessages();
        renderSignIn();
      },
    });
  }

  // busy disables a form's buttons while a request runs and returns a
  // function that re-enables them.
  function busy(form, label) {
    const buttons = Array.from(form.querySelectorAll('button'));
    const submit = form.querySelector('button[type=submit]');
    const before = submit ? submit.textContent : '';
    for (const b of buttons) b.disabled = true;
    if (submit && label) submit.textContent = label;
    form.setAttribute('aria-busy', 'true');
    return () => {
      for (const b of buttons) b.disabled = false;
      if (submit && label) submit.textContent = before;
      form.removeAttribute('aria-busy');
    };
  }

  function renderSignIn() {
    const form = el(
      'form',
      { id: 'signin-form', 'data-testid': 'signin-form', novalidate: true },
      field('signin-email', 'Email address', { type: 'email', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true }),
      field('signin-password', 'Password', { type: 'password', autocomplete: 'current-password', required: true }),
      showPasswordToggle(['signin-password']),
      submitButton('signin-submit', 'Sign in'),
    );
    form.addEventListener('submit', onSignIn);
    authScreen(
      'Sign in',
      el('p', { class: 'intro', text: 'Sign in with the email address and password the clinic set up for you.' }),
      form,
      el('p', { class: 'hint', text: 'Forgotten your password, or lost your authenticator app? Ask the person who manages staff accounts to reset it.' }),
    );
    focus(document.getElementById('signin-email'));
  }

  async function onSignIn(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const email = form.elements['signin-email'].value.trim();
    const password = form.elements['signin-password'].value;
    if (!email || !password) {
      problem(!email ? 'Enter your email address.' : 'Enter your password.');
      focus(form.elements[!email ? 'signin-email' : 'signin-password']);
      return;
    }
    problem('');
    const gen = ++state.gen;
    const done = busy(form, 'Signing in…');
    try {
      const data = await cognito('InitiateAuth', {
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: state.config.clientId,
        AuthParameters: { USERNAME: email, PASSWORD: password },
      });
      if (gen !== state.gen) return;
      await afterAuthStep(data, email, email);
    } catch (err) {
      if (gen !== state.gen) return;
      done();
      form.elements['signin-password'].value = '';
      problem(cognitoMessage(err, 'password'));
      focus(form.elements['signin-password']);
    }
  }

  // afterAuthStep handles Cognito's answer to a sign-in step: tokens, or the
  // next challenge.
  async function afterAuthStep(data, username, email) {
    if (data.AuthenticationResult && data.AuthenticationResult.AccessToken) {
      signedIn(data.AuthenticationResult, email || username);
      return;
    }
    const params = data.ChallengeParameters || {};
    state.challenge = {
      name: data.ChallengeName,
      session: data.Session,
      username: params.USER_ID_FOR_SRP || username,
      email,
      secret: '',
    };
    clearMessages();
    switch (data.ChallengeName) {
      case 'SOFTWARE_TOKEN_MFA':
        renderCodeForm();
        break;
      case 'NEW_PASSWORD_REQUIRED':
        renderNewPassword();
        break;
      case 'MFA_SETUP':
        await beginMfaSetup();
        break;
      default:
        state.challenge = null;
        renderSignIn();
        problem('This account needs a sign-in step the inbox does not offer (' + (data.ChallengeName || 'none') + '). Please ask the person who manages staff accounts.');
    }
  }

  // answerChallenge sends RespondToAuthChallenge and moves on. A failure on
  // an expired session starts the sign-in again; any other keeps the screen.
  async function answerChallenge(form, responses, busyLabel, retryInput) {
    const ch = state.challenge;
    const gen = ++state.gen;
    const done = busy(form, busyLabel);
    try {
      const data = await cognito('RespondToAuthChallenge', {
        ChallengeName: ch.name,
        ClientId: state.config.clientId,
        Session: ch.session,
        ChallengeResponses: { USERNAME: ch.username, ...responses },
      });
      if (gen !== state.gen) return;
      await afterAuthStep(data, ch.username, ch.email);
    } catch (err) {
      if (gen !== state.gen) return;
      challengeFailed(err, done, retryInput);
    }
  }

  function challengeFailed(err, done, retryInput) {
    if (err.type === 'NotAuthorizedException' || err.type === 'TooManyFailedAttemptsException') {
      // The sign-in session is spent: start from the password again.
      state.challenge = null;
      renderSignIn();
      problem(cognitoMessage(err));
      return;
    }
    done();
    problem(cognitoMessage(err));
    if (retryInput) {
      retryInput.value = '';
      focus(retryInput);
    }
  }

  function codeField(id, label) {
    return field(
      id,
      label,
      { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]*', maxlength: '8', spellcheck: 'false', required: true, class: 'code-input' },
      'The 6 digits your authenticator app shows for the staff inbox.',
    );
  }

  function readCode(input) {
    const code = input.value.replace(/\s+/g, '');
    if (!/^[0-9]{6}$/.test(code)) {
      problem('Enter the 6 digits from your authenticator app.');
      focus(input);
      return '';
    }
    problem('');
    return code;
  }

  function renderCodeForm() {
    const form = el('form', { id: 'mfa-form', 'data-testid': 'mfa-form', novalidate: true }, codeField('mfa-code', 'Code'), el('div', { class: 'actions' }, submitButton('mfa-submit', 'Continue'), restartButton()));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const input = form.elements['mfa-code'];
      const code = readCode(input);
      if (code) answerChallenge(form, { SOFTWARE_TOKEN_MFA_CODE: code }, 'Checking…', input);
    });
    authScreen('Enter your code', el('p', { class: 'intro', text: 'Open your authenticator app and enter the code it shows for the staff inbox.' }), form);
    focus(form.elements['mfa-code']);
  }

  function renderNewPassword() {
    const form = el(
      'form',
      { id: 'new-password-form', 'data-testid': 'new-password-form', novalidate: true },
      // Lets a password manager file the new password under the right account.
      el('input', { type: 'email', name: 'username', autocomplete: 'username', value: state.challenge.email || state.challenge.username, readonly: true, hidden: true, tabindex: '-1', 'aria-hidden': 'true' }),
      field('new-password', 'New password', { type: 'password', autocomplete: 'new-password', required: true }, 'At least ' + PASSWORD_MIN + ' characters. A few unrelated words make a strong password that is easy to type.'),
      field('new-password-confirm', 'Type it again', { type: 'password', autocomplete: 'new-password', required: true }),
      showPasswordToggle(['new-password', 'new-password-confirm']),
      el('div', { class: 'actions' }, submitButton('new-password-submit', 'Set password'), restartButton()),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const first = form.elements['new-password'];
      const second = form.elements['new-password-confirm'];
      if (charCount(first.value) < PASSWORD_MIN) {
        problem('Your new password needs at least ' + PASSWORD_MIN + ' characters.');
        focus(first);
        return;
      }
      if (first.value !== second.value) {
        problem('The two passwords are not the same. Type them again.');
        second.value = '';
        focus(second);
        return;
      }
      problem('');
      answerChallenge(form, { NEW_PASSWORD: first.value }, 'Saving…', null);
    });
    authScreen('Choose a new password', el('p', { class: 'intro', text: 'This is your first sign-in, so please choose your own password.' }), form);
    focus(form.elements['new-password']);
  }

  async function beginMfaSetup() {
    const ch = state.challenge;
    const gen = ++state.gen;
    show(el('p', { class: 'loading', text: 'Preparing your authenticator setup…' }), 'Set up your authenticator app');
    try {
      const data = await cognito('AssociateSoftwareToken', { Session: ch.session });
      if (gen !== state.gen) return;
      ch.session = data.Session || ch.session;
      ch.secret = String(data.SecretCode || '');
      renderMfaSetup();
    } catch (err) {
      if (gen !== state.gen) return;
      state.challenge = null;
      renderSignIn();
      problem(cognitoMessage(err));
    }
  }

  function otpauthURL(secret, account) {
    const issuer = (state.config && state.config.clinicName) || 'Clinic staff inbox';
    const label = encodeURIComponent(issuer) + ':' + encodeURIComponent(account);
    return 'otpauth://totp/' + label + '?secret=' + encodeURIComponent(secret) + '&issuer=' + encodeURIComponent(issuer);
  }

  function renderMfaSetup() {
    const ch = state.challenge;
    const steps = el(
      'ol',
      { class: 'steps' },
      el('li', {}, 'Install an authenticator app on your phone if you do not have one (for example Google Authenticator, Microsoft Authenticator or 1Password).'),
      el(
        'li',
        {},
        'On the phone with the app, open this link: ',
        el('a', { id: 'mfa-setup-link', 'data-testid': 'mfa-setup-link', href: otpauthURL(ch.secret, ch.email || ch.username), text: 'add the staff inbox to my authenticator app' }),
        '.',
      ),
      el(
        'li',
        {},
        'Or, in the app, choose to enter a setup key by hand (time-based) and type this key:',
        el('code', { class: 'secret', id: 'mfa-secret', 'data-testid': 'mfa-secret', text: ch.secret }),
      ),
      el('li', {}, 'Enter the code the app now shows, to finish.'),
    );
    const form = el('form', { id: 'mfa-setup-form', 'data-testid': 'mfa-setup-form', novalidate: true }, codeField('mfa-setup-code', 'Code from the app'), el('div', { class: 'actions' }, submitButton('mfa-setup-submit', 'Finish setup'), restartButton()));
    form.addEventListener('submit', onMfaSetup);
    authScreen('Set up your authenticator app', el('div', {}, el('p', { class: 'intro', text: 'Each time you sign in, the inbox asks for a code from an authenticator app. Set it up once now.' }), steps), form);
    focus(document.getElementById('auth-title'));
  }

  async function onMfaSetup(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const input = form.elements['mfa-setup-code'];
    const code = readCode(input);
    if (!code) return;
    const ch = state.challenge;
    const gen = ++state.gen;
    const done = busy(form, 'Checking…');
    try {
      const verified = await cognito('VerifySoftwareToken', { Session: ch.session, UserCode: code, FriendlyDeviceName: 'Authenticator app' });
      if (gen !== state.gen) return;
      if (verified.Status && verified.Status !== 'SUCCESS') throw new CognitoError('CodeMismatchException', '');
      ch.session = verified.Session || ch.session;
      const data = await cognito('RespondToAuthChallenge', {
        ChallengeName: 'MFA_SETUP',
        ClientId: state.config.clientId,
        Session: ch.session,
        ChallengeResponses: { USERNAME: ch.username },
      });
      if (gen !== state.gen) return;
      await afterAuthStep(data, ch.username, ch.email);
    } catch (err) {
      if (gen !== state.gen) return;
      challengeFailed(err, done, input);
    }
  }

  // ---------------------------------------------------------------- the list

  function listTitle() {
    return statusLabel(state.list.status) + ' leads';
  }

  function showList() {
    state.lead = null;
    const gen = state.gen;
    const statusButtons = Object.keys(STATUS_LABELS).map((s) =>
      el('button', {
        type: 'button',
        class: 'chip',
        id: 'filter-status-' + s,
        'data-testid': 'filter-status-' + s,
        'data-status': s,
        'aria-pressed': String(s === state.list.status),
        text: STATUS_LABELS[s],
        onclick: () => changeFilter({ status: s }),
      }),
    );
    const kindSelect = el(
      'select',
      { id: 'filter-kind', 'data-testid': 'filter-kind', onchange: (e) => changeFilter({ kind: e.target.value }) },
      KINDS.map(([value, label]) => el('option', { value, selected: value === state.list.kind, text: label })),
    );
    const view = el(
      'section',
      { class: 'list-view', 'aria-labelledby': 'list-title', 'data-testid': 'list-view' },
      el(
        'div',
        { class: 'view-head' },
        el('h1', { id: 'list-title', tabindex: '-1', text: listTitle() }),
        el('button', { type: 'button', class: 'button button-quiet', id: 'refresh', 'data-testid': 'refresh', text: 'Refresh', onclick: () => changeFilter({}) }),
      ),
      el(
        'div',
        { class: 'filters', role: 'group', 'aria-label': 'Filters' },
        el('div', { class: 'chips', role: 'group', 'aria-label': 'Status' }, statusButtons),
        el('div', { class: 'kind-filter' }, el('label', { for: 'filter-kind', text: 'Form' }), kindSelect),
      ),
      el('p', { class: 'list-summary', id: 'list-summary', 'data-testid': 'list-summary', text: 'Loading leads…' }),
      el('ul', { class: 'lead-list', id: 'lead-list', 'data-testid': 'lead-list', 'aria-labelledby': 'list-title' }),
      el('div', { class: 'list-foot' }, el('button', { type: 'button', class: 'button', id: 'load-more', 'data-testid': 'load-more', hidden: true, text: 'Load more', onclick: loadMore })),
    );
    show(view, listTitle());
    state.list.leads = [];
    state.list.next = '';
    fetchPage(gen, '');
  }

  function changeFilter(change) {
    Object.assign(state.list, change);
    const keep = document.activeElement && document.activeElement.id;
    clearMessages();
    state.gen++;
    if (location.hash && location.hash !== '#/') {
      history.replaceState(null, '', location.pathname + location.search + '#/');
    }
    showList();
    // Keep keyboard focus on the control just used.
    if (keep) focus(document.getElementById(keep));
  }

  function listQuery(cursor) {
    const q = new URLSearchParams({ status: state.list.status, limit: String(PAGE_SIZE) });
    if (state.list.kind) q.set('kind', state.list.kind);
    if (cursor) q.set('cursor', cursor);
    return 'staff/leads?' + q.toString();
  }

  async function fetchPage(gen, cursor) {
    const more = document.getElementById('load-more');
    const summary = document.getElementById('list-summary');
    const list = document.getElementById('lead-list');
    if (more) more.disabled = true;
    let page;
    try {
      page = await api('GET', listQuery(cursor));
    } catch (err) {
      if (err instanceof SessionEnded || gen !== state.gen) return;
      if (more) more.disabled = false;
      if (!cursor) summary.textContent = 'The leads could not be loaded.';
      // A cursor the server no longer accepts (a new deployment's key, say):
      // starting the list again is the way out.
      problem(cursor && err.status === 400 ? 'The list could not continue from where it was. Please use Refresh to start it again.' : apiMessage(err));
      return;
    }
    if (gen !== state.gen) return;
    const leads = Array.isArray(page && page.leads) ? page.leads : [];
    state.list.leads = state.list.leads.concat(leads);
    state.list.next = (page && page.next) || '';
    const rows = leads.map(leadRow);
    list.append(...rows);
    const total = state.list.leads.length;
    const word = statusLabel(state.list.status).toLowerCase();
    const kind = state.list.kind ? ' ' + state.list.kind : '';
    if (total === 0) {
      summary.textContent = 'No ' + word + kind + ' leads.';
    } else {
      summary.textContent =
        'Showing ' + total + ' ' + word + kind + (total === 1 ? ' lead' : ' leads') + ', newest first' + (state.list.status === 'new' ? ', anyone in crisis at the top.' : '.') + (state.list.next ? ' There are more.' : '');
    }
    more.hidden = !state.list.next;
    more.disabled = false;
    if (cursor) {
      say('Loaded ' + leads.length + ' more ' + (leads.length === 1 ? 'lead.' : 'leads.'));
      if (rows.length) focus(rows[0].querySelector('a'));
      else focus(document.getElementById('list-title'));
    } else if (state.returnFocusId) {
      const back = list.querySelector('a[data-lead-id="' + state.returnFocusId + '"]');
      state.returnFocusId = '';
      if (back) focus(back);
    }
  }

  function loadMore() {
    if (state.list.next) fetchPage(state.gen, state.list.next);
  }

  function leadRow(l) {
    const id = String(l.id || '');
    const crisis = l.inCrisis === true;
    const status = String(l.status || '');
    return el(
      'li',
      { class: 'lead-row' + (crisis ? ' is-crisis' : ''), 'data-testid': 'lead-row', 'data-lead-id': id, 'data-status': status, 'data-crisis': String(crisis) },
      el(
        'a',
        { class: 'lead-card', href: '#/leads/' + id, 'data-testid': 'lead-link', 'data-lead-id': id },
        el(
          'span',
          { class: 'row-top' },
          el('span', { class: 'row-name', 'data-testid': 'lead-name', text: l.displayName || 'No name given' }),
          crisis ? el('span', { class: 'crisis-marker', 'data-testid': 'crisis-marker', text: 'In crisis' }) : null,
          overdueMarker(l),
        ),
        el(
          'span',
          { class: 'row-meta' },
          el('span', { class: 'short-id', 'data-testid': 'lead-short-id' }, el('span', { class: 'visually-hidden', text: 'Reference ' }), String(l.shortId || '')),
          el('span', { 'data-testid': 'lead-kind', text: l.kindLabel || l.kind || '' }),
          el('time', { datetime: l.receivedAt || false, 'data-testid': 'lead-received', text: l.receivedLocal || formatTime(l.receivedAt) }),
        ),
        el(
          'span',
          { class: 'row-state' },
          el('span', { class: 'status-badge status-' + status, 'data-testid': 'lead-status', text: l.statusLabel || statusLabel(status) }),
          waitEl(l),
          el('span', {
            class: 'notified ' + (l.notified ? 'is-sent' : 'is-unsent'),
            'data-testid': 'lead-notified',
            'data-notified': String(l.notified === true),
            text: l.notified ? 'Staff email sent' : 'Staff email not sent yet',
          }),
        ),
      ),
    );
  }

  // formatWait writes a wait the way the staff emails do (package sla):
  // "45 min", "2 h 10 min", "3 d 4 h".
  function formatWait(minutes) {
    const m = Math.max(0, Math.floor(minutes));
    if (m < 60) return m + ' min';
    if (m < 24 * 60) return Math.floor(m / 60) + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
    const h = Math.floor((m % (24 * 60)) / 60);
    return Math.floor(m / (24 * 60)) + ' d' + (h ? ' ' + h + ' h' : '');
  }

  // waitEl shows how long a lead still new has waited (the API sends
  // waitingMinutes for new leads only); null for the others.
  function waitEl(l) {
    if (typeof l.waitingMinutes !== 'number') return null;
    return el('span', {
      class: 'wait' + (l.overdue === true ? ' is-overdue' : ''),
      'data-testid': 'lead-wait',
      'data-waiting-minutes': String(l.waitingMinutes),
      text: 'Waiting ' + formatWait(l.waitingMinutes),
    });
  }

  // overdueMarker marks a lead past its service level, in words.
  function overdueMarker(l) {
    if (l.overdue !== true) return null;
    return el('span', { class: 'overdue-marker', 'data-testid': 'overdue-marker', text: 'Overdue' });
  }

  // ---------------------------------------------------------------- one lead

  async function showDetail(id) {
    const gen = state.gen;
    state.returnFocusId = id;
    show(
      el('section', { class: 'detail', 'data-testid': 'lead-detail-loading' }, backLink(), el('p', { class: 'loading', text: 'Loading the lead…' })),
      'Lead',
    );
    let lead;
    try {
      lead = await api('GET', 'staff/leads/' + encodeURIComponent(id));
    } catch (err) {
      if (err instanceof SessionEnded || gen !== state.gen) return;
      renderDetailError(err, id);
      return;
    }
    if (gen !== state.gen) return;
    renderDetail(lead, null);
    focus(document.getElementById('detail-title'));
  }

  function backLink() {
    return el('p', { class: 'back' }, el('a', { href: '#/', id: 'back-to-list', 'data-testid': 'back-to-list', text: '← Back to the list' }));
  }

  function renderDetailError(err, id) {
    const retry = el('button', { type: 'button', class: 'button', id: 'retry', 'data-testid': 'retry', text: 'Try again', onclick: () => route() });
    show(
      el(
        'section',
        { class: 'detail', 'aria-labelledby': 'detail-title', 'data-testid': 'lead-detail-error' },
        backLink(),
        el('h1', { id: 'detail-title', tabindex: '-1', text: err.status === 404 ? 'Lead not found' : 'The lead could not be loaded' }),
        el('p', { text: apiMessage(err) }),
        err.status === 404 ? null : retry,
      ),
      'Lead',
    );
    state.returnFocusId = err.status === 404 ? '' : id;
    focus(document.getElementById('detail-title'));
  }

  // dlRow is one label and value. testid says which part of the lead it
  // belongs to: "field" for what the person sent, "summary-field",
  // "consent-field" or "attribution-field" for the rest.
  function dlRow(key, label, value, valueNode, testid) {
    const empty = valueNode == null && (value == null || value === '');
    return el(
      'div',
      { class: 'field-row', 'data-testid': testid || 'field', 'data-key': key },
      el('dt', { text: label }),
      el('dd', { class: empty ? 'empty' : null }, valueNode != null ? valueNode : empty ? 'Not given' : String(value)),
    );
  }

  function yesNo(v) {
    if (v === true) return 'Yes';
    if (v === false) return 'No';
    return v == null ? '' : String(v);
  }

  function contactLink(key, value) {
    if (!value) return null;
    if (key === 'email' && /^[^\s@]+@[^\s@]+$/.test(value)) return el('a', { href: 'mailto:' + value, text: value });
    if (key === 'phone' && /^[+0-9()\-.\s]{7,}$/.test(value)) return el('a', { href: 'tel:' + value.replace(/[^+0-9]/g, ''), text: value });
    return null;
  }

  function card(id, title, ...content) {
    return el('section', { class: 'card', 'aria-labelledby': id, 'data-testid': 'section', id: id + '-section' }, el('h2', { id, text: title }), ...content);
  }

  // renderDetail draws the lead. draft carries what the person had typed
  // into the change form, kept across a reload after a 412.
  function renderDetail(lead, draft) {
    state.lead = lead;
    const id = String(lead.id || '');
    const crisis = lead.inCrisis === true;
    const sections = Array.isArray(lead.sections) ? lead.sections : [];

    const summary = el(
      'dl',
      { class: 'summary', 'data-testid': 'detail-summary' },
      dlRow('shortId', 'Reference', lead.shortId, null, 'summary-field'),
      dlRow('kind', 'Form', lead.kindLabel || lead.kind, null, 'summary-field'),
      dlRow('received', 'Received', null, el('time', { datetime: lead.receivedAt || false, text: lead.receivedLocal || formatTime(lead.receivedAt) }), 'summary-field'),
      dlRow('status', 'Status', null, el('span', { class: 'status-badge status-' + lead.status, 'data-testid': 'detail-status', text: lead.statusLabel || statusLabel(lead.status) }), 'summary-field'),
      typeof lead.waitingMinutes === 'number' ? dlRow('waiting', 'Waiting', null, el('span', {}, waitEl(lead), lead.overdue === true ? ' ' : '', overdueMarker(lead)), 'summary-field') : null,
      dlRow('notifiedAt', 'Staff email', null, lead.notifiedAt ? el('span', {}, 'Sent ', timeEl(lead.notifiedAt)) : el('span', { text: 'Not sent yet' }), 'summary-field'),
      dlRow('confirmedAt', 'Confirmation to them', null, lead.confirmedAt ? el('span', {}, 'Sent ', timeEl(lead.confirmedAt)) : el('span', { text: 'Not sent' }), 'summary-field'),
    );

    const answerCards = sections.map((s, i) =>
      card(
        'answers-' + i,
        s.title || 'Answers',
        el(
          'dl',
          { class: 'fields' },
          (Array.isArray(s.rows) ? s.rows : []).map((r) => dlRow(String(r.key || ''), r.label || r.key || '', r.value, contactLink(r.key, r.value))),
        ),
      ),
    );

    const consent = lead.consent || {};
    const consentCard = card(
      'consent',
      'Consent',
      el(
        'dl',
        { class: 'fields' },
        dlRow('consentToContact', 'Agreed to be contacted', yesNo(consent.consentToContact), null, 'consent-field'),
        dlRow('acknowledgedPrivacy', 'Read the privacy notice', yesNo(consent.acknowledgedPrivacy), null, 'consent-field'),
        dlRow('smsConsent', 'Agreed to text messages', yesNo(consent.smsConsent), null, 'consent-field'),
        dlRow('at', 'When', null, consent.at ? timeEl(consent.at) : null, 'consent-field'),
        dlRow('clientIp', 'From IP address', consent.clientIp, null, 'consent-field'),
        dlRow('userAgent', 'Browser', consent.userAgent, null, 'consent-field'),
        dlRow('landingPage', 'On the page', consent.landingPage, null, 'consent-field'),
      ),
    );

    const attribution = lead.attribution || {};
    const attributionRows = [
      ['utmSource', 'Source'],
      ['utmMedium', 'Medium'],
      ['utmCampaign', 'Campaign'],
      ['utmTerm', 'Term'],
      ['utmContent', 'Content'],
      ['landingPage', 'Landing page'],
      ['referrer', 'Came from'],
    ]
      .filter(([key]) => attribution[key])
      .map(([key, label]) => dlRow(key, label, attribution[key], null, 'attribution-field'));
    const attributionCard = card(
      'attribution',
      'Where they came from',
      attributionRows.length ? el('dl', { class: 'fields' }, attributionRows) : el('p', { class: 'muted', text: 'Nothing recorded.' }),
    );

    const history = newestFirst(lead.history);
    const historyCard = card(
      'history',
      'Status history',
      history.length
        ? el(
            'ol',
            { class: 'timeline', id: 'history-list', 'data-testid': 'history-list' },
            history.map((h) =>
              el(
                'li',
                { 'data-testid': 'history-entry' },
                el('span', { class: 'what', text: h.from ? statusLabel(h.from) + ' → ' + statusLabel(h.to) : 'Set to ' + statusLabel(h.to) }),
                el('span', { class: 'meta' }, timeEl(h.at), h.by ? ' · ' + h.by : ''),
              ),
            ),
          )
        : el('p', { class: 'muted', text: 'No changes yet.' }),
    );

    const notes = newestFirst(lead.notes);
    const notesCard = card(
      'notes',
      'Notes',
      notes.length
        ? el(
            'ol',
            { class: 'timeline', id: 'notes-list', 'data-testid': 'notes-list' },
            notes.map((n) => el('li', { 'data-testid': 'note-entry' }, el('p', { class: 'note-text', text: n.text || '' }), el('span', { class: 'meta' }, timeEl(n.at), n.by ? ' · ' + n.by : ''))),
          )
        : el('p', { class: 'muted', text: 'No notes yet.' }),
    );

    const audit = Array.isArray(lead.audit) ? lead.audit : [];
    const auditCard = card(
      'audit',
      'Audit trail',
      el('p', { class: 'hint', text: 'Every time someone opens or changes this lead. Newest first.' }),
      audit.length
        ? el(
            'ol',
            { class: 'timeline audit', id: 'audit-list', 'data-testid': 'audit-list' },
            audit.map((a) =>
              el(
                'li',
                { 'data-testid': 'audit-entry', 'data-action': String(a.action || '') },
                el('span', { class: 'what', text: auditWords(a) }),
                el('span', { class: 'meta' }, timeEl(a.at), ' · ', (a.actor && (a.actor.email || a.actor.sub)) || 'unknown'),
                a.sourceIp || a.userAgent ? el('span', { class: 'meta small', text: [a.sourceIp, a.userAgent].filter(Boolean).join(' · ') }) : null,
              ),
            ),
          )
        : el('p', { class: 'muted', text: 'No entries.' }),
    );

    const view = el(
      'article',
      { class: 'detail', 'aria-labelledby': 'detail-title', 'data-testid': 'lead-detail', 'data-lead-id': id, 'data-version': String(lead.version), 'data-status': String(lead.status || '') },
      backLink(),
      el('h1', { id: 'detail-title', tabindex: '-1', text: lead.displayName || 'No name given' }),
      crisis
        ? el(
            'p',
            { class: 'crisis-banner', 'data-testid': 'crisis-marker' },
            el('strong', { text: 'In crisis. ' }),
            'They said they are in crisis now. Follow the clinic\'s crisis procedure before anything else.',
          )
        : null,
      summary,
      answerCards,
      changeForm(lead, draft),
      notesCard,
      historyCard,
      consentCard,
      attributionCard,
      auditCard,
    );
    show(view, 'Lead ' + (lead.shortId || ''));
  }

  function newestFirst(list) {
    return (Array.isArray(list) ? list.slice() : []).sort((a, b) => String(b.at || '').localeCompare(String(a.at || '')));
  }

  function auditWords(a) {
    switch (a.action) {
      case 'viewed':
        return 'Opened the lead';
      case 'status_changed':
        return 'Moved it from ' + statusLabel(a.from) + ' to ' + statusLabel(a.to);
      case 'note_added':
        return 'Added a note';
      default:
        return String(a.action || 'Unknown action');
    }
  }

  function changeForm(lead, draft) {
    const allowed = Array.isArray(lead.allowedStatuses) ? lead.allowedStatuses : [];
    const current = lead.statusLabel || statusLabel(lead.status);
    const select = el(
      'select',
      { id: 'status-select', name: 'status', 'data-testid': 'status-select', 'aria-describedby': 'status-hint' },
      el('option', { value: '', text: 'Keep it as ' + current }),
      allowed.map((s) => el('option', { value: s, selected: draft && draft.status === s, text: 'Move to ' + statusLabel(s) })),
    );
    const note = el('textarea', {
      id: 'note',
      name: 'note',
      rows: '4',
      autocomplete: 'off',
      'data-testid': 'note',
      'aria-describedby': 'note-hint note-count',
    });
    note.value = (draft && draft.note) || '';
    const counter = el('p', { class: 'counter', id: 'note-count', 'data-testid': 'note-count' });
    const updateCounter = () => {
      const n = charCount(note.value);
      const over = n - NOTE_MAX;
      counter.textContent = over > 0 ? over + (over === 1 ? ' character' : ' characters') + ' too many' : NOTE_MAX - n + ' of ' + NOTE_MAX + ' characters left';
      counter.classList.toggle('is-over', over > 0);
      if (over > 0) note.setAttribute('aria-invalid', 'true');
      else note.removeAttribute('aria-invalid');
    };
    note.addEventListener('input', updateCounter);
    updateCounter();

    const form = el(
      'form',
      { class: 'card change-form', id: 'change-form', 'data-testid': 'change-form', 'aria-labelledby': 'change-title', novalidate: true },
      el('h2', { id: 'change-title', text: 'Update this lead' }),
      el(
        'div',
        { class: 'form-row' },
        el('label', { for: 'status-select', text: 'Status' }),
        el('p', { class: 'hint', id: 'status-hint', text: allowed.length ? 'Now ' + current + '. Choose where it goes next, or keep it.' : 'Now ' + current + '. It cannot move from here.' }),
        select,
      ),
      el(
        'div',
        { class: 'form-row' },
        el('label', { for: 'note', text: 'Add a note (optional)' }),
        el('p', { class: 'hint', id: 'note-hint', text: 'Seen only by staff. Up to ' + NOTE_MAX + ' characters.' }),
        note,
        counter,
      ),
      el('p', { class: 'form-problem', id: 'change-problem', 'data-testid': 'change-problem' }),
      el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'button button-primary', id: 'save', 'data-testid': 'save', text: 'Save' })),
    );
    if (!allowed.length) select.disabled = true;
    form.addEventListener('submit', onSave);
    return form;
  }

  // saveProblem says why a change was not saved, both in the alert region
  // at the top (announced) and beside the Save button (where the eye is).
  function saveProblem(text) {
    problem(text);
    const inline = document.getElementById('change-problem');
    if (inline) inline.textContent = text;
  }

  async function onSave(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const lead = state.lead;
    if (!lead) return;
    const select = form.elements.status;
    const noteInput = form.elements.note;
    const status = select.value;
    const note = noteInput.value;
    const hasNote = note.trim() !== '';
    if (!status && !hasNote) {
      saveProblem('Choose a new status or write a note, then save.');
      focus(select.disabled ? noteInput : select);
      return;
    }
    if (charCount(note) > NOTE_MAX) {
      saveProblem('The note is too long. Please keep it to ' + NOTE_MAX + ' characters.');
      focus(noteInput);
      return;
    }
    clearMessages();
    saveProblem('');
    const body = { version: lead.version };
    if (status) body.status = status;
    if (hasNote) body.note = note;
    const gen = state.gen;
    const done = busy(form, 'Saving…');
    let updated;
    try {
      updated = await api('PATCH', 'staff/leads/' + encodeURIComponent(lead.id), body);
    } catch (err) {
      if (err instanceof SessionEnded || gen !== state.gen) return;
      done();
      saveFailed(err, { status, note });
      return;
    }
    if (gen !== state.gen) return;
    renderDetail(updated, null);
    const words = [];
    if (status) words.push('moved to ' + statusLabel(updated.status || status));
    if (hasNote) words.push('your note was added');
    say('Saved: ' + words.join(' and ') + '.');
    focus(document.getElementById('detail-title'));
  }

  async function saveFailed(err, draft) {
    const lead = state.lead;
    switch (err.status) {
      case 412: {
        // Someone else saved first. Show their change, keep what this
        // person typed, and let them decide again.
        const gen = state.gen;
        let fresh;
        try {
          fresh = await api('GET', 'staff/leads/' + encodeURIComponent(lead.id));
        } catch (e) {
          if (e instanceof SessionEnded || gen !== state.gen) return;
          saveProblem('Someone else changed this lead while you had it open, so your change was not saved, and the lead could not be reloaded. ' + apiMessage(e));
          return;
        }
        if (gen !== state.gen) return;
        const stillAllowed = Array.isArray(fresh.allowedStatuses) && fresh.allowedStatuses.includes(draft.status);
        renderDetail(fresh, { status: stillAllowed ? draft.status : '', note: draft.note });
        saveProblem(
          'Someone else changed this lead while you had it open, so your change was not saved. The lead has been reloaded with their change' +
            (draft.note.trim() ? '; your note is still in the box' : '') +
            '. Check it, then save again.',
        );
        focus(document.getElementById(draft.note.trim() ? 'note' : 'status-select'));
        return;
      }
      case 409:
        saveProblem(
          'This lead cannot move from ' + statusLabel(lead.status) + (draft.status ? ' to ' + statusLabel(draft.status) : '') + '. Choose one of the moves offered, or reload the lead if someone may have changed it.',
        );
        focus(document.getElementById('status-select'));
        return;
      case 422: {
        const fields = Array.isArray(err.body && err.body.fields) ? err.body.fields : [];
        const detail = fields.map((f) => (f.field === 'note' ? 'Note: ' : f.field === 'status' ? 'Status: ' : '') + capitalise(f.message || '') + '.').join(' ');
        saveProblem('The change was not saved. ' + (detail || apiMessage(err)));
        focus(document.getElementById(fields.some((f) => f.field === 'status') ? 'status-select' : 'note'));
        return;
      }
      default:
        saveProblem('The change was not saved. ' + apiMessage(err));
    }
  }

  // ---------------------------------------------------------------- start

  async function loadConfig() {
    const res = await fetch(new URL('staff/config.json', location.href), { cache: 'no-store', credentials: 'omit', signal: timeoutSignal() });
    if (!res.ok) throw new Error('config.json: ' + res.status);
    const config = await res.json();
    if (!config || !config.clientId || !(config.region || config.cognitoEndpoint)) throw new Error('config.json: incomplete');
    return config;
  }

  async function boot() {
    $view = document.getElementById('view');
    $notice = document.getElementById('notice');
    $problem = document.getElementById('problem');
    $account = document.getElementById('account');
    $who = document.getElementById('who');
    document.getElementById('sign-out').addEventListener('click', () => signOut('You are signed out.', { explicit: true }));
    for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart', 'mousemove', 'scroll']) {
      document.addEventListener(type, noteActivity, { passive: true, capture: true });
    }
    document.addEventListener('visibilitychange', checkIdle);
    window.addEventListener('focus', checkIdle);
    window.addEventListener('hashchange', () => {
      if (!state.session) return;
      clearMessages();
      route();
    });
    try {
      state.config = await loadConfig();
    } catch {
      show(
        el(
          'section',
          { class: 'card' },
          el('h1', { text: 'The inbox could not start' }),
          el('p', { text: 'It could not load its settings. Reload the page; if this keeps happening, please tell whoever runs the inbox.' }),
          el('button', { type: 'button', class: 'button', id: 'reload', text: 'Reload', onclick: () => location.reload() }),
        ),
        '',
      );
      return;
    }
    restoreSession();
    if (state.session) {
      startIdleWatch();
      showAccount();
    }
    route();
  }

  boot();
})();
