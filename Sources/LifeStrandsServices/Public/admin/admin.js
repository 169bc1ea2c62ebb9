'use strict';
// The admin panel: plain DOM, no build step. Every state is drawn as badges, diffs and charts.

const $ = (id) => document.getElementById(id);

/** An element with attributes (`class`, `text`, `data-*`, `on<event>` handlers) and children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const badge = (state, text) => el('span', { class: 'badge', 'data-state': state, text: text ?? state });

function ago(iso) {
  if (!iso) return '—';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}
const when = (iso) => el('time', { datetime: iso, title: iso ? new Date(iso).toLocaleString() : '', text: ago(iso) });
const mib = (bytes) => `${Math.round(bytes / 1048576)} MiB`;

// MARK: API and sign-in

let token = new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('ls-admin-token') || '';
if (location.hash.includes('token=')) {
  // Out of the address bar, where it would be bookmarked; kept for this tab, so a reload stays signed in.
  sessionStorage.setItem('ls-admin-token', token);
  history.replaceState(null, '', location.pathname);
}
$('token').value = token;
$('token').addEventListener('change', () => {
  token = $('token').value.trim();
  sessionStorage.setItem('ls-admin-token', token);
  $('signin').hidden = true;
  $('token').classList.remove('needed');
  refresh();
});

/** One API call: `{status, ok, data, etag}`. A 401 or 403 shows why at the top. */
async function api(method, path, body, headers = {}) {
  const sent = { ...headers };
  if (token) sent.Authorization = `Bearer ${token}`;
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (response.status === 401 || response.status === 403) {
    const message = data?.error?.message || 'not allowed';
    $('signin').textContent = response.status === 401
      ? `An admin token is needed: paste one above (mint one with “lifestrands token create --role admin --sub you”). The server said: ${message}.`
      : `This token may not do that: ${message}.`;
    $('signin').hidden = false;
    $('token').classList.add('needed');
  }
  return { status: response.status, ok: response.ok, data, etag: response.headers.get('ETag') };
}

const problem = (result) => result.data?.error?.message || `the server answered ${result.status}`;

// MARK: Tabs

let current = 'overview';
for (const button of document.querySelectorAll('.tabs button')) {
  button.addEventListener('click', () => show(button.dataset.tab));
}
function show(tab) {
  current = tab;
  for (const button of document.querySelectorAll('.tabs button')) button.classList.toggle('active', button.dataset.tab === tab);
  for (const section of document.querySelectorAll('.tab')) section.hidden = section.id !== `tab-${tab}`;
  refresh();
}
const loaders = {
  overview: loadOverview, review: loadReview, npcs: loadNPCs, queue: loadQueue, models: loadModels, alerts: loadAlerts,
};
async function refresh() {
  await Promise.all([loaders[current](), loadCounts()]);
}

// MARK: Overview: health and charts

async function loadOverview() {
  const health = await api('GET', '/api/monitor/health');
  showOverall(health);
  if (!health.data?.components) return;
  $('components').replaceChildren(...health.data.components.map((component) =>
    el('div', { class: 'component', 'data-name': component.name },
      el('h4', {}, component.name.replace('_', ' '), badge(component.state)),
      el('p', { text: component.detail }))));
  await Promise.all(charts.map(drawChart));
}

const palette = ['#3b5bdb', '#e8590c', '#2b8a3e', '#ae3ec9'];
const charts = [
  { id: 'chart-tokens', lines: [['all models', 'sum(rate(lifestrands_generated_tokens_total[1m]))']] },
  {
    id: 'chart-ttft', lines: [
      ['p50', 'histogram_quantile(0.5, rate(lifestrands_time_to_first_token_seconds_bucket{model="chat"}[5m]))'],
      ['p95', 'histogram_quantile(0.95, rate(lifestrands_time_to_first_token_seconds_bucket{model="chat"}[5m]))'],
    ],
  },
  { id: 'chart-queue', lines: [['queued', 'lifestrands_summary_jobs{state="queued"}']] },
  { id: 'chart-conversations', lines: [['open', 'lifestrands_conversations_active']] },
];

