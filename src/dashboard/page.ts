/**
 * The operator dashboard: one self-contained HTML page (no build step, no CDN) showing site
 * stats and the busiest swarms, kept live by GraphQL subscriptions over `graphql-transport-ws`
 * on `/graphql`, spoken by a ~60-line inline client. Authentication is the session cookie
 * (same origin); without one the page shows a sign-in form that calls the `login` mutation,
 * which sets it, and on a site with no account yet says where the first admin's setup link is.
 */

export const DASHBOARD_STYLE = `
:root { color-scheme: light dark; font: 15px/1.4 system-ui, sans-serif; }
body { margin: 0 auto; max-width: 60rem; padding: 1.5rem; }
h1 { font-size: 1.3rem; margin: 0 0 1rem; display: flex; gap: .75rem; align-items: baseline; }
#state { font-size: .8rem; font-weight: normal; padding: .1rem .5rem; border-radius: 1rem; background: #8883; }
#state.live { background: #2a63; }
.stats { display: grid; grid-template-columns: repeat(5, 1fr); gap: .75rem; margin-bottom: 1.5rem; }
.stat { border: 1px solid #8885; border-radius: .5rem; padding: .75rem; }
.stat b { display: block; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
.stat span { font-size: .8rem; opacity: .7; text-transform: uppercase; letter-spacing: .05em; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #8883; }
td.n, th.n { text-align: right; }
code { font-size: .85em; }
td.name { max-width: 22rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
form { display: grid; gap: .5rem; max-width: 20rem; }
[hidden] { display: none !important; }
.error { color: #c33; }
`;

