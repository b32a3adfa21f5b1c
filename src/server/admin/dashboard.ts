/**
 * The dashboard: one static page with inline CSS and JS (no framework, no build step, no
 * external requests). It listens to /events and reads /api/*; all text from the tree is put
 * into the page with textContent, never as HTML.
 *
 * Written with String.raw, so the page's JS must use neither backticks nor "${".
 */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zk-elect dashboard</title>
<link rel="icon" href="data:,">
<style>
:root {
  --bg: #f4f6f9; --card: #ffffff; --ink: #1c2430; --muted: #6b7686; --line: #e3e8ef;
  --accent: #2f6fed; --accent-soft: #e8f0fe; --good: #17824a; --good-soft: #e3f5eb;
  --warn: #a86400; --warn-soft: #fff3dc; --bad: #c0302b; --bad-soft: #fde8e7;
  --violet: #6a3fc8; --violet-soft: #efe9fb;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #111827; color: #e5e9f0; }
header h1 { font-size: 17px; margin: 0; font-weight: 650; letter-spacing: .2px; }
header .sub { color: #9aa5b5; font-size: 13px; }
header nav { margin-left: auto; display: flex; gap: 14px; }
header a { color: #aac4ff; text-decoration: none; font-size: 13px; }
header a:hover { text-decoration: underline; }
.badge { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; padding: 2px 10px; border-radius: 999px; background: #263041; color: #cfd6e1; }
.badge .dot { width: 8px; height: 8px; border-radius: 50%; background: #8791a1; }
.badge.live .dot { background: #34d17a; box-shadow: 0 0 0 3px rgba(52,209,122,.25); }
.badge.down .dot { background: #f0625c; }
main { padding: 20px 24px 32px; max-width: 1400px; margin: 0 auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin-bottom: 18px; box-shadow: 0 1px 2px rgba(16,24,40,.04); }
.card h2 { font-size: 15px; margin: 0 0 12px; display: flex; align-items: center; gap: 10px; }
.card h2 .hint { font-weight: 400; color: var(--muted); font-size: 12.5px; }
.grid { display: grid; grid-template-columns: minmax(0, 1.15fr) minmax(0, 1fr); gap: 18px; align-items: start; }
.grid > div > .card:last-child { margin-bottom: 0; }
@media (max-width: 980px) { .grid { grid-template-columns: 1fr; } }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 11.5px; text-transform: uppercase; letter-spacing: .5px; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.self td:first-child { box-shadow: inset 3px 0 0 var(--accent); }
tr.is-down td { color: var(--muted); }
td a { color: var(--accent); text-decoration: none; }
td a:hover { text-decoration: underline; }
.actions button { min-width: 64px; }
.mono { font-family: var(--mono); font-size: 12.5px; }
.tag { font-size: 11px; color: var(--accent); background: var(--accent-soft); border-radius: 4px; padding: 1px 6px; margin-left: 6px; }
.pill { display: inline-block; padding: 2px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; background: #eef1f5; color: #445066; }
.pill.leader { background: var(--good-soft); color: var(--good); }
.pill.follower, .pill.observer { background: var(--accent-soft); color: var(--accent); }
.pill.standalone { background: var(--violet-soft); color: var(--violet); }
.pill.looking { background: var(--warn-soft); color: var(--warn); }
.pill.down { background: var(--bad-soft); color: var(--bad); }
.pill.paused { background: var(--warn-soft); color: var(--warn); margin-left: 4px; }
.flash { animation: flash 1.2s ease-out; }
@keyframes flash { from { background: #fff2b3; } to { background: transparent; } }
button { font: inherit; font-size: 12.5px; padding: 4px 10px; border-radius: 6px; border: 1px solid #cfd6e0; background: #fff; color: var(--ink); cursor: pointer; }
button:hover:not(:disabled) { background: #f1f4f8; }
button:disabled { color: #a6aeba; cursor: not-allowed; background: #f8f9fb; }
button.danger:not(:disabled) { color: var(--bad); border-color: #efc2bf; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover { background: #245bd0; }
.actions { display: flex; gap: 6px; }
.note { color: var(--muted); font-size: 12.5px; margin-top: 8px; }
.error { color: var(--bad); background: var(--bad-soft); border-radius: 6px; padding: 6px 10px; font-size: 13px; margin: 8px 0 0; }
form.inline { display: flex; gap: 8px; margin-bottom: 12px; }
input[type=text] { font: inherit; font-family: var(--mono); font-size: 13px; padding: 5px 9px; border: 1px solid #cfd6e0; border-radius: 6px; flex: 1; min-width: 0; }
input[type=text]:focus { outline: 2px solid var(--accent-soft); border-color: var(--accent); }
.tree { font-family: var(--mono); font-size: 13px; max-height: 360px; overflow: auto; border: 1px solid var(--line); border-radius: 8px; padding: 6px 4px; background: #fbfcfd; }
.tree ul { list-style: none; margin: 0; padding-left: 16px; }
.tree > ul { padding-left: 2px; }
.tree .row { display: flex; align-items: center; gap: 4px; padding: 2px 6px; border-radius: 5px; cursor: pointer; user-select: none; }
.tree .row:hover { background: #eef2f7; }
.tree .row.selected { background: var(--accent-soft); color: #173f9a; }
.tree .caret { width: 14px; display: inline-block; color: var(--muted); text-align: center; font-size: 10px; }
.tree .count { color: var(--muted); font-size: 11.5px; }
.tree .eph { color: var(--warn); font-size: 10.5px; border: 1px solid #f1d39a; border-radius: 3px; padding: 0 3px; }
.detail { margin-top: 14px; }
.detail h3 { font-size: 13.5px; margin: 0 0 8px; font-family: var(--mono); word-break: break-all; }
pre.data { margin: 0 0 12px; padding: 10px 12px; background: #0f172a; color: #e2e8f0; border-radius: 8px; font-family: var(--mono); font-size: 12.5px; max-height: 280px; overflow: auto; white-space: pre-wrap; word-break: break-all; }
pre.data.empty { color: #8b98ad; font-style: italic; }
.stat { display: grid; grid-template-columns: repeat(auto-fill, minmax(215px, 1fr)); gap: 6px 16px; font-size: 12.5px; }
.stat div { display: flex; justify-content: space-between; gap: 8px; border-bottom: 1px dashed var(--line); padding: 2px 0; }
.stat span:first-child { color: var(--muted); }
.stat span:last-child { font-family: var(--mono); white-space: nowrap; }
ol.candidates { list-style: none; margin: 0; padding: 0; }
ol.candidates li { display: grid; grid-template-columns: 28px minmax(0, 1fr) auto; gap: 10px; align-items: center; padding: 8px 10px; border: 1px solid var(--line); border-radius: 8px; margin-bottom: 6px; }
ol.candidates li.leader { border-color: #9fd8b8; background: var(--good-soft); }
ol.candidates .pos { font-weight: 700; color: var(--muted); text-align: center; }
ol.candidates .cid { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
ol.candidates .cnode { color: var(--muted); font-family: var(--mono); font-size: 11.5px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
ol.candidates .cmeta { color: var(--ink); font-size: 11.5px; margin-top: 2px; overflow-wrap: anywhere; }
ol.candidates .prio { color: var(--muted); font-size: 11.5px; }
ol.candidates .right { text-align: right; font-size: 12px; color: var(--muted); }
.crown { color: var(--good); font-weight: 700; font-size: 11.5px; letter-spacing: .4px; }
.token { display: flex; gap: 18px; align-items: baseline; margin: 2px 0 12px; padding: 10px 12px; background: #f7f9fc; border: 1px solid var(--line); border-radius: 8px; }
.token .label { color: var(--muted); font-size: 12px; }
.token .value { font-family: var(--mono); font-size: 16px; font-weight: 700; }
.empty-state { color: var(--muted); font-style: italic; padding: 8px 2px; }
.kv { color: var(--muted); font-size: 12px; margin-bottom: 8px; }
.kv b { color: var(--ink); font-weight: 600; font-family: var(--mono); }
</style>
</head>
<body>
<header>
  <h1>zk-elect</h1>
  <span class="badge" id="conn" data-testid="connection"><span class="dot"></span><span id="conn-text">connecting</span></span>
  <span class="sub" id="summary"></span>
  <nav><a href="/metrics">metrics</a><a href="/commands">commands</a><a href="/api/cluster">cluster JSON</a></nav>
</header>
<main>
  <section class="card" id="nodes-card">
    <h2>Nodes <span class="hint" id="cluster-hint"></span></h2>
    <table data-testid="nodes">
      <thead><tr><th>Node</th><th>Role</th><th class="num">Epoch</th><th>Zxid</th><th class="num">Commit lag</th><th class="num">Sessions</th><th class="num">Connections</th><th class="num">Znodes</th><th>Client address</th><th>Control</th></tr></thead>
      <tbody id="nodes-body"></tbody>
    </table>
    <div class="note" id="control-note"></div>
    <div class="error" id="nodes-error" hidden></div>
  </section>
  <div class="grid">
    <div>
      <section class="card" id="tree-card">
        <h2>Znodes <span class="hint">click to expand; live</span></h2>
        <div class="tree" id="tree" data-testid="tree"></div>
        <div class="detail" id="detail" data-testid="znode-detail"></div>
      </section>
    </div>
    <div>
      <section class="card" id="election-card">
        <h2>Election</h2>
        <form class="inline" id="election-form"><input type="text" id="election-path" value="/election" aria-label="election path" spellcheck="false"><button class="primary" type="submit">Show</button></form>
        <div id="election" data-testid="election"></div>
      </section>
      <section class="card" id="game-card">
        <h2>Guessing game</h2>
        <form class="inline" id="game-form"><input type="text" id="game-path" value="/game" aria-label="game path" spellcheck="false"><button class="primary" type="submit">Show</button></form>
        <div id="game" data-testid="game"></div>
      </section>
    </div>
  </div>
</main>
<script>
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };

  // The admin token that kill/pause/restart need: from the URL the server printed
  // (#token=..., a fragment, so it is never sent in a request or logged), kept for this tab
  // only, and taken out of the address bar.
  var TOKEN_KEY = 'zk-elect-admin-token';
  var adminToken = null;
  function tokenFromAddress() {
    var m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
    if (!m) return false;
    adminToken = m[1];
    try { sessionStorage.setItem(TOKEN_KEY, adminToken); } catch (e) { /* storage off: this page only */ }
    history.replaceState(null, '', location.pathname + location.search);
    return true;
  }
  if (!tokenFromAddress()) {
    try { adminToken = sessionStorage.getItem(TOKEN_KEY); } catch (e) { adminToken = null; }
  }
  window.addEventListener('hashchange', tokenFromAddress);
  function forgetToken() {
    adminToken = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing kept */ }
  }

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
        var v = attrs[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return el;
  }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  function api(path, init) {
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var body;
        try { body = text ? JSON.parse(text) : {}; } catch (e) { body = { error: text || res.statusText }; }
        if (!res.ok) { var err = new Error(body.error || (res.status + ' ' + res.statusText)); err.status = res.status; throw err; }
        return body;
      });
    });
  }

  function fmtNum(v) { return v === null || v === undefined ? '\u2013' : String(v); }
  function fmtTime(ms) { if (!ms) return '0'; try { return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ''); } catch (e) { return String(ms); } }

  // ---- node table --------------------------------------------------------------------
  var lastZxid = {};
  var lastSelfZxid = null;
  var control = { available: false, actions: [], reason: 'not known yet' };

  function controlButton(node, action, label, danger) {
    var supported = control.available && control.actions.indexOf(action) >= 0;
    var moot = node.up === false && action !== 'restart';
    var enabled = supported && !moot;
    var b = h('button', {
      type: 'button', class: danger ? 'danger' : null, 'data-action': action,
      title: !supported ? ('Node control unavailable: ' + (control.reason || 'not supported by the launcher')) : moot ? ('node ' + node.id + ' is down') : (label + ' node ' + node.id),
      disabled: !enabled,
      onclick: function () { doControl(action, node.id, b); }
    }, label);
    return b;
  }

  function doControl(action, id, button) {
    if (action === 'kill' && !window.confirm('Kill node ' + id + '?')) return;
    if (!adminToken) {
      var typed = window.prompt('Admin token (printed when the server started; kept in its admin-token file):');
      if (!typed) return;
      adminToken = typed.trim();
      try { sessionStorage.setItem(TOKEN_KEY, adminToken); } catch (e) { /* this page only */ }
    }
    button.disabled = true;
    api('/api/control/' + action + '?id=' + encodeURIComponent(id), { method: 'POST', headers: { Authorization: 'Bearer ' + adminToken } })
      .then(function () { showNodesError(null); })
      .catch(function (e) {
        if (e.status === 401 || (e.status === 403 && /token/.test(e.message))) forgetToken();
        showNodesError(action + ' of node ' + id + ' failed: ' + e.message);
      })
      .then(function () { button.disabled = false; });
  }

  function showNodesError(msg) {
    var el = $('nodes-error');
    if (!msg) { el.hidden = true; el.textContent = ''; return; }
    el.hidden = false; el.textContent = msg;
  }

  function renderNodes(view) {
    control = view.control || control;
    var body = clear($('nodes-body'));
    view.nodes.forEach(function (n) {
      var role = n.up === false ? 'down' : n.role;
      var zxidCell = h('td', { class: 'mono zxid', 'data-testid': 'zxid' }, n.zxid || '\u2013');
      var key = String(n.id);
      if (lastZxid[key] !== undefined && lastZxid[key] !== n.zxid) zxidCell.classList.add('flash');
      lastZxid[key] = n.zxid;
      var pauseBtn = n.paused ? controlButton(n, 'resume', 'Resume') : controlButton(n, 'pause', 'Pause');
      var tr = h('tr', { 'data-node-id': n.id, class: (n.self ? 'self' : '') + (n.up === false ? ' is-down' : '') },
        h('td', null, h('b', null, String(n.id)), n.self ? h('span', { class: 'tag', title: 'the node serving this page' }, 'this') : null),
        h('td', { 'data-testid': 'role' }, h('span', { class: 'pill ' + role }, role), n.paused ? h('span', { class: 'pill paused' }, 'paused') : null),
        h('td', { class: 'num' }, fmtNum(n.epoch)),
        zxidCell,
        h('td', { class: 'num' }, fmtNum(n.commitLag)),
        h('td', { class: 'num', 'data-testid': 'sessions' }, fmtNum(n.sessions)),
        h('td', { class: 'num' }, fmtNum(n.connections)),
        h('td', { class: 'num' }, fmtNum(n.znodeCount)),
        // A cluster shares one admin token: the peer's dashboard gets it the way this one did.
        h('td', { class: 'mono' }, n.adminUrl && !n.self ? h('a', { href: n.adminUrl + (adminToken ? '#token=' + adminToken : ''), title: 'admin server of node ' + n.id }, n.clientAddress) : n.clientAddress),
        h('td', null, h('div', { class: 'actions' }, controlButton(n, 'kill', 'Kill', true), pauseBtn, controlButton(n, 'restart', 'Restart')))
      );
      if (n.error) tr.title = n.error;
      body.appendChild(tr);
    });
    $('cluster-hint').textContent = view.mode === 'standalone'
      ? 'standalone server'
      : (view.nodes.length + ' nodes' + (view.leaderId !== null && view.leaderId !== undefined ? ', leader ' + view.leaderId : ', no leader') + (view.quorumSize ? ', quorum ' + view.quorumSize : ''));
    $('control-note').textContent = control.available ? '' : 'Kill, pause and restart need a local cluster launcher: ' + (control.reason || '');
    if (view.error) showNodesError(view.error);
  }

  // ---- live events -------------------------------------------------------------------
  var refreshTimer = null;
  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () { refreshTimer = null; refreshTree(); loadElection(); loadGame(); }, 150);
  }

  function setConn(state, text) {
    var b = $('conn');
    b.className = 'badge ' + state;
    $('conn-text').textContent = text;
  }

  function connect() {
    if (!window.EventSource) { setConn('down', 'no EventSource'); return; }
    var es = new EventSource('/events');
    es.onopen = function () { setConn('live', 'live'); };
    es.onerror = function () { setConn('down', 'reconnecting\u2026'); };
    es.addEventListener('state', function (ev) {
      var msg; try { msg = JSON.parse(ev.data); } catch (e) { return; }
      setConn('live', 'live');
      renderNodes(msg.cluster);
      var n = msg.node;
      $('summary').textContent = 'node ' + n.id + ' \u00b7 ' + n.role + ' \u00b7 zxid ' + n.zxid + ' \u00b7 ' + n.sessions + ' sessions';
      if (lastSelfZxid !== null && lastSelfZxid !== n.zxid) scheduleRefresh();
      lastSelfZxid = n.zxid;
    });
    es.addEventListener('change', function (ev) {
      try { lastSelfZxid = JSON.parse(ev.data).zxid; } catch (e) { /* ignore */ }
      scheduleRefresh();
    });
  }

  // ---- znode tree --------------------------------------------------------------------
  var expanded = { '/': true };
  var selected = '/';
  var treeEls = {};

  function childPath(parent, name) { return parent === '/' ? '/' + name : parent + '/' + name; }

  function treeItem(path, name, info) {
    var li = h('li', { 'data-path': path });
    var leaf = info && info.numChildren === 0;
    var caret = h('span', { class: 'caret' }, leaf ? '\u00b7' : expanded[path] ? '\u25be' : '\u25b8');
    var row = h('div', { class: 'row' + (selected === path ? ' selected' : ''), 'data-testid': 'tree-row', title: path }, caret, h('span', { class: 'name' }, name));
    if (info && info.numChildren) row.appendChild(h('span', { class: 'count' }, '(' + info.numChildren + ')'));
    if (info && info.ephemeral) row.appendChild(h('span', { class: 'eph', title: 'ephemeral' }, 'eph'));
    row.addEventListener('click', function () {
      select(path);
      if (!leaf) {
        expanded[path] = !expanded[path] || path === '/';
        refreshTree();
      }
    });
    li.appendChild(row);
    treeEls[path] = li;
    return li;
  }

  function renderChildren(node, depth) {
    var ul = h('ul');
    return Promise.all(node.children.map(function (name, i) {
      var p = childPath(node.path, name);
      var info = node.childDetails ? node.childDetails[i] : null;
      if (!expanded[p] || depth > 12 || (info && info.numChildren === 0)) return Promise.resolve(treeItem(p, name, info));
      return api('/api/tree?path=' + encodeURIComponent(p)).then(function (child) {
        var li = treeItem(p, name, info);
        return renderChildren(child, depth + 1).then(function (kids) { li.appendChild(kids); return li; });
      }, function () { return treeItem(p, name, info); });
    })).then(function (items) {
      items.forEach(function (li) { ul.appendChild(li); });
      if (node.childrenTruncated) ul.appendChild(h('li', { class: 'note' }, '\u2026 more children not shown'));
      return ul;
    });
  }

  var treeBusy = false, treeAgain = false;
  function refreshTree() {
    if (treeBusy) { treeAgain = true; return; }
    treeBusy = true;
    var scroll = $('tree').scrollTop;
    api('/api/tree?path=/').then(function (root) {
      treeEls = {};
      var top = h('ul');
      var rootLi = treeItem('/', '/', { numChildren: root.stat.numChildren });
      top.appendChild(rootLi);
      return renderChildren(root, 0).then(function (kids) {
        rootLi.appendChild(kids);
        var t = clear($('tree'));
        t.appendChild(top);
        t.scrollTop = scroll;
      });
    }).catch(function (e) {
      clear($('tree')).appendChild(h('div', { class: 'error' }, 'cannot read the tree: ' + e.message));
    }).then(function () {
      treeBusy = false;
      loadDetail();
      if (treeAgain) { treeAgain = false; refreshTree(); }
    });
  }

  function select(path) {
    selected = path;
    Object.keys(treeEls).forEach(function (p) {
      var row = treeEls[p].firstChild;
      if (row) row.classList.toggle('selected', p === path);
    });
    loadDetail();
  }

  function statGrid(stat) {
    var rows = [
      ['czxid', stat.czxid], ['mzxid', stat.mzxid], ['pzxid', stat.pzxid],
      ['ctime', fmtTime(stat.ctime)], ['mtime', fmtTime(stat.mtime)], ['version', stat.version],
      ['cversion', stat.cversion], ['aversion', stat.aversion], ['ephemeralOwner', stat.ephemeralOwner],
      ['dataLength', stat.dataLength], ['numChildren', stat.numChildren]
    ];
    var grid = h('div', { class: 'stat', 'data-testid': 'stat' });
    rows.forEach(function (r) { grid.appendChild(h('div', null, h('span', null, r[0]), h('span', null, String(r[1])))); });
    return grid;
  }

  function loadDetail() {
    var path = selected;
    api('/api/tree?path=' + encodeURIComponent(path)).then(function (node) {
      if (path !== selected) return;
      var d = clear($('detail'));
      d.appendChild(h('h3', { 'data-testid': 'detail-path' }, node.path));
      var data = node.data;
      var label = data.encoding === 'null' ? 'no data (null)' : data.length === 0 ? 'empty' : null;
      var pre = h('pre', { class: 'data' + (label ? ' empty' : ''), 'data-testid': 'detail-data' }, label || data.value);
      d.appendChild(pre);
      if (data.encoding === 'base64') d.appendChild(h('div', { class: 'note' }, 'binary data, shown as base64'));
      if (data.truncated) d.appendChild(h('div', { class: 'note' }, 'showing the first 64 KiB of ' + data.length + ' bytes'));
      d.appendChild(statGrid(node.stat));
    }).catch(function (e) {
      if (path !== selected) return;
      clear($('detail')).appendChild(h('div', { class: 'error' }, path + ': ' + e.message));
    });
  }

  // ---- election ----------------------------------------------------------------------
  function loadElection() {
    var path = $('election-path').value.trim() || '/election';
    var box = $('election');
    api('/api/elections?path=' + encodeURIComponent(path)).then(function (el) {
      clear(box);
      if (!el.exists) { box.appendChild(h('div', { class: 'empty-state' }, 'No znode at ' + el.path + ' yet.')); return; }
      if (el.leader) {
        box.appendChild(h('div', { class: 'token' },
          h('div', null, h('div', { class: 'label' }, 'Leader'), h('div', { class: 'value', 'data-testid': 'election-leader' }, el.leader.id)),
          h('div', null, h('div', { class: 'label' }, 'Fencing token (czxid)'), h('div', { class: 'value', 'data-testid': 'fencing-token', title: el.fencingTokenHex }, el.fencingToken))
        ));
      }
      if (!el.candidates.length) { box.appendChild(h('div', { class: 'empty-state' }, 'No candidates at ' + el.path + '.')); return; }
      var ol = h('ol', { class: 'candidates', 'data-testid': 'candidates' });
      el.candidates.forEach(function (c) {
        ol.appendChild(h('li', { class: c.leader ? 'leader' : null, 'data-candidate': c.id },
          h('span', { class: 'pos' }, String(c.position + 1)),
          h('div', null,
            h('div', { class: 'cid' }, c.id, c.priority ? h('span', { class: 'prio', title: 'priority' }, ' \u2191' + c.priority) : null, c.leader ? h('span', { class: 'crown' }, '  \u2605 LEADER') : null),
            h('div', { class: 'cnode', title: c.path }, c.node + (c.seat ? '  (seat: named handoff)' : '')),
            c.meta ? h('div', { class: 'cmeta mono', 'data-testid': 'candidate-meta' }, Object.keys(c.meta).map(function (k) { return k + '=' + (typeof c.meta[k] === 'string' ? c.meta[k] : JSON.stringify(c.meta[k])); }).join('  ')) : null),
          h('div', { class: 'right' }, h('div', null, 'seq ' + c.sequence), h('div', { class: 'mono', title: 'czxid: the fencing token if this candidate leads' }, c.czxid))
        ));
      });
      box.appendChild(ol);
      if (el.otherChildren) box.appendChild(h('div', { class: 'note' }, el.otherChildren + ' other children (no sequence suffix) ignored'));
    }).catch(function (e) { clear(box).appendChild(h('div', { class: 'error' }, e.message)); });
  }

  // ---- game --------------------------------------------------------------------------
  function loadGame() {
    var path = $('game-path').value.trim() || '/game';
    var box = $('game');
    api('/api/game?path=' + encodeURIComponent(path)).then(function (g) {
      clear(box);
      if (!g.exists) { box.appendChild(h('div', { class: 'empty-state' }, 'No game state at ' + g.path + ' yet.')); return; }
      box.appendChild(h('div', { class: 'kv' }, 'version ', h('b', null, String(g.stat.version)), ' \u00b7 modified ', h('b', null, fmtTime(g.stat.mtime)), ' \u00b7 mzxid ', h('b', null, g.stat.mzxid)));
      var text = g.format === 'json' ? JSON.stringify(g.json, null, 2) : g.format === 'empty' ? '(empty)' : g.text;
      box.appendChild(h('pre', { class: 'data' + (g.format === 'empty' ? ' empty' : ''), 'data-testid': 'game-state' }, text));
      if (g.format === 'base64') box.appendChild(h('div', { class: 'note' }, 'binary data, shown as base64'));
      if (g.children.length) box.appendChild(h('div', { class: 'note' }, 'children: ' + g.children.join(', ') + (g.childrenTruncated ? ', \u2026' : '')));
    }).catch(function (e) { clear(box).appendChild(h('div', { class: 'error' }, e.message)); });
  }

  $('election-form').addEventListener('submit', function (e) { e.preventDefault(); loadElection(); });
  $('game-form').addEventListener('submit', function (e) { e.preventDefault(); loadGame(); });

  api('/api/cluster').then(renderNodes).catch(function (e) { showNodesError(e.message); });
  refreshTree();
  loadElection();
  loadGame();
  connect();
})();
</script>
</body>
</html>
`;