/** Draws each line's last 15 minutes from the monitor's own samples. */
async function drawChart(chart) {
  const figure = $(chart.id);
  const lines = await Promise.all(chart.lines.map(async ([label, expr]) => {
    const result = await api('GET', `/api/monitor/series?minutes=15&expr=${encodeURIComponent(expr)}`);
    const points = (result.data?.points || [])
      .map((point) => ({ t: Date.parse(point.at), v: point.series[0]?.value }))
      .filter((point) => typeof point.v === 'number');
    return { label, points };
  }));
  const canvas = figure.querySelector('canvas');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 560, height = canvas.clientHeight || 180;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  const end = Date.now(), start = end - 15 * 60 * 1000;
  const values = lines.flatMap((line) => line.points.map((point) => point.v));
  const top = Math.max(1e-9, ...values) * 1.15 || 1;
  const left = 44, bottom = height - 18;
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#667085';
  g.strokeStyle = '#e3e6ec';
  for (let i = 0; i <= 4; i++) {
    const y = bottom - (bottom - 8) * i / 4;
    g.beginPath(); g.moveTo(left, y); g.lineTo(width - 6, y); g.stroke();
    g.fillText(format(top * i / 4), 2, y + 4);
  }
  g.fillText('15 min ago', left, height - 4);
  g.fillText('now', width - 28, height - 4);
  const x = (t) => left + (width - 6 - left) * (t - start) / (end - start);
  const y = (v) => bottom - (bottom - 8) * v / top;
  lines.forEach((line, index) => {
    g.strokeStyle = palette[index % palette.length];
    g.lineWidth = 2;
    g.beginPath();
    line.points.forEach((point, i) => (i ? g.lineTo(x(point.t), y(point.v)) : g.moveTo(x(point.t), y(point.v))));
    g.stroke();
  });
  const count = lines.reduce((sum, line) => sum + line.points.length, 0);
  figure.dataset.points = String(count);
  figure.querySelector('.legend').replaceChildren(...lines.map((line, index) => {
    const swatch = el('i');
    swatch.style.background = palette[index % palette.length];
    const last = line.points.at(-1);
    return el('span', {}, swatch, `${line.label}: ${last ? format(last.v) : 'no data yet'}`);
  }));
}
const format = (value) => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));

// MARK: Counts on the tabs

async function loadCounts() {
  const [pending, alerts] = await Promise.all([api('GET', '/api/summaries?state=pending&limit=100'), api('GET', '/api/monitor/alerts?limit=1')]);
  const reviews = pending.data?.analyses?.length || 0;
  $('review-count').textContent = reviews;
  $('review-count').hidden = !reviews;
  const firing = (alerts.data?.rules || []).filter((rule) => rule.state === 'firing').length;
  $('alert-count').textContent = firing;
  $('alert-count').hidden = !firing;
  // The overview reads the health report itself; other tabs fetch it here for the header's badge.
  if (current !== 'overview') showOverall(await api('GET', '/api/monitor/health'));
}

function showOverall(health) {
  const overall = health.data?.status || 'unknown';
  $('overall').dataset.state = overall;
  $('overall').textContent = overall;
}

// MARK: Diffs of Life Strands

