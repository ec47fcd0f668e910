// Handoff operator console: one module, no framework, no build step. Reads the admin API (/api/*) with the bearer
// token kept in sessionStorage (never in the URL, never in localStorage). Everything that comes from the API is put
// into the page as text (text nodes, textContent), never as HTML. Emails are never written to the browser console.

const TOKEN_KEY = 'handoffAdminToken';
const REFRESH_MS = 10000;
const POLL_MS = 1000;
const SECTIONS = ['feeds', 'drift', 'customer', 'deliveries'];
const TEXT_INPUTS = 'input:not([type=checkbox]):not([type=radio]):not([type=button]):not([type=submit]), textarea';

const state = {
  token: null,
  tab: 'feeds',
  timer: null,
  busy: {},              // section -> a load is in progress
  again: {},             // section -> load once more when it ends (a user action came in meanwhile)
  lastInputAt: 0,        // the last keystroke in any input
  report: null,          // the reconciliation report shown
  polling: null,         // the reconciliation run being polled
  customerEmail: null,   // the customer shown, refreshed for the same email
  deliverySystems: new Set(),
  failed: [],            // the failed deliveries shown
  replayed: new Map(),   // delivery id -> system: replayed from this page, kept in the table with their status
};

const $ = (id) => document.getElementById(id);

/* ---------- DOM and formatting helpers ---------- */