export const DASHBOARD_SCRIPT = `
'use strict';
const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat();
const SITE = 'subscription { siteStats { users torrents peers seeders leechers } }';
const BUSY = 'subscription { busiestSwarms { infoHash torrentId seeders leechers completed } }';
let socket = null, retry = 0, timer = null;
// Torrent names by id: swarm events carry ids only, so each name is asked once, in one query
// for all the new ids of an update, over the same socket (a query op of graphql-transport-ws).
const names = new Map();
let shown = [], asked = 0;

function setState(text, live) { $('state').textContent = text; $('state').className = live ? 'live' : ''; }

function renderSite(s) {
  for (const k of ['users', 'torrents', 'peers', 'seeders', 'leechers']) $(k).textContent = fmt.format(s[k]);
}

function askNames(list) {
  const ids = [...new Set(list.map((s) => s.torrentId))].filter((id) => !names.has(id));
  if (ids.length === 0 || !socket || socket.readyState !== 1) return;
  for (const id of ids) names.set(id, null);
  const vars = {};
  const defs = ids.map((id, i) => { vars['i' + i] = id; return '$i' + i + ': ID!'; });
  const fields = ids.map((_, i) => 't' + i + ': torrent(id: $i' + i + ') { id name }');
  socket.send(JSON.stringify({ id: 'names:' + ++asked, type: 'subscribe', payload: { query: 'query (' + defs.join(', ') + ') { ' + fields.join(' ') + ' }', variables: vars } }));
}

function gotNames(data) {
  for (const t of Object.values(data || {})) if (t) names.set(t.id, t.name);
  renderBusy(shown);
}

function renderBusy(list) {
  shown = list;
  askNames(list);
  const body = $('swarms');
  body.replaceChildren(...list.map((s) => {
    const tr = document.createElement('tr');
    const cells = [s.torrentId, s.infoHash, s.seeders, s.leechers, s.completed];
    cells.forEach((v, i) => {
      const td = document.createElement('td');
      if (i === 1) { const c = document.createElement('code'); c.textContent = v; td.append(c); } else td.textContent = i === 0 ? names.get(v) || '#' + v : fmt.format(v);
      if (i === 0) td.className = 'name';
      if (i >= 2) td.className = 'n';
      tr.append(td);
    });
    return tr;
  }));
  $('empty').hidden = list.length > 0;
}

// graphql-transport-ws: connection_init → connection_ack → subscribe {id, payload} → next/error/complete; ping ↔ pong.
function connect() {
  clearTimeout(timer);
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
  const ws = new WebSocket(url, 'graphql-transport-ws');
  socket = ws;
  setState('connecting…', false);
  ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === 'connection_ack') {
      retry = 0;
      for (const [id, name] of names) if (name === null) names.delete(id); // asked on a socket that closed
      setState('live', true);
      $('login').hidden = true;
      $('main').hidden = false;
      ws.send(JSON.stringify({ id: 'site', type: 'subscribe', payload: { query: SITE } }));
      ws.send(JSON.stringify({ id: 'busy', type: 'subscribe', payload: { query: BUSY } }));
    } else if (m.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
    // A torrent the viewer may not see answers null (and an error): it stays '#id'.
    else if (m.type === 'next' && m.id.startsWith('names:')) gotNames(m.payload.data);
    else if (m.id && m.id.startsWith('names:')) { /* the names query's complete, or its error */ }
    else if (m.type === 'next' && m.payload.data) {
      if (m.id === 'site') renderSite(m.payload.data.siteStats);
      if (m.id === 'busy') renderBusy(m.payload.data.busiestSwarms);
    } else if (m.type === 'error' || (m.type === 'next' && m.payload.errors)) setState('error: ' + JSON.stringify(m.payload).slice(0, 120), false);
  };
  ws.onclose = (e) => {
    if (socket !== ws) return;
    if (e.code === 4403) { setState('signed out', false); $('login').hidden = false; $('main').hidden = true; explainFirstRun(); return; }
    setState('reconnecting…', false);
    timer = setTimeout(connect, Math.min(30000, 500 * 2 ** retry++));
  };
}

// A site with no account yet: say where the operator finds the first admin's setup link
// (never the link itself: only the operator may see it).
async function explainFirstRun() {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1' },
    body: JSON.stringify({ query: '{ firstAdminNeeded }' }),
  }).then((r) => r.json()).catch(() => ({}));
  $('first-run').hidden = !(res.data && res.data.firstAdminNeeded);
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('login-error').textContent = '';
  const res = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1' },
    body: JSON.stringify({ query: 'mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { user { id } } }', variables: { u: $('username').value, p: $('password').value } }),
  }).then((r) => r.json()).catch(() => ({ errors: [{ message: 'network error' }] }));
  if (res.errors) { $('login-error').textContent = res.errors[0].message; return; }
  connect();
});

connect();
`;

export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenTracker — live</title>
<style>${DASHBOARD_STYLE}</style>
</head>
<body>
<h1>OpenTracker <span id="state">connecting…</span></h1>
<form id="login" hidden>
  <p id="first-run" hidden><b>This site has no account yet.</b> When it started, the server printed a one-time link that creates the first admin: find it in the server's log, or in the file <code>setup-link</code> in its data directory (<code>DATA_DIR</code>, <code>./data</code> by default). Lost it? <code>npm run cli -- setup-link</code> prints it again.</p>
  <p>Sign in to see the live numbers.</p>
  <input id="username" autocomplete="username" placeholder="username" required>
  <input id="password" type="password" autocomplete="current-password" placeholder="password" required>
  <button>Sign in</button>
  <p id="login-error" class="error"></p>
</form>
<main id="main">
  <section class="stats">
    <div class="stat"><b id="users">–</b><span>users</span></div>
    <div class="stat"><b id="torrents">–</b><span>torrents</span></div>
    <div class="stat"><b id="peers">–</b><span>peers</span></div>
    <div class="stat"><b id="seeders">–</b><span>seeders</span></div>
    <div class="stat"><b id="leechers">–</b><span>leechers</span></div>
  </section>
  <h2>Busiest swarms</h2>
  <table>
    <thead><tr><th>torrent</th><th>info hash</th><th class="n">seeders</th><th class="n">leechers</th><th class="n">completed</th></tr></thead>
    <tbody id="swarms"></tbody>
  </table>
  <p id="empty">No peers yet.</p>
</main>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
}