/** RFC 7396: what a merge patch makes of `target`. */
function mergePatch(target, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
/** One readable line for an item of a list: a memory's content, a knowledge item's, or the value. */
function describe(value) {
  if (!isObject(value)) return typeof value === 'string' ? value : JSON.stringify(value);
  const text = value.content ?? value.name ?? value.topic;
  const extra = ['importance', 'topic', 'confidence'].filter((key) => key in value && value[key] !== text).map((key) => `${key} ${value[key]}`);
  return text !== undefined ? `${text}${extra.length ? ` (${extra.join(', ')})` : ''}` : JSON.stringify(value);
}

/** Rows `{path, kind: added|removed|changed, before, after}`; lists compare as sets of their items. */
function diff(before, after, path = '', rows = []) {
  if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      diff(before[key], after[key], path ? `${path}.${key}` : key, rows);
    }
  } else if (Array.isArray(before) || Array.isArray(after)) {
    const was = (before || []).map(describe), is = (after || []).map(describe);
    for (const item of is.filter((item) => !was.includes(item))) rows.push({ path, kind: 'added', after: item });
    for (const item of was.filter((item) => !is.includes(item))) rows.push({ path, kind: 'removed', before: item });
  } else if (isObject(before) || isObject(after)) {
    diff(isObject(before) ? before : {}, isObject(after) ? after : {}, path, rows);
  } else if (before !== after) {
    const kind = before === undefined ? 'added' : after === undefined ? 'removed' : 'changed';
    rows.push({ path, kind, before: before === undefined ? undefined : String(before), after: after === undefined ? undefined : String(after) });
  }
  return rows;
}

function diffView(rows) {
  if (!rows.length) return el('div', { class: 'diff' }, el('span', { class: 'none', text: 'No change to the Life Strand.' }));
  return el('div', { class: 'diff' }, rows.map((row) => el('div', { class: row.kind, 'data-path': row.path },
    el('span', { class: 'path', text: row.path }),
    row.kind === 'changed'
      ? el('span', {}, el('del', { text: row.before }), el('ins', { text: row.after }))
      : el('span', { text: `${row.kind === 'added' ? '+ ' : '− '}${row.kind === 'added' ? row.after : row.before}` }))));
}

// MARK: Review queue

const npcCache = new Map();
async function npc(id) {
  const result = await api('GET', `/api/npcs/${id}`);
  if (result.ok) npcCache.set(id, result.data);
  return result.ok ? result.data : npcCache.get(id);
}

async function loadReview() {
  const result = await api('GET', '/api/summaries?state=pending&limit=50');
  const analyses = result.data?.analyses || [];
  $('review-empty').hidden = analyses.length > 0;
  const cards = [];
  for (const analysis of analyses) cards.push(await reviewCard(analysis));
  $('review-list').replaceChildren(...cards);
}

async function reviewCard(stored) {
  const subject = await npc(stored.npc_id);
  const strand = subject?.life_strand || {};
  const proposed = mergePatch(strand, stored.proposed_change || {});
  const card = el('article', { class: 'card analysis', 'data-analysis': stored.analysis_id });
  const status = el('p', { class: 'error-banner', role: 'alert', hidden: true });
  const decide = async (path, body) => {
    const answer = await api('POST', `/api/summaries/${stored.analysis_id}/${path}`, body);
    if (answer.ok) { card.remove(); loadCounts(); if (!$('review-list').children.length) $('review-empty').hidden = false; return answer; }
    status.textContent = problem(answer);
    status.hidden = false;
    return answer;
  };
  const editor = el('div', { hidden: true });
  card.append(
    el('h3', {}, strand.name || 'An NPC', el('span', { class: 'muted', text: `with ${stored.user_id}` }),
      badge(stored.confidence >= 0.8 ? 'ok' : 'pending', `confidence ${stored.confidence.toFixed(2)}`), when(stored.created_at)),
    el('p', { class: 'summary', text: stored.analysis.summary }),
    stored.confidence_notes?.length ? el('p', { class: 'muted', text: stored.confidence_notes.join(' · ') }) : null,
    el('h4', { text: 'Proposed change' }),
    diffView(diff(strand, proposed)),
    status,
    el('div', { class: 'actions' },
      el('button', { class: 'primary', 'data-action': 'approve', onclick: () => decide('approve', {}), text: 'Approve' }),
      el('button', { 'data-action': 'edit', onclick: () => { editor.hidden = !editor.hidden; }, text: 'Edit, then approve' }),
      el('button', { class: 'danger', 'data-action': 'reject', onclick: () => decide('reject', {}), text: 'Reject' })),
    editor);
  editor.append(analysisEditor(stored.analysis, async (edited, showErrors) => {
    const answer = await decide('approve', { analysis: edited });
    if (answer.status === 422) showErrors(answer.data.error.details?.issues || []);
  }));
  return card;
}