/** An element with attributes and children; strings become text nodes, so API data is never parsed as HTML. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === '') continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const td = (content, cls = null, attrs = {}) => el('td', { class: cls, ...attrs }, content ?? '—');
const emptyRow = (columns, text) => el('tr', { class: 'empty' }, el('td', { colspan: columns }, text));
const setRefreshStatus = (text) => { $('refresh-status').textContent = text; };

function setMessage(id, text, isError = false) {
  $(id).textContent = text;
  $(id).classList.toggle('is-error', isError);
}

const pad = (n) => String(n).padStart(2, '0');
const clock = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
const count = (n) => Number(n ?? 0).toLocaleString('en-US');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A value safe in a class name (status-stale, state-delivered). */
const cssToken = (value) => String(value || 'unknown').toLowerCase().replace(/[^a-z0-9-]/g, '-');
/** wouldMail -> would-mail: the report's totals keys read as the docs' category names. */
const kebab = (key) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function formatTime(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return iso ? String(iso) : '—';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(d)}`;
}

/** A <time> in local time, with how long ago; the API's ISO instant in datetime and title. */
function timeEl(iso, withAgo = true) {
  if (!iso) return '—';
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  const ago = withAgo && Number.isFinite(seconds) ? ` (${human(seconds)} ago)` : '';
  return el('time', { datetime: iso, title: iso }, formatTime(iso) + ago);
}

/** 90s, 5m, 3h12m, 2d4h: the hub's own way of writing durations (FeedStatus.human). */
function human(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  const [big, unit, rest, restUnit] = s < 172800 ? [3600, 'h', 60, 'm'] : [86400, 'd', 3600, 'h'];
  const remainder = Math.floor((s % big) / rest);
  return `${Math.floor(s / big)}${unit}${remainder ? remainder + restUnit : ''}`;
}

function humanDelay(ms) {
  if (ms == null) return '—';
  if (ms < 1000) return `${ms} ms`;
  return ms < 120000 ? `${(ms / 1000).toFixed(1)} s` : human(ms / 1000);
}

/** Seconds of an ISO-8601 duration as Java's Duration.toString writes it (PT6H, PT1H30M, PT0.5S). */
function parseDuration(iso) {
  const m = /^P(?:([\d.]+)D)?(?:T(?:([\d.]+)H)?(?:([\d.]+)M)?(?:([\d.]+)S)?)?$/.exec(iso || '');
  if (!m) return null;
  const [, d, h, min, s] = m.map((v) => Number(v || 0));
  return d * 86400 + h * 3600 + min * 60 + s;
}

/** j***@example.com, as the reconciliation report masks emails (GET /api/deliveries returns them unmasked). */
function mask(email) {
  const at = (email || '').indexOf('@');
  return at <= 0 ? '***' : `${email.charAt(0)}***${email.substring(at)}`;
}

/** Every email in a text masked (a vendor's answer may echo the customer's address). */
const maskEmails = (text) => String(text || '').replace(/[^\s"'<>,;:()[\]{}]+@[^\s"'<>,;:()[\]{}]+/g, mask);

function excerpt(text, max = 160) {
  const flat = maskEmails(text).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/* ---------- API ---------- */

/** An error with the HTTP status (0: no answer); 401s have signed out already. */
const apiError = (status, message) => Object.assign(new Error(message), { status });
const signedOut = (error) => error.status === 401;
/** The API's {"error": {"code", "message"}}, or a fallback. */
const errorText = (data, fallback) => (data && data.error && data.error.message) || fallback;

/** One HTTP call with a bearer token: its status and JSON body (null if none). */
async function request(path, token, method = 'GET', body = undefined) {
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, cache: 'no-store', body: body && JSON.stringify(body) });
  } catch {
    throw apiError(0, 'the hub did not answer');
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: the status speaks */ }
  return { status: response.status, ok: response.ok, data };
}

/** The admin API with the session's token: a 401 signs out; other non-2xx throw unless listed in {@code allow}. */
async function api(path, { method = 'GET', body, allow = [] } = {}) {
  const response = await request(path, state.token, method, body);
  if (response.status === 401) {
    signOut(`Signed out: ${errorText(response.data, 'the token was refused')}`);
    throw apiError(401, 'unauthorized');
  }
  if (!response.ok && !allow.includes(response.status)) {
    throw apiError(response.status, errorText(response.data, `the hub answered ${response.status}`));
  }
  return response;
}

function showActionError(messageId, error) {
  if (!signedOut(error)) setMessage(messageId, error.message, true);
}

/* ---------- Login ---------- */

function showLogin(message) {
  $('app').hidden = true;
  $('app-controls').hidden = true;
  $('login-form').hidden = false;
  $('login-error').hidden = !message;
  $('login-error').textContent = message || '';
  $('token').focus();
}

async function login(event) {
  event.preventDefault();
  const token = $('token').value.trim();
  if (!token) return showLogin('Enter the admin token.');
  $('login-button').disabled = true;
  try {
    const { status, data } = await request('/api/feeds', token);
    if (status !== 200) return showLogin(errorText(data, `The hub answered ${status}`));
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    enterApp(token, data);
  } catch (error) {
    showLogin(`The hub did not answer (${error.message}).`);
  } finally {
    $('login-button').disabled = false;
  }
}

/** Shows the console; {@code feeds} is the gap matrix the login already fetched, if any. */
function enterApp(token, feeds) {
  state.token = token;
  $('login-form').hidden = true;
  $('login-error').hidden = true;
  $('app').hidden = false;
  $('app-controls').hidden = false;
  if (feeds) {
    renderFeeds(feeds);
    setRefreshStatus(`Updated ${clock(new Date())}`);
  }
  selectTab('feeds', { load: !feeds });
  clearInterval(state.timer);
  state.timer = setInterval(() => $('auto-refresh').checked && !document.hidden && refreshSection(state.tab),
    REFRESH_MS);
}

/** Forgets the token and everything shown, and returns to the login form. */
function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(state.timer);
  Object.assign(state, { token: null, report: null, polling: null, customerEmail: null, failed: [] });
  state.replayed.clear();
  if ($('apply-confirm').open) $('apply-confirm').close();
  for (const id of ['feed-alerts', 'drift-run', 'drift-systems']) $(id).replaceChildren();
  for (const id of ['feeds-table', 'deliveries-table']) $(id).tBodies[0].replaceChildren();
  for (const id of ['drift-message', 'drift-apply-result', 'customer-message', 'deliveries-message']) setMessage(id, '');
  $('customer-email').value = '';
  $('customer-result').hidden = true;
  setRefreshStatus('');
  showLogin(message);
}

/* ---------- Tabs and auto-refresh ---------- */

function selectTab(name, { focus = false, load = true } = {}) {
  state.tab = name;
  for (const section of SECTIONS) {
    const tab = $(`tab-${section}`);
    tab.setAttribute('aria-selected', String(section === name));
    tab.tabIndex = section === name ? 0 : -1;
    $(section).hidden = section !== name;
  }
  if (focus) $(`tab-${name}`).focus();
  if (load) refreshSection(name, { force: true });
}

/** Arrow keys, Home and End move between the tabs (WAI-ARIA tabs pattern). */
function onTabKey(event) {
  const index = SECTIONS.indexOf(state.tab);
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: SECTIONS.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(SECTIONS[(moves[event.key] + SECTIONS.length) % SECTIONS.length], { focus: true });
}

const loaders = { feeds: loadFeeds, drift: loadDrift, customer: loadCustomer, deliveries: loadDeliveries };

/** True while the user types in a text input of the section, or the apply confirmation is open: no re-render. */
function isTyping(name) {
  if ($('apply-confirm').open) return true;
  const active = document.activeElement;
  if (!active || !$(name).contains(active) || !active.matches(TEXT_INPUTS)) return false;
  // The search box counts as typed in while it holds something other than the customer shown.
  if (active.id === 'customer-email') return active.value.trim() !== (state.customerEmail || '');
  return Date.now() - state.lastInputAt < REFRESH_MS;
}

/** Loads a section's data; a forced load (a user action) runs after one in progress instead of being dropped. */
async function refreshSection(name, { force = false } = {}) {
  if (!state.token || (!force && isTyping(name))) return;
  if (state.busy[name]) {
    state.again[name] = state.again[name] || force;
    return;
  }
  state.busy[name] = true;
  try {
    await loaders[name]();
    if (state.token) setRefreshStatus(`Updated ${clock(new Date())}`);
  } catch (error) {
    if (!signedOut(error)) setRefreshStatus(`Refresh failed: ${error.message}`);
  } finally {
    state.busy[name] = false;
  }
  if (state.again[name]) {
    state.again[name] = false;
    await refreshSection(name, { force: true });
  }
}

/* ---------- Feeds (GET /api/feeds) ---------- */

async function loadFeeds() {
  renderFeeds((await api('/api/feeds')).data);
}

function renderFeeds(data) {
  const feeds = (data && data.feeds) || [];
  const body = $('feeds-table').tBodies[0];
  body.replaceChildren(...feeds.map(feedRow));
  if (!feeds.length) body.append(emptyRow(7, 'No feeds in the registry'));
  renderFeedAlerts(feeds);
}

/** The lag a feed is judged by (FeedStatus.lag): an event feed's p95 lag, else the age of its last success. */
const feedLag = (feed) => (feed.mode === 'event' && feed.lagP95Seconds != null ? feed.lagP95Seconds
  : feed.ageSeconds ?? null);

function feedRow(feed) {
  const status = feed.status || 'unknown';
  return el('tr', { 'data-feed': feed.feed }, td(feed.feed), td(feed.mode),
    td(status, `status status-${cssToken(status)}`), td(lagBar(feedLag(feed), parseDuration(feed.tolerance))),
    td(lastSync(feed)), td(feedReasons(feed)), td(feed.system));
}

/** A CSS bar whose full width is the tolerance; amber near it, red over it. */
function lagBar(lagSeconds, toleranceSeconds) {
  const tolerance = toleranceSeconds === null ? '?' : human(toleranceSeconds);
  if (lagSeconds === null) return el('span', { class: 'small' }, `no data yet (tolerance ${tolerance})`);
  const ratio = toleranceSeconds ? lagSeconds / toleranceSeconds : 0;
  const label = `lag ${human(lagSeconds)} of ${tolerance} tolerance`;
  const fill = el('div', { class: `bar-fill${ratio > 1 ? ' over' : ratio > 0.75 ? ' near' : ''}` });
  fill.style.width = `${Math.min(100, Math.round(ratio * 100))}%`;
  return el('div', { class: 'lag', role: 'img', 'aria-label': label, title: label },
    el('div', { class: 'bar-track' }, fill),
    el('span', { class: 'small nowrap', 'aria-hidden': 'true' }, `${human(lagSeconds)} / ${tolerance}`));
}

function lastSync(feed) {
  if (!feed.lastSuccess) return 'never';
  const records = feed.mode !== 'event' && feed.lastSyncRecords != null
    ? el('div', { class: 'small' }, `${count(feed.lastSyncRecords)} record(s)`) : null;
  return [timeEl(feed.lastSuccess), records];
}

function feedReasons(feed) {
  const items = (feed.reasons || []).map((reason) => el('li', {}, reason));
  if (feed.lastFailure) {
    items.push(el('li', {}, 'last failure ', timeEl(feed.lastFailureAt), `: ${feed.lastFailure}`));
  }
  if (feed.staleEvents) items.push(el('li', {}, `${count(feed.staleEvents)} stale event(s) seen`));
  return items.length ? el('ul', { class: 'reasons' }, items) : '—';
}

// Open alerts: the status the silent-failure detector last alerted on for each feed (alertedStatus in the gap matrix;
// it raises feed.stale / feed.silent once when a feed turns so, and clears it with feed.recovered once it is fresh).
function renderFeedAlerts(feeds) {
  const open = feeds.filter((feed) => feed.alertedStatus);
  $('feed-alerts').replaceChildren(...(open.length ? open.map(feedAlert) : [el('li', {}, 'No open alerts')]));
}

function feedAlert(feed) {
  const segments = feed.segments && feed.segments.length ? ` Segments held: ${feed.segments.join(', ')}.` : '';
  return el('li', { 'data-alert-feed': feed.feed },
    el('span', { class: `badge status-${cssToken(feed.alertedStatus)}` }, `feed.${feed.alertedStatus}`), ' ',
    el('strong', {}, feed.feed), ` (${feed.system}): ${(feed.reasons || []).join('; ') || feed.status}.`,
    feed.impact ? ` Impact: ${feed.impact}.` : '', segments);
}

/* ---------- Drift (reconciliation) ---------- */

const runPath = (id) => `/api/reconciliations/${encodeURIComponent(id)}`;

async function loadDrift() {
  if (state.polling) return; // the poll renders the run
  const { status, data } = await api('/api/reconciliations/latest?limit=0', { allow: [404] });
  if (status === 404) {
    state.report = null;
    $('drift-run').replaceChildren(el('p', {}, 'No run yet'));
    $('drift-systems').replaceChildren();
    $('drift-apply').disabled = true;
    return;
  }
  renderReport(data);
  if (data.status === 'running') pollRun(data.id).catch((error) => showActionError('drift-message', error));
}

async function startDryRun() {
  $('drift-dry-run').disabled = true;
  setMessage('drift-message', 'Starting a dry run…');
  setMessage('drift-apply-result', '');
  try {
    const { data } = await api('/api/reconciliations', { method: 'POST', body: { dryRun: true } });
    setMessage('drift-message', `Dry run ${data.id} started over ${(data.systems || []).join(', ')}: comparing…`);
    await pollRun(data.id);
  } catch (error) {
    showActionError('drift-message', error);
  } finally {
    $('drift-dry-run').disabled = !!state.polling;
  }
}

/** Asks for the run every second until it is no longer running, rendering each answer. */
async function pollRun(id) {
  if (state.polling === id) return;
  state.polling = id;
  $('drift-dry-run').disabled = true;
  try {
    for (;;) {
      const { data } = await api(`${runPath(id)}?limit=0`);
      if (state.polling !== id) return;
      renderReport(data);
      if (data.status !== 'running') {
        setMessage('drift-message', `Run ${id} ${data.status}.`, data.status === 'failed');
        return setRefreshStatus(`Updated ${clock(new Date())}`);
      }
      await sleep(POLL_MS);
    }
  } finally {
    if (state.polling === id) state.polling = null;
    $('drift-dry-run').disabled = !!state.polling;
  }
}

/** The apply button is for a completed dry run not applied yet. */
const canApply = (report) => report.status === 'completed' && report.dryRun === true && !report.appliedAt;

function renderReport(report) {
  state.report = report;
  const systems = report.systems || [];
  const max = Math.max(1, ...systems.filter((s) => s.totals)
    .flatMap((s) => [Number(s.totals.ledgerSuppressed) || 0, Number(s.totals.systemSuppressed) || 0]));
  renderRun(report);
  $('drift-systems').replaceChildren(...systems.map((s) => systemBlock(s, max)));
  $('drift-apply').disabled = !canApply(report);
}

function renderRun(report) {
  const mode = `${report.dryRun ? 'dry run' : 'repair run'}${report.appliedAt ? ', applied ' : ' (not applied)'}`;
  const pairs = [['Run', report.id], ['Status', report.status], ['Mode', [mode, report.appliedAt ? timeEl(report.appliedAt) : null]],
    ['Trigger', report.trigger], ['Started', timeEl(report.startedAt)],
    ['Finished', report.finishedAt ? [timeEl(report.finishedAt, false), ` (${humanDelay(report.durationMs)})`] : '—'],
    ['Purpose', report.purpose]];
  if (report.error) pairs.push(['Error', report.error]);
  $('drift-run').replaceChildren(el('h3', {}, 'Latest run'),
    el('dl', {}, pairs.map(([term, value]) => [el('dt', {}, term), el('dd', {}, value ?? '—')])));
  Object.assign($('drift-run').dataset, { runId: report.id, status: report.status });
}

function systemBlock(system, max) {
  const totals = system.totals;
  const parts = totals ? [
    hbar('Ledger suppressed', totals.ledgerSuppressed, max, 'ledger'),
    hbar(`${system.system} suppressed`, totals.systemSuppressed, max, 'system-side'),
    categoryList(totals), el('p', { class: 'summary' }, system.summary), planList(system.plan, system.repair),
  ] : el('p', { class: 'hint' }, system.status === 'running' ? 'Comparing…' : 'No totals: it did not finish comparing.');
  return el('article', { class: 'system', 'data-system': system.system },
    el('h3', {}, `${system.system} `, el('span', { class: `badge state-${cssToken(system.status)}` }, system.status)),
    system.error ? el('p', { class: 'error' }, system.error) : null, parts,
    el('p', { class: 'small' }, `${count(system.pulled)} pulled in ${count(system.pages)} page(s), `
      + `${count(system.pageRetries)} retried${system.durationMs != null ? `, ${humanDelay(system.durationMs)}` : ''}`));
}

/** One labelled horizontal bar, scaled to the largest total of the run. */
function hbar(label, value, max, kind) {
  const fill = el('div', { class: `bar-fill ${kind}` });
  fill.style.width = `${Math.round(((Number(value) || 0) / max) * 100)}%`;
  return el('div', { class: 'hbar', 'data-bar': kind }, el('span', {}, label),
    el('div', { class: 'bar-track', 'aria-hidden': 'true' }, fill), el('span', { class: 'value' }, count(value)));
}

/** The run's categories with their counts: every total but the two suppressed totals drawn as bars. */
function categoryList(totals) {
  const rows = Object.entries(totals).filter(([key]) => key !== 'ledgerSuppressed' && key !== 'systemSuppressed')
    .map(([key, value]) => el('div', { 'data-category': kebab(key), 'data-total': key },
      el('dt', {}, kebab(key)), el('dd', {}, count(value))));
  return el('dl', { class: 'categories' }, rows);
}

function planList(plan, repair) {
  const items = Object.entries(plan || {}).map(([action, statuses]) => el('li', { 'data-action': action },
    `${action === 'none' ? 'none (reported only)' : action}: `,
    Object.entries(statuses).map(([status, n]) => `${count(n)} ${status}`).join(', ')));
  return [el('h4', {}, 'Plan'), items.length ? el('ul', { class: 'plan' }, items) : el('p', {}, 'No drift.'),
    repair ? el('p', { class: 'small' }, `Repaired so far: ${count(repair.deliveriesPlanned)} deliveries planned, `
      + `${count(repair.suppressionsLearned)} suppressions learned.`) : null];
}

// What POST /api/reconciliations/{id}/apply carries out (DriftRepair.apply): for each system that finished comparing
// (its totals are set), every contact whose action is not "none" and whose action status is still "planned": one
// send-ledger-state delivery or one learned suppression each. Some may still be skipped at apply time (in flight,
// the ledger decided since); the apply's answer counts those.
function planSize(report) {
  const parts = [];
  for (const system of (report.systems || []).filter((s) => s.totals)) {
    for (const [action, statuses] of Object.entries(system.plan || {})) {
      const planned = Number(statuses.planned) || 0;
      if (action !== 'none' && planned) parts.push({ system: system.system, action, planned });
    }
  }
  return { total: parts.reduce((sum, p) => sum + p.planned, 0), parts };
}

function openApplyConfirm() {
  if (!state.report || !canApply(state.report)) return;
  const plan = planSize(state.report);
  // The run whose plan is shown is the one applied, whatever a refresh loads meanwhile.
  $('apply-confirm').dataset.runId = state.report.id;
  $('apply-plan-size').textContent = String(plan.total);
  $('apply-plan-detail').replaceChildren(...plan.parts.map((p) => el('li', {}, `${p.system}: ${p.planned} ${p.action}`)));
  $('apply-confirm').showModal();
  $('apply-confirm-no').focus();
}

async function confirmApply() {
  const id = $('apply-confirm').dataset.runId;
  $('apply-confirm').close();
  if (!id) return;
  $('drift-apply').disabled = true;
  setMessage('drift-apply-result', `Applying run ${id}…`);
  try {
    const { data } = await api(`${runPath(id)}/apply`, { method: 'POST' });
    setMessage('drift-apply-result', `Applied run ${data.id}: ${count(data.deliveriesPlanned)} deliveries planned, `
      + `${count(data.suppressionsLearned)} suppressions learned, ${count(data.skipped)} skipped.`);
    renderReport((await api(`${runPath(id)}?limit=0`)).data);
  } catch (error) {
    showActionError('drift-apply-result', error);
    if (state.report) $('drift-apply').disabled = !canApply(state.report);
  }
}

/* ---------- Customer (consent, timeline, receipts, addresses) ---------- */

async function searchCustomer(event) {
  event.preventDefault();
  const email = $('customer-email').value.trim();
  if (!email) return;
  state.customerEmail = email;
  setMessage('customer-message', 'Searching…');
  await refreshSection('customer', { force: true });
}

async function loadCustomer() {
  const email = state.customerEmail;
  if (!email) return;
  const path = `/api/customers/${encodeURIComponent(email)}`;
  const [consent, addresses] = await Promise.all([api(`${path}/consent`, { allow: [400, 404] }),
    api(`${path}/addresses`, { allow: [400, 404] })]);
  if (email !== state.customerEmail) return; // a newer search took over
  if (consent.status !== 200) {
    $('customer-result').hidden = true;
    return setMessage('customer-message', consent.status === 404 ? 'No customer with this email'
      : errorText(consent.data, 'The search was refused'), consent.status !== 404);
  }
  const data = consent.data;
  setMessage('customer-message', '');
  const ids = Object.entries(data.systemIds || {}).map(([system, list]) => `${system} (${list.join(', ')})`);
  $('customer-summary').textContent = `Hub id ${data.hubId}. Ids: ${ids.join('; ') || 'none'}.`
    + ((data.merges || []).length ? ` ${data.merges.length} merged customer(s).` : '');
  renderConsent(data.consent || []);
  renderTimeline(data.history || []);
  renderReceipts(data.receipts || []);
  renderAddresses(addresses.status === 200 ? addresses.data : null);
  $('customer-result').hidden = false;
}

function renderConsent(rows) {
  const body = $('consent-table').tBodies[0];
  body.replaceChildren(...rows.map((c) => el('tr', { 'data-channel': c.channel, 'data-purpose': c.purpose },
    td(c.channel), td(c.purpose), td(c.state, `consent-state state-${cssToken(c.state)}`), td(c.reason),
    td(c.sourceSystem, null, { title: c.event ? `${c.event.source} ${c.event.id}` : null }), td(timeEl(c.since)))));
  if (!rows.length) body.append(emptyRow(6, 'No consent on record'));
}

/** The ledger's history, newest decision first: each event, applied or ignored, with its rule. */
function renderTimeline(history) {
  const items = [...history].reverse().map((h) => el('li', { 'data-decision': h.decision },
    timeEl(h.eventTime, false), ' ', el('strong', {}, `${h.channel}/${h.purpose} ${h.state}`),
    h.reason ? ` (${h.reason})` : '', ` from ${h.sourceSystem || '?'}`, h.event ? `, event ${h.event.id}` : '', ': ',
    el('span', { class: `decision decision-${cssToken(h.decision)}` }, h.decision), `, rule ${h.rule}`,
    h.changed ? ` (was ${h.previousState || 'nothing'})` : '',
    el('span', { class: 'small' }, ` · received ${formatTime(h.receivedAt)}`)));
  $('timeline').replaceChildren(...(items.length ? items : [el('li', {}, 'No consent events')]));
}

/** Receipts grouped by change, newest change first; so the first row of each system is its newest receipt. */
function renderReceipts(receipts) {
  const table = $('receipts-table');
  for (const body of [...table.tBodies]) body.remove();
  const groups = new Map();
  for (const r of receipts) { // the API lists them newest first
    const key = r.changeId || `delivery ${r.id}`;
    groups.set(key, [...(groups.get(key) || []), r]);
  }
  const seen = new Set();
  [...groups].forEach(([change, rows], index) => {
    const first = rows[0];
    const body = el('tbody', { 'data-change': change, class: index === 0 ? 'newest-change' : null },
      el('tr', { class: 'change-head' }, el('th', { colspan: 8, scope: 'rowgroup' },
        index === 0 ? el('span', { class: 'newest' }, 'Newest change: ') : 'Change: ', change,
        el('span', { class: 'small' }, ` · ${first.kind} ${first.state || ''} from ${first.originSystem || '?'}, `
          + `received ${formatTime(first.receivedAt)}`))));
    for (const r of rows) {
      body.append(receiptRow(r, !seen.has(r.system)));
      seen.add(r.system);
    }
    table.append(body);
  });
  if (!groups.size) table.append(el('tbody', {}, emptyRow(8, 'No receipts')));
}

function receiptRow(r, latest) {
  return el('tr', { 'data-system': r.system, 'data-receipt-id': r.id, class: latest ? 'latest-for-system' : null },
    td(r.system), td(r.kind), td(r.state), td(r.status, `receipt-status state-${cssToken(r.status)}`),
    td(r.statusReason, 'wrap-anywhere'), td(timeEl(r.confirmedAt, false)),
    td(humanDelay(r.delayMs), 'receipt-delay', { title: r.delayMs == null ? 'not confirmed' : `${r.delayMs} ms` }),
    td(count(r.attempts), 'num'));
}

function formatAddress(a) {
  if (!a || typeof a !== 'object') return a ? String(a) : '—';
  const parts = [a.line1, a.line2, a.city, a.regionCode || a.region, a.postalCode, a.countryCode || a.country];
  return parts.filter(Boolean).join(', ') || JSON.stringify(a);
}

/** A scrolling table with a caption, from rows of cell contents. */
function dataTable(id, caption, headers, rows, emptyText) {
  const body = el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((cell) => td(cell)))));
  if (!rows.length) body.append(emptyRow(headers.length, emptyText));
  return el('div', { class: 'table-wrap' }, el('table', { id }, el('caption', {}, caption),
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))), body));
}

function renderAddresses(data) {
  if (!data) return $('addresses').replaceChildren(el('p', { class: 'hint' }, 'No address data for this customer.'));
  const master = Object.entries(data.master || {}).map(([field, m]) => [field, formatAddress(m.address),
    m.sourceSystem, m.origin, timeEl(m.eventTime, false), m.confirmedAt ? timeEl(m.confirmedAt) : 'not yet',
    String(m.version)]);
  const decisions = (data.decisions || []).map((d) => [timeEl(d.decidedAt, false), d.field, d.sourceSystem,
    d.targetSystem, el('span', { class: `outcome-${cssToken(d.outcome)}` }, d.outcome), d.rule, d.reason,
    d.delivery ? `#${d.delivery.id} ${d.delivery.status}` : '—']);
  $('addresses').replaceChildren(
    dataTable('address-master', 'Address master per field (what the CRM holds)',
      ['Field', 'Address', 'Source', 'Origin', 'Event time', 'CRM confirmed', 'Version'], master, 'No address master yet'),
    dataTable('address-decisions', 'Write-back decisions, newest first',
      ['Decided', 'Field', 'From', 'To', 'Outcome', 'Rule', 'Reason', 'Delivery'], decisions, 'No write-back decisions'));
}

