/**
 * The first-run page at `/setup`: where the one-time setup link the server prints on a site
 * with no account leads (src/setup/). The token rides in the link's fragment (`#token=...`),
 * which browsers never send to a server, so it appears in no request line, access log or
 * Referer; the page posts it with the new admin's name and password to the `createFirstAdmin`
 * mutation, which signs the admin in (session cookie), then drops it from the address bar.
 * Same look as the dashboard (its stylesheet), same rules (inline script allowed by hash).
 */

export const SETUP_SCRIPT = `
'use strict';
const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.hash.slice(1)).get('token');
const show = (id) => { for (const s of ['setup', 'no-token', 'has-account', 'done']) $(s).hidden = s !== id; };

async function graphql(query, variables) {
  return fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1' },
    body: JSON.stringify({ query, variables }),
  }).then((r) => r.json()).catch(() => ({ errors: [{ message: 'network error: is the server running?' }] }));
}

graphql('{ firstAdminNeeded }').then((res) => {
  if (res.data && res.data.firstAdminNeeded === false) show('has-account');
  else show(token ? 'setup' : 'no-token');
  $('state').textContent = 'first run';
});

$('setup').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('setup-error').textContent = '';
  if ($('password').value !== $('confirm').value) { $('setup-error').textContent = 'the two passwords differ'; return; }
  $('create').disabled = true;
  const res = await graphql(
    'mutation ($t: String!, $u: String!, $p: String!) { createFirstAdmin(token: $t, username: $u, password: $p) { user { username } } }',
    { t: token, u: $('username').value, p: $('password').value },
  );
  $('create').disabled = false;
  if (res.errors) { $('setup-error').textContent = res.errors[0].message; return; }
  history.replaceState(null, '', location.pathname);
  $('done-name').textContent = res.data.createFirstAdmin.user.username;
  show('done');
});
`;

export function setupHtml(style: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenTracker — first run</title>
<style>${style}</style>
</head>
<body>
<h1>OpenTracker <span id="state">…</span></h1>
<form id="setup" hidden>
  <p>Create the first admin of this site. This link works once.</p>
  <input id="username" autocomplete="username" placeholder="username (3-32: letters, digits, _ . -)" required>
  <input id="password" type="password" autocomplete="new-password" placeholder="password (at least 8 characters)" required>
  <input id="confirm" type="password" autocomplete="new-password" placeholder="the password again" required>
  <button id="create">Create the admin</button>
  <p id="setup-error" class="error"></p>
</form>
<p id="no-token" hidden>This page needs the one-time setup link the server printed when it started (it ends in <code>#token=…</code>): find it in the server's log, or in the file <code>setup-link</code> in its data directory (<code>DATA_DIR</code>, <code>./data</code> by default). <code>npm run cli -- setup-link</code> prints it again.</p>
<p id="has-account" hidden>This site already has an account. <a href="/dashboard">Sign in on the dashboard</a>.</p>
<p id="done" hidden>The admin <b id="done-name"></b> is created and signed in. <a href="/dashboard">Open the dashboard</a>; add more accounts with <code>npm run cli -- user add</code> or invites.</p>
<script>${SETUP_SCRIPT}</script>
</body>
</html>
`;
}