/** A form over an analysis: its summary, and each inference kept or dropped and edited. */
function analysisEditor(analysis, submit) {
  const form = el('div', { class: 'form' });
  const summary = field('Summary', 'summary', el('textarea', {}, analysis.summary));
  form.append(summary.node);
  const items = [];
  const list = (key, title, text, number) => {
    if (!analysis[key]?.length) return;
    form.append(el('h4', { text: title }));
    analysis[key].forEach((item, index) => {
      const keep = el('input', { type: 'checkbox', checked: true, 'aria-label': `keep ${key} ${index + 1}` });
      const textField = field(text.label(item), null, el('input', { value: item[text.key] ?? '' }));
      const numberField = number ? field(number.label, null, el('input', { type: 'number', step: number.step, value: item[number.key] })) : null;
      form.append(el('div', { class: 'item', 'data-list': key }, keep, textField.node, numberField?.node ?? el('span')));
      items.push({ key, item, keep, textField, numberField, text, number });
    });
  };
  list('new_memories', 'New memories', { key: 'content', label: () => 'Memory' }, { key: 'importance', label: 'Importance', step: 1 });
  list('learned_knowledge', 'Learned knowledge', { key: 'content', label: (item) => `About ${item.topic}` }, { key: 'confidence', label: 'Confidence', step: 0.05 });
  list('relationship_updates', 'Relationship', { key: 'reason', label: (item) => `With ${item.who}: why` }, { key: 'affinity_delta', label: 'Affinity ±', step: 1 });
  list('personality_changes', 'Personality', { key: 'evidence', label: (item) => `${item.change} “${item.trait}”: evidence` });
  const banner = el('p', { class: 'error-banner', role: 'alert', hidden: true });
  form.append(banner, el('div', { class: 'actions' }, el('button', {
    class: 'primary', 'data-action': 'save-approve', text: 'Save and approve',
    onclick: () => {
      const edited = { ...analysis, summary: summary.input.value };
      const owners = { summary };
      for (const key of ['new_memories', 'learned_knowledge', 'relationship_updates', 'personality_changes']) edited[key] = [];
      for (const entry of items) {
        if (!entry.keep.checked) continue;
        const index = edited[entry.key].length;
        const item = { ...entry.item, [entry.text.key]: entry.textField.input.value };
        owners[`${entry.key}[${index}].${entry.text.key}`] = entry.textField;
        if (entry.number) {
          item[entry.number.key] = Number(entry.numberField.input.value);
          owners[`${entry.key}[${index}].${entry.number.key}`] = entry.numberField;
        }
        edited[entry.key].push(item);
      }
      for (const owner of Object.values(owners)) owner.clear();
      banner.hidden = true;
      submit(edited, (issues) => {
        const unplaced = [];
        for (const issue of issues) (owners[issue.path] ? owners[issue.path].fail(issue.message) : unplaced.push(`${issue.path}: ${issue.message}`));
        banner.textContent = unplaced.join('; ');
        banner.hidden = !unplaced.length;
      });
    },
  })));
  return form;
}

/** A labelled input that can show its own error. */
function field(label, path, input) {
  const error = el('span', { class: 'error', role: 'alert', hidden: true });
  const id = `f${Math.random().toString(36).slice(2)}`;
  input.id = id;
  const node = el('div', { class: 'field', 'data-path': path || undefined }, el('label', { for: id, text: label }), input, error);
  return {
    node, input,
    fail(message) { node.classList.add('invalid'); error.textContent = message; error.hidden = false; },
    clear() { node.classList.remove('invalid'); error.hidden = true; },
  };
}

// MARK: NPCs: editor and revisions

let npcs = [];
let selected = null;
$('npc-filter').addEventListener('input', renderNPCList);

async function loadNPCs() {
  const result = await api('GET', '/api/npcs?limit=200');
  npcs = result.data?.npcs || [];
  renderNPCList();
}