/* ---------- Deliveries (failed, replay) ---------- */

async function loadDeliveries() {
  const system = $('deliveries-system').value;
  const query = new URLSearchParams({ status: 'failed', limit: '200' });
  if (system) query.set('system', system);
  const failed = (await api(`/api/deliveries?${query}`)).data.deliveries || [];
  failed.forEach((d) => state.deliverySystems.add(d.system));
  const replayed = await replayedDeliveries(system, failed);
  state.failed = failed;
  updateSystemFilter();
  const body = $('deliveries-table').tBodies[0];
  body.replaceChildren(...failed.map((d) => deliveryRow(d, false)), ...replayed.map((d) => deliveryRow(d, true)));
  if (!failed.length) body.prepend(emptyRow(7, 'No failed deliveries'));
  $('replay-all').disabled = !failed.length;
}

/**
 * The current receipts of the deliveries replayed from this page (no longer failed). The API has no lookup by
 * delivery id, so they are found among their system's newest receipts.
 */
async function replayedDeliveries(system, failed) {
  const failedIds = new Set(failed.map((d) => d.id));
  const wanted = [...state.replayed].filter(([id, s]) => !failedIds.has(id) && (!system || s === system));
  const found = [];
  for (const s of new Set(wanted.map(([, s]) => s))) {
    const { data } = await api(`/api/deliveries?${new URLSearchParams({ system: s, limit: '1000' })}`);
    found.push(...(data.deliveries || []).filter((d) => state.replayed.has(d.id) && !failedIds.has(d.id)));
  }
  return found;
}