function renderNPCList() {
  const filter = $('npc-filter').value.trim().toLowerCase();
  $('npc-list').replaceChildren(...npcs.filter((item) => item.name.toLowerCase().includes(filter)).map((item) =>
    el('li', {}, el('button', { class: item.npc_id === selected ? 'active' : undefined, 'data-npc': item.npc_id, onclick: () => openNPC(item.npc_id) },
      item.name, el('span', { class: 'sub', text: [item.occupation, item.location].filter(Boolean).join(' · ') || '—' })))));
}

const strandFields = [
  ['Name', 'name'], ['Age', 'background.age', 'number'], ['Occupation', 'background.occupation'], ['Location', 'background.location'],
  ['History', 'background.history', 'textarea'], ['Mood', 'current_status.mood'], ['Energy', 'current_status.energy'],
  ['Health', 'current_status.health'], ['Traits (comma-separated)', 'personality.traits', 'list'],
  ['Motivations (comma-separated)', 'personality.motivations', 'list'], ['Fears (comma-separated)', 'personality.fears', 'list'],
];
const read = (object, path) => path.split('.').reduce((value, key) => value?.[key], object);
function write(object, path, value) {
  const keys = path.split('.');
  let target = object;
  for (const key of keys.slice(0, -1)) target = target[key] = isObject(target[key]) ? target[key] : {};
  if (value === undefined) delete target[keys.at(-1)]; else target[keys.at(-1)] = value;
}

/** Shows the NPC's editor or revisions; `notice` is a line to show above them (what was just saved). */
async function openNPC(id, view = 'edit', notice) {
  selected = id;
  renderNPCList();
  const result = await api('GET', `/api/npcs/${id}`);
  if (!result.ok) { $('npc-detail').replaceChildren(el('p', { class: 'error-banner', text: problem(result) })); return; }
  const record = result.data;
  const tabs = el('div', { class: 'subtabs' },
    el('button', { class: view === 'edit' ? 'active' : undefined, 'data-view': 'edit', onclick: () => openNPC(id, 'edit'), text: 'Edit' }),
    el('button', { class: view === 'revisions' ? 'active' : undefined, 'data-view': 'revisions', onclick: () => openNPC(id, 'revisions'), text: 'Revisions' }));
  const head = el('h2', {}, record.life_strand.name, ' ', badge('ok', `revision ${record.revision}`));
  const saved = notice ? el('p', { class: 'muted saved', text: notice }) : null;
  $('npc-detail').replaceChildren(head, tabs, saved ?? '', view === 'edit' ? npcEditor(record, result.etag) : await revisionsView(record));
}

function npcEditor(record, etag) {
  const card = el('div', { class: 'card form', 'data-editor': record.npc_id });
  const fields = strandFields.map(([label, path, kind]) => {
    const value = read(record.life_strand, path);
    const input = kind === 'textarea' ? el('textarea', {}, value ?? '')
      : el('input', { type: kind === 'number' ? 'number' : 'text', value: kind === 'list' ? (value || []).join(', ') : value ?? '' });
    return { path, kind, ...field(label, path, input) };
  });
  const banner = el('p', { class: 'error-banner', role: 'alert', hidden: true });
  card.append(...fields.map((f) => f.node), banner, el('div', { class: 'actions' }, el('button', {
    class: 'primary', 'data-action': 'save', text: 'Save',
    onclick: async () => {
      const strand = structuredClone(record.life_strand);
      for (const f of fields) {
        const text = f.input.value.trim();
        const value = f.kind === 'list' ? text.split(',').map((part) => part.trim()).filter(Boolean)
          : f.kind === 'number' ? (text === '' ? undefined : Number(text)) : (text === '' && f.path !== 'name' ? undefined : f.input.value);
        write(strand, f.path, value);
      }
      for (const f of fields) f.clear();
      banner.hidden = true;
      const answer = await api('PUT', `/api/npcs/${record.npc_id}`, strand, etag ? { 'If-Match': etag } : {});
      if (answer.ok) {
        await openNPC(record.npc_id, 'edit', `Saved as revision ${answer.data.revision}.`);
        loadNPCs();
        return;
      }
      const unplaced = [];
      for (const issue of answer.data?.error?.details?.issues || []) {
        const owner = fields.find((f) => issue.path === f.path || issue.path.startsWith(`${f.path}[`));
        owner ? owner.fail(issue.message) : unplaced.push(`${issue.path}: ${issue.message}`);
      }
      banner.textContent = answer.status === 412 ? 'Someone changed this NPC since you opened it: reload it, then edit again.'
        : unplaced.length ? unplaced.join('; ') : answer.status === 422 ? 'Fix the fields marked above.' : problem(answer);
      banner.hidden = false;
    },
  })));
  return card;
}

async function revisionsView(record) {
  const result = await api('GET', `/api/npcs/${record.npc_id}/revisions`);
  const revisions = (result.data?.revisions || []).slice().reverse();
  const compare = el('div', { class: 'compare' });
  const pick = { a: revisions[1]?.revision, b: revisions[0]?.revision };
  const rows = revisions.map((revision) => el('tr', { 'data-revision': revision.revision },
    el('td', {}, `#${revision.revision}`),
    el('td', {}, badge(revision.change === 'restored' ? 'pending' : 'ok', revision.change), revision.restored_from ? ` from #${revision.restored_from}` : ''),
    el('td', {}, when(revision.created_at)),
    el('td', {},
      el('label', {}, el('input', { type: 'radio', name: 'rev-a', value: revision.revision, checked: revision.revision === pick.a, onchange: () => { pick.a = revision.revision; } }), ' from '),
      el('label', {}, el('input', { type: 'radio', name: 'rev-b', value: revision.revision, checked: revision.revision === pick.b, onchange: () => { pick.b = revision.revision; } }), ' to')),
    el('td', {}, revision.revision === record.revision ? el('span', { class: 'muted', text: 'current' })
      : el('button', { 'data-action': 'restore', text: 'Restore', onclick: async () => {
        const answer = await api('POST', `/api/npcs/${record.npc_id}/revisions/${revision.revision}/restore`);
        if (answer.ok) openNPC(record.npc_id, 'revisions'); else compare.replaceChildren(el('p', { class: 'error-banner', text: problem(answer) }));
      } }))));
  const showDiff = async () => {
    if (!pick.a || !pick.b) return;
    const [a, b] = await Promise.all([pick.a, pick.b].map((n) => api('GET', `/api/npcs/${record.npc_id}/revisions/${n}`)));
    compare.replaceChildren(el('h4', { text: `Revision #${pick.a} → #${pick.b}` }), diffView(diff(a.data?.life_strand || {}, b.data?.life_strand || {})));
  };
  const table = el('table', { class: 'table revisions' },
    el('thead', {}, el('tr', {}, ['Revision', 'Change', 'When', 'Compare', ''].map((h) => el('th', { text: h })))), el('tbody', {}, rows));
  const button = el('button', { class: 'primary', 'data-action': 'compare', text: 'Compare', onclick: showDiff });
  const view = el('div', {}, table, el('div', { class: 'actions' }, button), compare);
  if (revisions.length > 1) await showDiff();
  return view;
}

// MARK: Summary queue

async function loadQueue() {
  const [worker, jobs] = await Promise.all([api('GET', '/api/summaries/worker'), api('GET', '/api/summaries/jobs?limit=100')]);
  const paused = worker.data?.paused, running = worker.data?.running;
  const workerState = !running ? 'down' : paused ? 'paused' : 'running';
  $('worker-state').dataset.state = workerState;
  $('worker-state').textContent = workerState;
  $('worker-toggle').textContent = paused ? 'Resume' : 'Pause';
  $('worker-toggle').onclick = async () => { await api('POST', `/api/summaries/worker/${paused ? 'resume' : 'pause'}`); loadQueue(); };
  const counts = jobs.data?.counts || {};
  $('job-counts').replaceChildren(...['queued', 'running', 'done', 'dead'].map((state) =>
    badge(counts[state] ? state : 'off', `${counts[state] ?? 0} ${state}`)));
  $('job-rows').replaceChildren(...(jobs.data?.jobs || []).map((job) => el('tr', { 'data-job': job.job_id, 'data-state': job.state },
    el('td', {}, badge(job.state)), el('td', {}, el('code', { text: job.session_id.slice(0, 8) })),
    el('td', {}, `${job.attempts} of ${job.max_attempts}`), el('td', {}, when(job.created_at)),
    el('td', { class: 'error-text', text: job.last_error || '' }),
    el('td', {}, job.state === 'dead' ? el('button', { 'data-action': 'retry', text: 'Retry', onclick: async () => {
      await api('POST', `/api/summaries/jobs/${job.job_id}/retry`); loadQueue();
    } }) : ''))));
}