/** All + every system seen with failed deliveries; the selection stays. */
function updateSystemFilter() {
  const select = $('deliveries-system');
  const known = new Set([...select.options].map((o) => o.value));
  [...state.deliverySystems].sort().filter((s) => !known.has(s))
    .forEach((s) => select.append(el('option', { value: s }, s)));
  $('replay-all').textContent = select.value ? `Replay all failed (${select.value})` : 'Replay all failed';
}

/** The vendor's last answer: its HTTP status and an excerpt of the body (or the error when it did not answer). */
function vendorAnswer(answer) {
  const a = answer || {};
  const detail = excerpt(a.body) || excerpt(a.error);
  return [el('strong', {}, a.status == null ? 'no answer' : String(a.status)), detail ? ` · ${detail}` : ''];
}

function deliveryRow(d, replayed) {
  const change = [d.changeId,
    el('div', { class: 'small' }, `${d.kind} ${d.state || ''}${d.statusReason ? ` · ${maskEmails(d.statusReason)}` : ''}`)];
  const action = d.status === 'failed'
    ? el('button', { type: 'button', class: 'replay', 'aria-label': `Replay delivery ${d.id} to ${d.system}` }, 'Replay')
    : el('span', { class: 'small' }, 'replayed');
  return el('tr', { 'data-delivery-id': d.id, 'data-system': d.system, class: replayed ? 'replayed' : null },
    td(d.system), td(mask(d.email)), td(change, 'wrap-anywhere'),
    td(d.status, `delivery-status state-${cssToken(d.status)}`), td(count(d.attempts), 'num'),
    td(vendorAnswer(d.answer), 'vendor-answer wrap-anywhere'), td(action));
}

async function replayOne(row, button) {
  const id = Number(row.dataset.deliveryId);
  button.disabled = true;
  try {
    const { status, data } = await api(`/api/deliveries/${id}/replay`, { method: 'POST', allow: [404, 409] });
    if (status !== 202) {
      setMessage('deliveries-message', `Delivery ${id}: ${errorText(data, `the hub answered ${status}`)}`, true);
    } else {
      state.replayed.set(id, row.dataset.system);
      setMessage('deliveries-message', data.status === 'superseded'
        ? `Delivery ${id} to ${data.system}: superseded (a newer change replaced it; nothing sent)`
        : `Delivery ${id} to ${data.system}: ${data.status} (back in its lane)`);
    }
  } catch (error) {
    showActionError('deliveries-message', error);
  }
  refreshAfterReplay();
}

// POST /api/deliveries/replay requires ?system=: with "All" selected it is called once per system that has failed
// deliveries in the table.
async function replayAll() {
  const selected = $('deliveries-system').value;
  const systems = selected ? [selected] : [...new Set(state.failed.map((d) => d.system))].sort();
  if (!systems.length) return setMessage('deliveries-message', 'No failed deliveries to replay.');
  $('replay-all').disabled = true;
  const answers = [];
  try {
    for (const system of systems) {
      const { data } = await api(`/api/deliveries/replay?${new URLSearchParams({ system })}`, { method: 'POST' });
      answers.push(`${data.system}: ${count(data.replayed)} replayed, ${count(data.superseded)} superseded`);
      state.failed.filter((d) => d.system === system).forEach((d) => state.replayed.set(d.id, d.system));
    }
    setMessage('deliveries-message', `Replay all: ${answers.join('; ')}.`);
  } catch (error) {
    showActionError('deliveries-message', error);
  }
  refreshAfterReplay();
}