// MARK: Models

async function loadModels() {
  const result = await api('GET', '/api/models/status');
  const status = result.data;
  if (!status?.models) return;
  const share = status.memory.budget_bytes ? Math.min(100, 100 * status.memory.resident_bytes / status.memory.budget_bytes) : 0;
  const meter = el('div', { class: 'meter' }, el('span'));
  meter.firstChild.style.width = `${share}%`;
  $('memory').replaceChildren(el('strong', { text: 'Model memory ' }), `${mib(status.memory.resident_bytes)} of ${mib(status.memory.budget_bytes)} budget`, meter);
  const message = el('p', { class: 'error-banner', hidden: true });
  $('model-cards').replaceChildren(...status.models.map((model) => {
    const act = (action) => async () => {
      message.hidden = true;
      const answer = await api('POST', `/api/models/${action}`, { type: model.type });
      if (!answer.ok) { message.textContent = problem(answer); message.hidden = false; }
      loadModels();
    };
    return el('article', { class: 'card', 'data-model': model.type },
      el('h3', {}, `${model.type} `, badge(model.loaded ? 'loaded' : 'unloaded', model.loaded ? 'resident' : 'not resident')),
      el('dl', { class: 'facts' },
        el('dt', { text: 'File' }), el('dd', { text: model.path }),
        el('dt', { text: 'Memory' }), el('dd', { text: model.loaded ? mib(model.footprint_bytes) : '—' }),
        el('dt', { text: 'Sequences' }), el('dd', { text: `${model.active_sequences ?? 0} of ${model.sequences ?? '—'} in use` }),
        el('dt', { text: 'Tokens/s' }), el('dd', { text: (model.recent_tokens_per_second ?? 0).toFixed(1) })),
      model.type === 'embedding' ? null : el('div', { class: 'actions' },
        el('button', { 'data-action': 'switch', onclick: act('switch'), text: 'Make resident' }),
        el('button', { 'data-action': 'reload', onclick: act('reload'), text: 'Reload from file' })));
  }), message);
}

// MARK: Alerts

async function loadAlerts() {
  const result = await api('GET', '/api/monitor/alerts?limit=100');
  const rules = result.data?.rules || [];
  $('rule-rows').replaceChildren(...rules.map((rule) => el('tr', { 'data-rule': rule.name, 'data-state': rule.state },
    el('td', {}, el('strong', { text: rule.name }), el('div', { class: 'muted', text: rule.summary })),
    el('td', {}, badge(rule.state)), el('td', {}, badge(rule.severity)),
    el('td', {}, rule.alerts[0] ? when(rule.alerts[0].since) : '—'),
    el('td', {}, el('code', { text: rule.expr }), rule.for_seconds ? ` for ${rule.for_seconds / 60} min` : ''))));
  const history = result.data?.history || [];
  $('history-empty').hidden = history.length > 0;
  $('history').replaceChildren(...history.map((change) => el('li', { 'data-state': change.state },
    when(change.at), badge(change.state), el('strong', { text: change.alert }),
    el('span', { class: 'muted', text: `${change.previous_state} → ${change.state}${change.value !== null ? `, value ${format(change.value)}` : ''}` }))));
}

refresh();
setInterval(() => { if (!document.hidden && ['overview', 'alerts', 'queue'].includes(current)) refresh(); }, 5000);