/** Reloads the table now and twice shortly after, while the lane sends the replayed deliveries. */
function refreshAfterReplay() {
  refreshSection('deliveries', { force: true });
  for (const delay of [1500, 4000]) {
    setTimeout(() => { if (state.tab === 'deliveries') refreshSection('deliveries', { force: true }); }, delay);
  }
}

/* ---------- Start ---------- */

function init() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', () => signOut());
  for (const name of SECTIONS) {
    $(`tab-${name}`).addEventListener('click', () => selectTab(name));
    $(`tab-${name}`).addEventListener('keydown', onTabKey);
  }
  $('auto-refresh').addEventListener('change', () => {
    if ($('auto-refresh').checked) refreshSection(state.tab, { force: true });
    else setRefreshStatus('Auto-refresh off');
  });
  $('drift-dry-run').addEventListener('click', startDryRun);
  $('drift-apply').addEventListener('click', openApplyConfirm);
  $('apply-confirm-yes').addEventListener('click', confirmApply);
  $('apply-confirm-no').addEventListener('click', () => $('apply-confirm').close());
  $('customer-form').addEventListener('submit', searchCustomer);
  $('deliveries-system').addEventListener('change', () => refreshSection('deliveries', { force: true }));
  $('replay-all').addEventListener('click', replayAll);
  $('deliveries-table').addEventListener('click', (event) => {
    const button = event.target.closest('button.replay');
    if (button && !button.disabled) replayOne(button.closest('tr'), button);
  });
  document.addEventListener('input', () => { state.lastInputAt = Date.now(); });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) enterApp(saved); else showLogin();
}

init();
