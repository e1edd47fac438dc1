// formpress serve: the form list, and the editor: the form as it prints, as
// a grid of cells typed into in place (the grid comes from the server, the
// same model the .xlsx export and the PDF's indicator table use), findings at
// their cells, the live preview beside it, undo and redo, unsaved work kept
// in the browser. Plain ES2017 for Chromium-based browsers and Firefox ESR;
// no build step.
'use strict';

var S = {
  info: null,
  kind: null,       // the kind's manifest as /api/kind gives it
  name: null,       // file name in the folder
  hash: null,       // the file's version when loaded or saved; null for a new file
  data: null,       // the form data being edited (numbers as typed text)
  dirty: false,
  fresh: false,     // a new form not saved yet: findings only where something was typed
  touched: {},      // data paths typed into (for a fresh form)
  grid: null,       // the last grid from /api/sheet
  shape: '',        // the grid's structure, to tell when cells must be rebuilt
  check: null,      // status and findings of the last check
  view: { show: [], sides: [] },
  undo: [],
  redo: [],
  editing: null,    // data path of the text edit the last undo step covers
  settling: false,  // a new row or group is being laid out: keys wait in `queue`
  queue: [],
  version: 0,       // grids shown
  inputAt: 0,       // when the last keystroke changed the data
  anchor: null,     // grid column where a run of Tab presses began (Enter returns to it)
  seq: 0,
  session: Math.random().toString(36).slice(2),
  pages: [],        // [{hash, w, h, cells, img}]
  printed: {},      // data path → text the page prints there
  forms: [],
  sort: { key: 'modified', up: false }
};

function $(id) { return document.getElementById(id); }

function h(tag, attrs) {
  var el = document.createElement(tag);
  if (attrs) {
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'text') el.textContent = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else if (k === 'className') el.className = v;
      else el.setAttribute(k, v === true ? '' : v);
    });
  }
  for (var i = 2; i < arguments.length; i++) {
    var c = arguments[i];
    if (c === null || c === undefined) continue;
    if (Array.isArray(c)) c.forEach(function (x) { if (x) el.appendChild(x); });
    else el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

async function api(method, url, body) {
  var opts = { method: method, headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  var r;
  try { r = await fetch(url, opts); } catch (e) {
    return { ok: false, status: 0, json: { error: '无法连接 formpress serve（已停止？）' } };
  }
  var json = null;
  try { json = await r.json(); } catch (e) { json = { error: '服务器返回了无法读取的内容' }; }
  return { ok: r.ok, status: r.status, json: json };
}

function say(id, text, kind) {
  var el = $(id);
  el.textContent = text || '';
  el.className = 'message' + (kind ? ' ' + kind : '');
}

function clone(x) { return JSON.parse(JSON.stringify(x)); }

// ---------- unsaved work, kept in the browser ----------

function draftKey(name) { return 'formpress:' + (S.info ? S.info.dir : '') + ':' + name; }

function keepDraft() {
  if (!S.name) return;
  try {
    localStorage.setItem(draftKey(S.name), JSON.stringify({
      name: S.name, hash: S.hash, kind: S.kind.id, data: S.data, fresh: S.fresh, time: Date.now(), view: S.view
    }));
  } catch (e) { /* storage full or disabled: the page still works */ }
}

function dropDraft(name) { try { localStorage.removeItem(draftKey(name)); } catch (e) { /* ignore */ } }

function drafts() {
  var out = [];
  try {
    var prefix = draftKey('');
    for (var i = 0; i < localStorage.length; i++) {
      var k = localStorage.key(i);
      if (k.indexOf(prefix) === 0) {
        try { out.push(JSON.parse(localStorage.getItem(k))); } catch (e) { /* ignore */ }
      }
    }
  } catch (e) { /* ignore */ }
  return out;
}

function when(ms) {
  if (!ms) return '';
  var d = new Date(ms);
  function p(n) { return (n < 10 ? '0' : '') + n; }
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes());
}

// ---------- the form list ----------

var STATUS = { clean: '无问题', warnings: '有警告', draft: '有错误（草稿）', broken: '无法生成' };
var STATUS_ORDER = { broken: 0, draft: 1, warnings: 2, clean: 3 };

async function home() {
  $('editor').hidden = true;
  $('home').hidden = false;
  document.title = 'formpress 表单填报';
  S.name = null;
  var r = await api('GET', '/api/forms');
  if (!r.ok) { say('home-message', r.json.error, 'error'); return; }
  S.forms = r.json.forms;
  listForms();
  offerDrafts();
}

function listForms() {
  var body = $('forms').tBodies[0];
  body.textContent = '';
  var q = $('search').value.trim().toLowerCase();
  var rows = S.forms.filter(function (f) {
    return !q || f.name.toLowerCase().indexOf(q) >= 0 || (f.title || '').toLowerCase().indexOf(q) >= 0;
  });
  var k = S.sort.key;
  rows.sort(function (a, b) {
    var x = k === 'status' ? STATUS_ORDER[a.status] : a[k] || '', y = k === 'status' ? STATUS_ORDER[b.status] : b[k] || '';
    var c = x < y ? -1 : x > y ? 1 : 0;
    return S.sort.up ? c : -c;
  });
  rows.forEach(function (f) {
    body.appendChild(h('tr', { 'data-name': f.name },
      h('td', null, f.name),
      h('td', null, f.title || ''),
      h('td', null, h('span', { className: 'badge ' + f.status, title: f.status_label, text: STATUS[f.status] || f.status })),
      h('td', null, when(f.modified)),
      h('td', { className: 'actions' },
        h('button', { type: 'button', className: 'open', onclick: function () { openForm(f.name); } }, '打开'), ' ',
        h('button', { type: 'button', className: 'copy', onclick: function () { copyDialog(f.name); } }, '复制为新表'))));
  });
  Array.prototype.forEach.call($('forms').tHead.rows[0].cells, function (th) {
    th.classList.remove('sorted-up', 'sorted-down');
    if (th.getAttribute('data-sort') === k) th.classList.add(S.sort.up ? 'sorted-up' : 'sorted-down');
  });
  $('no-forms').hidden = S.forms.length > 0;
}

function offerDrafts() {
  var box = $('recover');
  box.textContent = '';
  var list = drafts();
  box.hidden = list.length === 0;
  list.forEach(function (d) {
    box.appendChild(h('div', { className: 'draft-offer', 'data-name': d.name },
      '有未保存的修改：' + d.name + '（' + when(d.time) + '）',
      h('button', { type: 'button', className: 'restore', onclick: function () { restore(d); } }, '恢复'),
      h('button', { type: 'button', className: 'discard', onclick: function () { dropDraft(d.name); offerDrafts(); } }, '丢弃')));
  });
}

async function restore(d) {
  var kind = await loadKind(d.kind);
  if (!kind) return;
  var onDisk = S.forms.some(function (f) { return f.name === d.name; });
  var hash = d.hash;
  if (onDisk && !hash) hash = null;
  edit(d.name, hash, d.data, kind, !!d.fresh && !onDisk, d.view);
  S.dirty = true;
  $('save').classList.add('attention');
  say('message', '已恢复 ' + when(d.time) + ' 未保存的修改；保存后才写入文件', 'warn');
  changed();
}

async function start() {
  var r = await api('GET', '/api/info');
  if (!r.ok) { say('home-message', r.json.error, 'error'); return; }
  S.info = r.json;
  $('dir').textContent = '表单目录：' + r.json.dir;
  var select = $('new-kind');
  r.json.kinds.forEach(function (k) {
    select.appendChild(h('option', { value: k.id, title: k.description }, k.name + (k.origin === 'built-in' ? '' : '（' + k.origin + '）')));
  });
  if (r.json.kinds.some(function (k) { return k.id === 'project'; })) select.value = 'project';
  $('download-xlsx').hidden = !r.json.xlsx;
  $('new-button').addEventListener('click', newForm);
  $('search').addEventListener('input', listForms);
  Array.prototype.forEach.call($('forms').tHead.rows[0].cells, function (th) {
    var k = th.getAttribute('data-sort');
    if (!k) return;
    th.addEventListener('click', function () {
      S.sort = { key: k, up: S.sort.key === k ? !S.sort.up : k !== 'modified' };
      listForms();
    });
  });
  $('import-file').addEventListener('change', importFile);
  $('back').addEventListener('click', function () { home(); });
  $('save').addEventListener('click', function () { save(false); });
  $('undo').addEventListener('click', undo);
  $('redo').addEventListener('click', redo);
  $('print').addEventListener('click', print);
  $('seal').addEventListener('click', function () { $('seal-file').click(); });
  $('seal-file').addEventListener('change', uploadSeal);
  $('copy').addEventListener('click', function () { copyDialog(S.name); });
  $('row-menu').addEventListener('click', function (e) {
    var r = e.target.getBoundingClientRect();
    showMenu(r.left, r.bottom + 2, S.lastCell);
  });
  $('download-pdf').addEventListener('click', function () { download('/api/pdf?name=' + encodeURIComponent(S.name), 'pdf'); });
  $('download-archive').addEventListener('click', function () { download('/api/pdf?archive=1&name=' + encodeURIComponent(S.name), 'archive'); });
  $('download-xlsx').addEventListener('click', function () { download('/api/xlsx?name=' + encodeURIComponent(S.name), 'xlsx'); });
  $('pages').addEventListener('click', previewClick);
  document.addEventListener('keydown', globalKeys, true);
  document.addEventListener('click', function (e) { if (!$('menu').contains(e.target) && e.target !== $('row-menu')) hideMenu(); });
  home();
}

async function newForm() {
  var name = $('new-name').value.trim();
  if (!name) { say('home-message', '请填写文件名', 'error'); return; }
  if (!/\.ya?ml$/i.test(name)) name += '.yaml';
  if (S.forms.some(function (f) { return f.name === name; })) { say('home-message', name + ' 已存在；请换一个文件名，或打开它', 'error'); return; }
  var kind = await loadKind($('new-kind').value);
  if (!kind) return;
  edit(name, null, { form: kind.id }, kind, true);
  S.dirty = true;
  changed(true);
}

async function loadKind(id) {
  var r = await api('GET', '/api/kind?id=' + encodeURIComponent(id));
  if (!r.ok) { say('home-message', r.json.error, 'error'); return null; }
  return r.json;
}

async function openForm(name) {
  var r = await api('GET', '/api/form?name=' + encodeURIComponent(name));
  if (!r.ok) { say('home-message', r.json.error, 'error'); return; }
  var f = r.json;
  if (!f.data || typeof f.data !== 'object' || Array.isArray(f.data) || !f.kind) {
    var first = (f.findings[0] || {}).message || '';
    say('home-message', name + ' 无法在网页中编辑（' + first + '）；请先用文本编辑器改正，或用 formpress check 查看', 'error');
    return;
  }
  var kind = await loadKind(f.kind);
  if (!kind) return;
  var saved = drafts().filter(function (d) { return d.name === name; })[0];
  edit(name, f.hash, f.data, kind, false, saved && saved.view);
  if (saved && JSON.stringify(saved.data) !== JSON.stringify(f.data)) {
    $('message').textContent = '';
    $('message').className = 'message warn';
    $('message').appendChild(document.createTextNode('本表有 ' + when(saved.time) + ' 未保存的修改。'));
    $('message').appendChild(h('button', { type: 'button', className: 'restore', onclick: function () { restore(saved); } }, '恢复'));
    $('message').appendChild(h('button', { type: 'button', className: 'discard', onclick: function () { dropDraft(name); say('message', ''); } }, '丢弃'));
  }
  changed(true);
}

// ---------- the editor ----------

function edit(name, hash, data, kind, fresh, view) {
  S.name = name; S.hash = hash; S.data = data; S.kind = kind; S.dirty = false;
  S.fresh = !!fresh; S.touched = {}; S.undo = []; S.redo = []; S.editing = null;
  S.view = view || { show: [], sides: [] };
  S.grid = null; S.shape = ''; S.pages = []; S.printed = {};
  $('home').hidden = true;
  $('editor').hidden = false;
  $('file-name').textContent = name;
  $('kind-name').textContent = kind.name;
  document.title = name + ' — formpress';
  say('message', '');
  $('pages').textContent = '';
  $('sheet').textContent = '';
  $('preview-info').textContent = '预览';
  $('save').classList.remove('attention');
  buildOptions();
  updateUndo();
}

// Data paths as the checker names them: tasks[2].fiscal
function parsePath(text) {
  var out = [];
  text.split('.').forEach(function (part) {
    var m = part.split('[');
    if (m[0]) out.push(m[0]);
    for (var i = 1; i < m.length; i++) out.push(parseInt(m[i], 10));
  });
  return out;
}

function pathText(path) {
  return path.reduce(function (s, p) { return typeof p === 'number' ? s + '[' + p + ']' : (s ? s + '.' + p : p); }, '');
}

function get(path) {
  var v = S.data;
  for (var i = 0; i < path.length && v !== undefined && v !== null; i++) v = v[path[i]];
  return v;
}

// Sets a value, creating the records and lists above it (a gap in a list is
// an empty record: a row typed below the end adds the rows above it blank).
// A blank value removes the key (a blank cell); a record left empty by it
// stays (an empty row is a row).
function set(path, value) {
  var o = S.data;
  for (var i = 0; i < path.length - 1; i++) {
    var k = path[i], next = path[i + 1];
    if (o[k] === undefined || o[k] === null || typeof o[k] !== 'object') {
      if (value === undefined) return;
      o[k] = typeof next === 'number' ? [] : {};
    }
    if (Array.isArray(o[k]) && typeof next === 'number') {
      for (var j = o[k].length; j < next; j++) o[k].push(typeof path[i + 2] === 'number' || i + 2 >= path.length ? '' : {});
    }
    o = o[k];
  }
  var last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(o)) { if (last < o.length) o[last] = ''; } else delete o[last];
  } else {
    o[last] = value;
  }
}

// The manifest's field for a data path (indices skipped), with the indicator tree's rows and groups.
function specOf(path) {
  var fields = S.kind.fields, f = null, tree = null;
  for (var i = 0; i < path.length; i++) {
    var k = path[i];
    if (typeof k === 'number') { if (f && f.type === 'list') { f = f.item; fields = f.fields || {}; } continue; }
    if (tree) {
      if (k === 'rows') { fields = tree.row; continue; }
      if (k === 'groups' || (tree.sides || []).some(function (s) { return s.key === k; })) continue;
      if (k === 'name') return { type: 'text', label: '名称', help: '' };
      f = (fields || {})[k];
      if (!f) { var lv = tree.levels.filter(function (l) { return l.fields && l.fields[k]; })[0]; f = lv ? lv.fields[k] : null; }
      return f;
    }
    if (k === 'signature' && fields === S.kind.fields) { f = S.kind.fields[k]; fields = S.kind.signature; continue; }
    f = (fields || {})[k];
    if (!f) return null;
    if (f.type === 'indicators') tree = f;
    fields = f.fields || (f.type === 'signature' ? S.kind.signature : null);
  }
  return f;
}

// ---------- undo and redo: snapshots of the data ----------

function remember(path) {
  // Typing on in one cell is one step; anything else is a step of its own.
  if (path && S.editing === path) return;
  S.undo.push({ data: JSON.stringify(S.data), focus: S.lastCell ? S.lastCell.p : null });
  if (S.undo.length > 500) S.undo.shift();
  S.redo = [];
  S.editing = path || null;
  updateUndo();
}

function updateUndo() {
  $('undo').disabled = S.undo.length === 0;
  $('redo').disabled = S.redo.length === 0;
}

function undo() { step(S.undo, S.redo); }
function redo() { step(S.redo, S.undo); }

function step(from, to) {
  var snap = from.pop();
  if (!snap) return;
  to.push({ data: JSON.stringify(S.data), focus: S.lastCell ? S.lastCell.p : null });
  S.data = JSON.parse(snap.data);
  S.editing = null;
  updateUndo();
  S.shape = '';
  S.want = snap.focus;
  changed();
}

// ---------- after every change: the grid, findings, preview, the draft ----------

function changed(initial) {
  if (!initial) {
    S.dirty = true;
    $('save').classList.add('attention');
    clearTimeout(S.draftTimer);
    S.draftTimer = setTimeout(keepDraft, 250);
  }
  refresh();
  preview();
}

var sheetBusy = false, sheetAgain = false;
async function refresh() {
  if (sheetBusy) { sheetAgain = true; return; }
  sheetBusy = true;
  var sent = JSON.stringify(S.data);
  var r = await api('POST', '/api/sheet', { name: S.name, data: S.data, show: S.view.show, sides: S.view.sides });
  sheetBusy = false;
  if (r.ok && r.json.grid && sent === JSON.stringify(S.data)) {
    S.check = r.json;
    render(r.json.grid);
    var sheet = $('sheet');
    if (S.inputAt) sheet.setAttribute('data-latency', String(Math.round(performance.now() - S.inputAt)));
    sheet.setAttribute('data-version', String(++S.version));
  } else if (r.ok && r.json.grid && !sheetAgain) {
    sheetAgain = true;
  } else if (!r.ok) {
    say('message', r.json.error || '无法检查表单', 'error');
  }
  if (sheetAgain) { sheetAgain = false; refresh(); return; }
  S.settling = false;
  drain();
}

// ---------- the grid ----------

// A cell's place and kind; whether a value reads as a number is not part of it (typing
// `3300.` into `3300.8` must not rebuild the grid under the caret).
function cellShape(c) {
  var role = c.role === 'number' ? 'text' : c.role;
  return [c.r, c.c, c.rs, c.cs, c.p || '', role, c.new ? 1 : 0, c.lead || '', c.k || ''].join(',');
}

function render(grid) {
  S.grid = grid;
  var shape = grid.cells.map(cellShape).join(';') + '|' + grid.widths.join(',');
  if (shape !== S.shape) {
    S.shape = shape;
    build(grid);
  } else {
    grid.cells.forEach(function (c) {
      var el = S.cells[c.p];
      if (el && el !== document.activeElement && el.tagName !== 'SELECT' && c.p) {
        var text = textAt(c);
        if (el.textContent !== text) el.textContent = text;
      }
    });
  }
  computedValues();
  showFindings();
}

function textAt(c) {
  var v = get(parsePath(c.p));
  if (v === undefined || v === null || typeof v === 'object') return '';
  return String(v);
}

function build(grid) {
  var focus = document.activeElement && document.activeElement.getAttribute('data-path');
  var caret = focus ? caretOffset(document.activeElement) : 0;
  if (S.want) { focus = S.want; caret = -1; S.want = null; }
  var n = grid.columns, rows = 0;
  grid.cells.forEach(function (c) { rows = Math.max(rows, c.r + c.rs); });
  var taken = [];
  for (var r = 0; r < rows; r++) taken.push(new Array(n).fill(false));
  var byRow = {};
  grid.cells.forEach(function (c) {
    (byRow[c.r] = byRow[c.r] || []).push(c);
  });
  var table = h('table', { className: 'grid' });
  var cg = h('colgroup');
  for (var i = 0; i < n; i++) {
    // Through the CSSOM: the page's policy allows no style attributes.
    var colEl = h('col');
    colEl.style.width = (grid.widths[i] || 100 / n) + '%';
    cg.appendChild(colEl);
  }
  table.appendChild(cg);
  var tbody = h('tbody');
  S.cells = {};
  S.order = [];
  S.rowOf = {};
  (grid.tables || []).forEach(function (t) {
    t.rows.forEach(function (paths, i) { S.rowOf[t.first + i] = { table: t, paths: paths, index: i }; });
  });
  for (r = 0; r < rows; r++) {
    var tr = h('tr');
    var cells = (byRow[r] || []).sort(function (a, b) { return a.c - b.c; });
    var col = 0;
    cells.forEach(function (c) {
      for (; col < c.c; col++) if (!taken[r][col]) tr.appendChild(h('td', { className: 'gap' }));
      tr.appendChild(cellEl(c));
      for (var y = r; y < Math.min(rows, r + c.rs); y++) for (var x = c.c; x < Math.min(n, c.c + c.cs); x++) taken[y][x] = true;
      col = c.c + c.cs;
    });
    for (; col < n; col++) if (!taken[r][col]) tr.appendChild(h('td', { className: 'gap' }));
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
  var pane = $('sheet-pane'), y0 = pane.scrollTop;
  $('sheet').textContent = '';
  $('sheet').appendChild(table);
  pane.scrollTop = y0;
  S.order.sort(function (a, b) { return a.cell.r - b.cell.r || a.cell.c - b.cell.c; });
  if (focus) focusPath(focus, caret);
}

function hint(c) {
  if (!c.new) return '';
  if (/level0$/.test(c.k || '')) return '新一级指标';
  if (/level\d$/.test(c.k || '')) return '新二级指标';
  return c.k ? '新增一行' : '新增';
}

function cellEl(c) {
  var cls = c.role + (c.new ? ' new' : '');
  var td = h('td', { className: cls, rowspan: c.rs > 1 ? String(c.rs) : null, colspan: c.cs > 1 ? String(c.cs) : null });
  td.cell = c;
  if (!c.p || c.role === 'label') {
    td.textContent = c.t;
    return td;
  }
  if (c.role === 'computed') {
    td.classList.add('computed-cell');
    td.appendChild(h('div', { className: 'v', 'data-path': c.p }, c.t));
    return td;
  }
  if (c.role === 'filler') {
    td.appendChild(h('button', { type: 'button', title: '在这一栏添加指标行', onclick: function () { addOnSide(c.p); } }, '＋ 添加指标'));
    return td;
  }
  var spec = specOf(parsePath(c.p)) || {};
  var el;
  if (spec.type === 'bool' || (spec.type === 'choice' && !spec.open)) {
    el = h('select', { className: 'v', 'data-path': c.p },
      h('option', { value: '' }, spec.type === 'bool' ? '（默认）' : '（不填）'),
      spec.type === 'bool' ? [h('option', { value: 'true' }, '是'), h('option', { value: 'false' }, '否')]
        : (spec.choices || []).map(function (x) { return h('option', { value: x }, x); }));
    var v = get(parsePath(c.p));
    el.value = v === true ? 'true' : v === false ? 'false' : v === undefined || v === null ? '' : String(v);
    el.addEventListener('change', function () {
      remember(null);
      var x = el.value;
      set(parsePath(c.p), x === '' ? undefined : spec.type === 'bool' ? x === 'true' : x);
      touch(c.p);
      changed();
    });
  } else {
    el = h('div', { className: 'v', contenteditable: 'true', spellcheck: 'false', 'data-path': c.p, role: 'textbox' });
    el.textContent = textAt(c);
    if (c.role === 'title') el.setAttribute('data-placeholder', c.lead || '');
    if (c.new) el.setAttribute('data-hint', hint(c));
    // Long text reads from the left, as the form prints it; amounts and short values stay centred.
    var prose = !spec.type || spec.type === 'text';
    if (spec.style === 'lt' || spec.style === 'small' || (c.cs >= 3 && c.role === 'text' && prose)) el.classList.add('long');
    el.addEventListener('input', function () { typed(el, c); });
    // Text that arrives without a key (an input method, a test driver) waits behind queued keys too.
    el.addEventListener('beforeinput', function (e) {
      if (S.queue.length && !S.draining && e.inputType === 'insertText' && e.data) {
        e.preventDefault();
        S.queue.push({ key: e.data, text: true });
      }
    });
    el.addEventListener('paste', function (e) {
      e.preventDefault();
      var text = (e.clipboardData || window.clipboardData).getData('text/plain');
      document.execCommand('insertText', false, text);
    });
    el.addEventListener('drop', function (e) { e.preventDefault(); });
  }
  el.addEventListener('focus', function () { focused(c, el); });
  el.addEventListener('keydown', function (e) { cellKeys(e, c, el); });
  el.addEventListener('contextmenu', function (e) { e.preventDefault(); el.focus(); showMenu(e.clientX, e.clientY, c); });
  S.cells[c.p] = el;
  S.order.push({ cell: c, el: el });
  if (c.lead || c.role === 'subtitle') {
    var line = h('div', { className: 'line' });
    if (c.role === 'subtitle') line.appendChild(h('span', { className: 'lead' }, '（'));
    if (c.lead && c.role !== 'title') line.appendChild(h('span', { className: 'lead' }, c.lead));
    line.appendChild(el);
    if (c.role === 'subtitle') line.appendChild(h('span', { className: 'lead' }, '年度）'));
    td.appendChild(line);
  } else {
    td.appendChild(el);
  }
  if (c.role === 'image') {
    td.appendChild(h('button', { type: 'button', onclick: function () { $('seal-file').click(); } }, '上传印章'));
  }
  return td;
}

function typed(el, c) {
  var text = el.innerText.replace(/\n$/, '');
  if (el.innerText === '\n') text = '';
  remember(c.p);
  S.inputAt = performance.now();
  if (c.new) S.settling = true;
  var spec = specOf(parsePath(c.p)) || {};
  // A cell that merges with the one above when left out stays a cell of its own when cleared.
  set(parsePath(c.p), text === '' && !spec.merge ? undefined : text);
  touch(c.p);
  el.classList.toggle('computed', false);
  changed();
}

function touch(path) {
  S.touched[path] = true;
}

function focused(c, el) {
  if (S.lastCell !== c && S.editing !== c.p) S.editing = null;
  S.lastCell = c;
  var spec = specOf(parsePath(c.p)) || {};
  var help = $('help');
  help.textContent = '';
  var label = spec.label && spec.label !== '名称' ? spec.label + '：' : '';
  help.appendChild(document.createTextNode(label + (spec.help || (spec.example !== undefined && spec.example !== null ? '例：' + spec.example : ''))));
  if (spec.type === 'choice' && spec.open && spec.choices) {
    help.appendChild(document.createTextNode(' 可选：'));
    spec.choices.forEach(function (x) {
      help.appendChild(h('button', { type: 'button', className: 'choice', onmousedown: function (e) { e.preventDefault(); }, onclick: function () {
        el.textContent = x; typed(el, c);
      } }, x));
    });
  }
  if (spec.type === 'money') help.appendChild(document.createTextNode('（' + ((S.data.options || {}).unit || (S.kind.options.unit || {}).default || '万元') + '，照写，如 10.00）'));
}

function caretOffset(el) {
  var sel = window.getSelection();
  if (!sel.rangeCount || !el.contains(sel.anchorNode)) return 0;
  var r = sel.getRangeAt(0).cloneRange();
  r.selectNodeContents(el);
  r.setEnd(sel.anchorNode, sel.anchorOffset);
  return r.toString().length;
}

function setCaret(el, offset) {
  if (el.tagName === 'SELECT') return;
  var text = el.firstChild;
  var range = document.createRange();
  if (!text || offset < 0) {
    range.selectNodeContents(el);
    range.collapse(false);
  } else {
    range.setStart(text, Math.min(offset, text.length));
    range.collapse(true);
  }
  var sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}

function focusPath(path, caret) {
  var el = S.cells[path];
  if (!el) {
    // A path the grid shows under another cell (goals.mid → goals.mid[0]).
    var k = Object.keys(S.cells).filter(function (p) { return p.indexOf(path + '[') === 0 || p.indexOf(path + '.') === 0; })[0];
    el = k && S.cells[k];
  }
  if (!el) return false;
  el.focus();
  setCaret(el, caret === undefined ? -1 : caret);
  el.scrollIntoView({ block: 'nearest' });
  return true;
}

// ---------- moving between cells ----------

function at(el) { return S.order.findIndex(function (o) { return o.el === el; }); }

function move(el, to) {
  if (!to) return;
  to.el.focus();
  setCaret(to.el, -1);
  to.el.scrollIntoView({ block: 'nearest' });
}

// The cell below (or above) covering grid column `col`.
function vertical(c, col, down) {
  var best = null;
  S.order.forEach(function (o) {
    var d = o.cell;
    var below = down ? d.r >= c.r + c.rs : d.r + d.rs <= c.r;
    if (!below || col < d.c || col >= d.c + d.cs) return;
    if (!best || (down ? d.r < best.cell.r : d.r > best.cell.r)) best = o;
  });
  if (best) return best;
  // No cell in that column: the nearest row's first cell.
  S.order.forEach(function (o) {
    var d = o.cell;
    var below = down ? d.r >= c.r + c.rs : d.r + d.rs <= c.r;
    if (!below) return;
    if (!best || (down ? d.r < best.cell.r || (d.r === best.cell.r && d.c < best.cell.c) : d.r > best.cell.r)) best = o;
  });
  return best;
}

function cellKeys(e, c, el) {
  if (e.isComposing || e.keyCode === 229) return;
  // While a new row or group is being laid out, keys wait for the new cells
  // (typing on at once after Tab or Enter lands where it would have later).
  if (S.settling && !e.synthetic) {
    e.preventDefault();
    S.queue.push({ key: e.key, shiftKey: e.shiftKey, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey });
    return;
  }
  var i = at(el);
  var ctrl = e.ctrlKey || e.metaKey;
  if (e.key === 'Tab') {
    e.preventDefault();
    if (S.anchor === null) S.anchor = c.c;
    move(el, S.order[i + (e.shiftKey ? -1 : 1)]);
    return;
  }
  if (e.key === 'Enter' && !ctrl && !e.altKey && !e.shiftKey) {
    e.preventDefault();
    var col = S.anchor !== null ? S.anchor : c.c;
    S.anchor = null;
    // In the indicator table: the next row's first row field (三级指标) of this side.
    var first = firstRowColumn(c);
    if (first !== null) col = first;
    move(el, vertical(c, col, true));
    return;
  }
  if (e.key === 'Enter' && (e.altKey || e.shiftKey) && !ctrl) {
    e.preventDefault();
    // Firefox has no insertLineBreak command; a newline character does the same in a pre-wrap cell.
    if (!document.execCommand('insertLineBreak')) document.execCommand('insertText', false, '\n');
    return;
  }
  if (e.altKey && !ctrl && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) { e.preventDefault(); rowOp(c, e.key === 'ArrowUp' ? 'up' : 'down'); return; }
  if (e.altKey && !ctrl && e.key === 'Delete') { e.preventDefault(); rowOp(c, 'delete'); return; }
  if (ctrl && e.key === 'Enter') { e.preventDefault(); rowOp(c, e.shiftKey ? 'above' : 'below'); return; }
  if (ctrl && !e.altKey && (e.key === 'd' || e.key === 'D')) { e.preventDefault(); rowOp(c, e.shiftKey ? 'split' : 'merge'); return; }
  if (el.tagName === 'SELECT') return;
  var text = el.textContent, pos = caretOffset(el);
  var sel = window.getSelection();
  var collapsed = sel.rangeCount && sel.getRangeAt(0).collapsed;
  if (e.key === 'ArrowDown' && !e.shiftKey && !ctrl && collapsed && text.indexOf('\n', pos) < 0) { e.preventDefault(); S.anchor = null; move(el, vertical(c, c.c, true)); return; }
  if (e.key === 'ArrowUp' && !e.shiftKey && !ctrl && collapsed && text.lastIndexOf('\n', pos - 1) < 0) { e.preventDefault(); S.anchor = null; move(el, vertical(c, c.c, false)); return; }
  if (e.key === 'ArrowRight' && !e.shiftKey && !ctrl && collapsed && pos >= text.length) { e.preventDefault(); move(el, S.order[i + 1]); return; }
  if (e.key === 'ArrowLeft' && !e.shiftKey && !ctrl && collapsed && pos === 0) { e.preventDefault(); move(el, S.order[i - 1]); return; }
  if (e.key.length === 1 || e.key === 'Backspace' || e.key === 'Delete') return;
  if (['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End'].indexOf(e.key) >= 0) S.anchor = null;
}

function firstRowColumn(c) {
  var t = (S.grid.tables || [])[0];
  if (!t || !c.k || c.k === 'block') return null;
  var side = /^([a-z_]+)\./.exec(c.k);
  var prefix = side ? side[1] + '.' : '';
  var i = t.columns.findIndex(function (k) { return k.indexOf(prefix) === 0 && !/level|block|filler/.test(k); });
  return i < 0 ? null : i;
}

// Keys typed while the grid was being rebuilt, replayed into the new cells.
function drain() {
  while (S.queue.length && !S.settling) {
    var k = S.queue.shift();
    var el = document.activeElement;
    if (!el || !el.getAttribute('data-path')) { S.queue = []; return; }
    if (k.text || (k.key.length === 1 && !k.ctrlKey && !k.metaKey && !k.altKey)) {
      S.draining = true;
      document.execCommand('insertText', false, k.key);
      S.draining = false;
    } else {
      var c = el === document.activeElement && S.order[at(el)] ? S.order[at(el)].cell : null;
      if (!c) { S.queue = []; return; }
      k.synthetic = true;
      k.preventDefault = function () {};
      cellKeys(k, c, el);
    }
  }
}

function globalKeys(e) {
  if ($('editor').hidden) return;
  var ctrl = e.ctrlKey || e.metaKey;
  if (!ctrl || e.altKey) { if (e.key === 'Escape') hideMenu(); return; }
  var k = e.key.toLowerCase();
  if (k === 's') { e.preventDefault(); save(false); }
  else if (k === 'z' && !e.shiftKey) { e.preventDefault(); undo(); }
  else if (k === 'y' || (k === 'z' && e.shiftKey)) { e.preventDefault(); redo(); }
  else if (k === 'p') { e.preventDefault(); print(); }
}

// ---------- rows: insert, move, delete, merge (同上), split ----------

// What a structural edit works on: the table row of a cell and its side's row path.
function rowContext(c) {
  if (!c || !S.grid) return null;
  var info = null;
  for (var r = c.r; r < c.r + c.rs && !info; r++) info = S.rowOf[r];
  if (!info && c.new) return { phantom: true, cell: c };
  if (!info) return null;
  var side = null;
  var key = c.k || '';
  var m = /^([a-z_]+)\./.exec(key);
  if (m) side = m[1];
  var sides = (specOf([info.table.field]) || {}).sides || [];
  var s = side ? sides.findIndex(function (x) { return x.key === side; }) : 0;
  if (s < 0) s = 0;
  var rowPath = info.paths[s] || info.paths.filter(function (p) { return p; })[0];
  if (!rowPath) return null;
  return { table: info.table, row: parsePath(rowPath), cell: c, key: key, level: /level(\d)$/.exec(key) };
}

function rowOp(c, op) {
  var x = rowContext(c);
  if (!x || x.phantom) { say('message', '请先选中表格中的一行指标', 'warn'); return; }
  var row = x.row, rows = get(row.slice(0, -1)), i = row[row.length - 1];
  var groupPath = row.slice(0, -2), listPath = row.slice(0, -3);
  remember(null);
  var focus = null;
  if (op === 'above' || op === 'below') {
    var j = op === 'above' ? i : i + 1;
    rows.splice(j, 0, {});
    focus = pathText(row.slice(0, -1).concat([j, firstField(x.table)]));
  } else if (op === 'delete') {
    rows.splice(i, 1);
    pruneGroups(x.table.field);
    focus = pathText(row.slice(0, -1).concat([Math.max(0, i - 1), firstField(x.table)]));
  } else if (op === 'up' || op === 'down') {
    focus = moveRow(row, op === 'up' ? -1 : 1, x.table);
  } else if (op === 'merge' || op === 'split') {
    var done = op === 'merge' ? mergeUp(x) : splitHere(x);
    if (!done) { S.undo.pop(); updateUndo(); return; }
    focus = done;
  }
  S.shape = '';
  S.want = focus;
  S.settling = true;
  changed();
}

function firstField(table) {
  var k = (table.columns.filter(function (c) { return !/level|block|filler/.test(c); })[0] || 'name');
  return k.replace(/^[a-z_]+\./, '');
}

// Moves a row up or down; past the end of its group it goes into the next group.
function moveRow(row, d, table) {
  var rows = get(row.slice(0, -1)), i = row[row.length - 1], j = i + d;
  if (j >= 0 && j < rows.length) {
    var t = rows[i]; rows[i] = rows[j]; rows[j] = t;
    return pathText(row.slice(0, -1).concat([j, firstField(table)]));
  }
  // Into the neighbouring group of the same list.
  var glist = get(row.slice(0, -3)), gi = row[row.length - 3], gj = gi + d;
  if (!Array.isArray(glist) || gj < 0 || gj >= glist.length) return null;
  var item = rows.splice(i, 1)[0];
  var other = glist[gj];
  other.rows = other.rows || [];
  var at = d < 0 ? other.rows.length : 0;
  other.rows.splice(at, 0, item);
  pruneGroups(table.field);
  return pathText(row.slice(0, -3).concat([gj, 'rows', at, firstField(table)]));
}

// Groups left without rows (and 一级 groups left without any) go.
function pruneGroups(field) {
  var spec = specOf([field]);
  var tree = get([field]);
  if (!Array.isArray(tree)) return;
  function prune(list) {
    for (var i = list.length - 1; i >= 0; i--) {
      var g = list[i];
      if (!g || typeof g !== 'object') continue;
      var kids = ['groups'].concat((spec.sides || []).map(function (s) { return s.key; }));
      var had = false, left = false;
      kids.forEach(function (k) { if (Array.isArray(g[k])) { had = true; prune(g[k]); if (g[k].length) left = true; else delete g[k]; } });
      if (Array.isArray(g.rows)) { had = true; if (g.rows.length) left = true; }
      if (had && !left && !g.name) list.splice(i, 1);
      else if (had && !left && Array.isArray(g.rows)) list.splice(i, 1);
    }
  }
  prune(tree);
}

// 同上: a group cell joins the group above (its rows go there); a merged
// field (指标解释) leaves its text out and shares the cell above.
function mergeUp(x) {
  var c = x.cell, row = x.row;
  if (x.level) {
    var level = parseInt(x.level[1], 10);
    // The group of this level that the row is in.
    var gpath = groupAt(row, level, x.table.field);
    var list = get(gpath.slice(0, -1)), gi = gpath[gpath.length - 1];
    if (!gi) { say('message', '上面没有同一层的分组，无法合并', 'warn'); return null; }
    var prev = list[gi - 1], cur = list[gi];
    Object.keys(cur).forEach(function (k) {
      if (Array.isArray(cur[k])) prev[k] = (prev[k] || []).concat(cur[k]);
    });
    list.splice(gi, 1);
    return pathText(gpath.slice(0, -1).concat([gi - 1, 'name']));
  }
  var spec = specOf(parsePath(c.p)) || {};
  if (!spec.merge) { say('message', '这一栏不能与上一行合并（只有一级、二级指标和可合并的栏目能“同上”）', 'warn'); return null; }
  set(parsePath(c.p), undefined);
  return c.p;
}

// 另起: from this row on, a new group of the cell's level (for a row field: 二级).
function splitHere(x) {
  var row = x.row;
  var level = x.level ? parseInt(x.level[1], 10) : (specOf([x.table.field]).levels.length - 1);
  var spec = specOf(parsePath(x.cell.p)) || {};
  if (!x.level && spec.merge && get(parsePath(x.cell.p)) === undefined) {
    set(parsePath(x.cell.p), '');
    return x.cell.p;
  }
  var gpath = groupAt(row, level, x.table.field);
  var list = get(gpath.slice(0, -1)), gi = gpath[gpath.length - 1], g = list[gi];
  // Rows of this group from this row on (in this side) move to a new group.
  var rel = row.slice(gpath.length);
  var moved = splitTree(g, rel);
  if (!moved) { say('message', '这一行已是分组的第一行', 'warn'); return null; }
  list.splice(gi + 1, 0, moved);
  return pathText(gpath.slice(0, -1).concat([gi + 1, 'name']));
}

// Splits group `g` at the row whose path below it is `rel` (…rows[i]); returns the new group.
function splitTree(g, rel) {
  var key = rel[0], idx = rel[1];
  if (key === 'rows') {
    if (!idx) return null;
    return { name: '', rows: g.rows.splice(idx) };
  }
  var list = g[key];
  var inner = splitTree(list[idx], rel.slice(2));
  var rest = list.splice(idx + 1);
  if (inner) rest.unshift(inner);
  else if (idx === 0) return null;
  else rest.unshift(list.splice(idx, 1)[0]);
  var out = { name: '' };
  out[key] = rest;
  return out;
}

// The path of the group of `level` that the row at `row` belongs to.
function groupAt(row, level, field) {
  // Paths look like field[i].(side|groups)[j]….rows[k]: group indices sit after the field and each list key.
  var out = [row[0], row[1]], l = 0;
  var k = 2;
  while (l < level && k + 1 < row.length && row[k] !== 'rows') {
    out.push(row[k], row[k + 1]);
    k += 2;
    l++;
  }
  return out;
}

// A row on a side that has none in this 一级 group (the filler cell).
function addOnSide(path) {
  remember(null);
  var p = parsePath(path);
  var list = get(p);
  if (!Array.isArray(list) || !list.length) {
    set(p, [{ name: '', rows: [{}] }]);
  } else {
    var g = list[list.length - 1];
    g.rows = g.rows || [];
    g.rows.push({});
  }
  list = get(p);
  var g2 = list.length - 1, r = list[g2].rows.length - 1;
  var side = p[p.length - 1];
  if (S.view.sides.indexOf(side) < 0) S.view.sides.push(side);
  S.shape = '';
  S.want = pathText(p.concat([g2, 'rows', r, 'name']));
  changed();
}

// ---------- the row menu ----------

function hideMenu() { $('menu').hidden = true; }

function showMenu(x, y, c) {
  var menu = $('menu');
  menu.textContent = '';
  var ctx = rowContext(c);
  var inTable = ctx && !ctx.phantom;
  function item(label, key, fn, enabled) {
    menu.appendChild(h('button', { type: 'button', disabled: enabled ? null : true, onclick: function () { hideMenu(); fn(); } },
      h('span', null, label), h('span', { className: 'key' }, key)));
  }
  item('在上方插入行', 'Ctrl+Shift+Enter', function () { rowOp(c, 'above'); }, inTable);
  item('在下方插入行', 'Ctrl+Enter', function () { rowOp(c, 'below'); }, inTable);
  item('上移', 'Alt+↑', function () { rowOp(c, 'up'); }, inTable);
  item('下移', 'Alt+↓', function () { rowOp(c, 'down'); }, inTable);
  item('删除行', 'Alt+Delete', function () { rowOp(c, 'delete'); }, inTable);
  menu.appendChild(h('hr'));
  item('与上一行合并（同上）', 'Ctrl+D', function () { rowOp(c, 'merge'); }, inTable);
  item('从本行另起一格', 'Ctrl+Shift+D', function () { rowOp(c, 'split'); }, inTable);
  if (c && c.p && /^[a-z_]+(\[\d+\])?$/.test(c.p.replace(/\.[a-z_]+$/, '')) && !inTable) {
    var lp = parsePath(c.p);
    var idx = lp.findIndex(function (x) { return typeof x === 'number'; });
    if (idx > 0 && Array.isArray(get(lp.slice(0, idx)))) {
      menu.appendChild(h('hr'));
      item('删除这一项', '', function () {
        remember(null);
        get(lp.slice(0, idx)).splice(lp[idx], 1);
        S.shape = ''; changed();
      }, lp[idx] < get(lp.slice(0, idx)).length);
    }
  }
  columnItems(menu, ctx);
  menu.hidden = false;
  var w = menu.offsetWidth, hgt = menu.offsetHeight;
  menu.style.left = Math.min(x, window.innerWidth - w - 4) + 'px';
  menu.style.top = Math.min(y, window.innerHeight - hgt - 4) + 'px';
}

// Columns of the indicator table to show although blank, and the sides (中期).
function columnItems(menu, ctx) {
  var tables = Object.keys(S.kind.fields).filter(function (k) { return S.kind.fields[k].type === 'indicators'; });
  if (!tables.length) return;
  var spec = S.kind.fields[tables[0]];
  var shown = (S.grid.tables[0] || { columns: [] }).columns;
  menu.appendChild(h('hr'));
  menu.appendChild(h('div', { className: 'title' }, '指标表的栏目'));
  var prefixes = (spec.sides || []).length ? (S.grid.sides || []).filter(function (s) { return s.shown; }).map(function (s) { return s.key + '.'; }) : [''];
  var p = prefixes[prefixes.length - 1] || '';
  Object.keys(spec.row || {}).forEach(function (k) {
    var on = shown.indexOf(p + k) >= 0;
    menu.appendChild(h('button', { type: 'button', className: 'column', onclick: function () {
      hideMenu();
      prefixes.forEach(function (q) {
        var key = q + k, i = S.view.show.indexOf(key);
        if (on && i >= 0) S.view.show.splice(i, 1);
        if (!on && i < 0) S.view.show.push(key);
      });
      S.shape = ''; keepDraftView(); refresh(); preview();
    } }, h('span', null, (on ? '☑ ' : '☐ ') + spec.row[k].label)));
  });
  (S.grid.sides || []).forEach(function (s) {
    menu.appendChild(h('button', { type: 'button', className: 'side', onclick: function () {
      hideMenu();
      var i = S.view.sides.indexOf(s.key);
      if (s.shown && i >= 0) S.view.sides.splice(i, 1); else if (!s.shown) S.view.sides.push(s.key);
      S.shape = ''; keepDraftView(); refresh(); preview();
    } }, h('span', null, (s.shown ? '☑ ' : '☐ ') + s.label + '指标')));
  });
}

function keepDraftView() { if (S.dirty) keepDraft(); }

// ---------- computed values and findings at their cells ----------

function computedValues() {
  if (!S.grid) return;
  S.grid.cells.forEach(function (c) {
    var el = S.cells[c.p];
    if (!el || c.role === 'computed' || el.tagName === 'SELECT') return;
    var typedText = textAt(c);
    var value = c.v || (S.printed[c.p] !== undefined ? S.printed[c.p] : '');
    var td = el.closest('td');
    var on = !typedText && !!value && !c.new && c.role !== 'title';
    td.classList.toggle('computed-cell', on);
    el.classList.toggle('computed', on);
    if (on) el.setAttribute('data-computed', value); else el.removeAttribute('data-computed');
    td.title = on ? '由表中其他数字计算（不写入 YAML）：' + value : '';
  });
}

// A fresh form shows findings only where something was typed.
function visible(f) {
  if (!S.fresh) return true;
  return Object.keys(S.touched).some(function (p) { return f.path && (p === f.path || p.indexOf(f.path + '.') === 0 || p.indexOf(f.path + '[') === 0 || f.path.indexOf(p) === 0); });
}

function showFindings() {
  var check = S.check;
  if (!check || !S.grid) return;
  document.querySelectorAll('#sheet td.has-error, #sheet td.has-warning').forEach(function (td) { td.classList.remove('has-error', 'has-warning'); });
  document.querySelectorAll('#sheet td .notes').forEach(function (ul) { ul.remove(); });
  var general = $('general-findings');
  general.textContent = '';
  var shown = check.findings.filter(visible);
  shown.forEach(function (f) {
    var el = f.path ? cellFor(f.path) : null;
    var li = h('li', { className: f.severity }, (f.severity === 'error' ? '错误：' : '警告：') + f.message + (f.help ? '（' + f.help + '）' : ''));
    if (!el) {
      if (f.place) li.insertBefore(document.createTextNode(f.place + '：'), li.firstChild);
      general.appendChild(li);
      return;
    }
    var td = el.closest('td');
    td.classList.add(f.severity === 'error' ? 'has-error' : 'has-warning');
    var ul = td.querySelector('.notes') || td.appendChild(h('ul', { className: 'notes' }));
    ul.appendChild(li);
  });
  var status = $('status');
  var errors = shown.filter(function (f) { return f.severity === 'error'; }).length;
  var warnings = shown.length - errors;
  if (S.fresh && !Object.keys(S.touched).length) {
    status.className = 'badge new';
    status.textContent = '新表单';
  } else {
    var st = S.fresh ? (errors ? 'draft' : warnings ? 'warnings' : 'clean') : check.status;
    status.className = 'badge ' + st;
    status.textContent = (STATUS[st] || st) + (errors || warnings ? '：' + errors + ' 错误，' + warnings + ' 警告' : '');
  }
}

// The cell a finding's path names: the cell itself, else the first cell under it, else the group's cell above.
function cellFor(path) {
  if (S.cells[path]) return S.cells[path];
  var keys = Object.keys(S.cells);
  var under = keys.filter(function (p) { return p.indexOf(path + '.') === 0 || p.indexOf(path + '[') === 0; })[0];
  if (under) return S.cells[under];
  var p = parsePath(path);
  while (p.length > 1) {
    p.pop();
    var t = pathText(p);
    if (S.cells[t + '.name']) return S.cells[t + '.name'];
    if (S.cells[t]) return S.cells[t];
  }
  return null;
}

// ---------- the preview ----------

var previewBusy = false, previewAgain = false;
async function preview() {
  if (previewBusy) { previewAgain = true; return; }
  previewBusy = true;
  var seq = ++S.seq;
  var editedAt = S.inputAt || performance.now();
  $('preview-pane').classList.add('busy');
  var have = S.pages.map(function (p) { return p.hash; });
  var blank = S.fresh && !Object.keys(S.touched).length;
  // Pages drawn as PNG at the size they are shown (a browser takes longer to draw an SVG page of glyph outlines).
  var width = ($('pages').clientWidth || 600) * (window.devicePixelRatio || 1);
  var scale = Math.round(width / (S.pages[0] ? S.pages[0].w : 595.28) * 20) / 20;
  var r = await api('POST', '/api/preview', { session: S.session, seq: seq, name: S.name, data: S.data, have: have,
    blank: blank, show: S.view.show, sides: S.view.sides, png: scale });
  previewBusy = false;
  if (previewAgain) { previewAgain = false; preview(); return; }
  $('preview-pane').classList.remove('busy');
  if (!r.ok) { $('preview-info').textContent = r.json.error; return; }
  if (r.json.superseded) return;
  var info = $('preview-info');
  if (r.json.error) {
    info.textContent = '';
    info.appendChild(h('span', { className: 'error' }, '无法预览：' + r.json.error));
    return;
  }
  var label = r.json.blank ? '空白表（尚未填写）' : r.json.draft ? '草稿（有错误，未印校验码）' : r.json.code ? '校验码 ' + r.json.code : '';
  info.textContent = r.json.pages.length + ' 页' + (label ? ' · ' + label : '') + ' · 排版 ' + r.json.ms + ' ms';
  showPages(r.json.pages, editedAt);
  S.printed = {};
  r.json.pages.forEach(function (p) { p.cells.forEach(function (c) { if (S.printed[c.path] === undefined) S.printed[c.path] = c.text; }); });
  computedValues();
}

function showPages(pages, editedAt) {
  var box = $('pages');
  var old = S.pages;
  var pending = 0;
  function loaded() {
    if (--pending === 0) box.setAttribute('data-latency', String(Math.round(performance.now() - editedAt)));
  }
  var next = pages.map(function (p, i) {
    var keep = old.filter(function (o) { return o.hash === p.hash && o.img; })[0];
    if (keep && !p.svg) return { hash: p.hash, w: p.w, h: p.h, cells: p.cells, img: keep.img, url: keep.url };
    var url = URL.createObjectURL(pageBlob(p));
    var img = h('img', { alt: '第 ' + (i + 1) + ' 页', className: 'page', 'data-page': String(i + 1) });
    pending++;
    img.addEventListener('load', loaded);
    img.src = url;
    return { hash: p.hash, w: p.w, h: p.h, cells: p.cells, img: img, url: url };
  });
  old.forEach(function (o) { if (!next.some(function (n) { return n.img === o.img; })) { URL.revokeObjectURL(o.url); o.img.remove(); } });
  next.forEach(function (n, i) {
    if (box.children[i] !== n.img) box.insertBefore(n.img, box.children[i] || null);
  });
  S.pages = next;
  box.setAttribute('data-seq', String(S.seq));
  if (pending === 0) box.setAttribute('data-latency', String(Math.round(performance.now() - editedAt)));
}

function pageBlob(p) {
  if (!p.png) return new Blob([p.svg || ''], { type: 'image/svg+xml' });
  var bin = atob(p.png), bytes = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: 'image/png' });
}

// A click on a page selects the cell printed there.
function previewClick(e) {
  var img = e.target.closest('img.page');
  if (!img) return;
  var page = S.pages.filter(function (p) { return p.img === img; })[0];
  if (!page) return;
  var rect = img.getBoundingClientRect();
  var x = (e.clientX - rect.left) * page.w / rect.width, y = (e.clientY - rect.top) * page.h / rect.height;
  var hits = page.cells.filter(function (c) { return x >= c.x && x <= c.x + c.w && y >= c.y && y <= c.y + c.h; });
  hits.sort(function (a, b) { return a.w * a.h - b.w * b.h; });
  if (!hits.length) { say('message', '这里没有可填写的格', 'warn'); return; }
  if (!focusPath(hits[0].path)) say('message', '这一格在左边的表中没有对应的格（' + hits[0].path + '）', 'warn');
}

// ---------- options ----------

function buildOptions() {
  var box = $('options');
  box.textContent = '';
  var opts = S.kind.options || {};
  Object.keys(opts).forEach(function (k) {
    var o = opts[k];
    if (o.default !== null && typeof o.default === 'object') return;
    var label = o.help ? o.help.split(/[；;，,（(]/)[0] : k;
    var cur = (S.data.options || {})[k];
    var input;
    if (typeof o.default === 'boolean' || (o.choices && o.choices.length)) {
      var choices = typeof o.default === 'boolean' ? [['true', '是'], ['false', '否']] : o.choices.map(function (c) { return [c, c]; });
      input = h('select', { 'data-option': k }, h('option', { value: '' }, '默认（' + (o.default === true ? '是' : o.default === false ? '否' : o.default) + '）'),
        choices.map(function (c) { return h('option', { value: c[0] }, c[1]); }));
      input.value = cur === undefined || cur === null ? '' : String(cur);
    } else {
      input = h('input', { 'data-option': k, placeholder: '默认：' + o.default });
      input.value = cur === undefined || cur === null ? '' : String(cur);
    }
    input.addEventListener('change', function () {
      remember(null);
      var v = input.value;
      var value = v === '' ? undefined : typeof o.default === 'boolean' ? v === 'true' : v;
      set(['options', k], value);
      if (S.data.options && !Object.keys(S.data.options).length) delete S.data.options;
      changed();
    });
    box.appendChild(h('label', { title: o.help }, label));
    box.appendChild(input);
  });
}

// ---------- saving, printing, downloads ----------

async function save(dropComments) {
  var r = await api('POST', '/api/save', { name: S.name, base: S.hash, data: S.data, drop_comments: dropComments });
  if (r.ok) {
    S.hash = r.json.hash;
    S.dirty = false;
    S.fresh = false;
    dropDraft(S.name);
    $('save').classList.remove('attention');
    var note = r.json.rewritten ? '（结构有变，已整份重写' + (r.json.dropped.length ? '，删去 ' + r.json.dropped.length + ' 条注释' : '') + '）' : '（只改了修改过的值，注释和顺序不变）';
    say('message', '已保存 ' + S.name + note, 'ok');
    S.check = r.json;
    showFindings();
    return true;
  }
  if (r.status === 409 && r.json.confirm) {
    $('dialog-text').textContent = r.json.error + '：';
    var ul = $('dialog-list');
    ul.textContent = '';
    r.json.confirm.forEach(function (c) { ul.appendChild(h('li', null, c)); });
    $('dialog').hidden = false;
    return new Promise(function (resolve) {
      $('dialog-ok').onclick = async function () { $('dialog').hidden = true; resolve(await save(true)); };
      $('dialog-cancel').onclick = function () { $('dialog').hidden = true; say('message', '未保存'); resolve(false); };
    });
  }
  say('message', r.json.error || '保存失败', 'error');
  if (r.json.conflict && S.hash) {
    $('message').appendChild(h('button', { type: 'button', onclick: function () {
      if (!window.confirm('放弃本页的修改，打开磁盘上的版本？')) return;
      dropDraft(S.name);
      openForm(S.name);
    } }, '重新打开'));
  }
  return false;
}

// 打印: the exact PDF `formpress render` makes of the saved file, in the browser's PDF viewer.
async function print() {
  if (S.dirty || !S.hash) {
    if (!(await save(false))) return;
  }
  var url = '/api/pdf?inline=1&name=' + encodeURIComponent(S.name);
  var w = window.open(url, '_blank');
  say('message', w ? '已在新标签页打开 PDF（与 formpress render 生成的相同）；在其中按 Ctrl+P 打印' : '浏览器阻止了新标签页；请用“下载 PDF”', w ? 'ok' : 'warn');
}

async function download(url, what) {
  if (S.dirty || !S.hash) { say('message', '请先保存：下载的文件由已保存的表单生成', 'error'); return; }
  say('message', '正在生成……');
  var r;
  try { r = await fetch(url); } catch (e) { say('message', '无法连接 formpress serve', 'error'); return; }
  if (!r.ok) {
    var j = {};
    try { j = await r.json(); } catch (e) { /* not JSON */ }
    say('message', j.error || '生成失败', 'error');
    return;
  }
  var blob = await r.blob();
  var stem = S.name.replace(/\.ya?ml$/i, '');
  var file = what === 'archive' ? stem + '-存档.pdf' : what === 'xlsx' ? stem + '.xlsx' : stem + '.pdf';
  var a = h('a', { href: URL.createObjectURL(blob), download: file });
  document.body.appendChild(a);
  a.click();
  setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  var draft = r.headers.get('x-formpress-draft') === '1';
  say('message', '已下载 ' + file + (draft ? '（草稿：表单有错误，每页印有“草稿”，没有校验码）' : ''), draft ? 'warn' : 'ok');
}

// ---------- files the page brings in ----------

function readBase64(file) {
  return new Promise(function (resolve, reject) {
    var reader = new FileReader();
    reader.onload = function () { resolve(String(reader.result).replace(/^data:[^,]*,/, '')); };
    reader.onerror = reject;
    reader.readAsDataURL(file);
  });
}

async function importFile() {
  var file = $('import-file').files[0];
  if (!file) return;
  say('home-message', '正在导入 ' + file.name + '……');
  var content = await readBase64(file);
  $('import-file').value = '';
  var r = await api('POST', '/api/import', { file: file.name, content: content });
  if (!r.ok) { say('home-message', r.json.error || '导入失败', 'error'); return; }
  await openForm(r.json.name);
  var notes = r.json.notes.length ? '；' + r.json.notes.length + ' 条说明写在 YAML 开头（如未能识别的格）' : '';
  say('message', '已从 ' + file.name + ' 导入为 ' + r.json.name + notes, 'ok');
}

async function uploadSeal() {
  var file = $('seal-file').files[0];
  if (!file) return;
  var content = await readBase64(file);
  $('seal-file').value = '';
  var r = await api('POST', '/api/seal', { form: S.name, file: file.name, content: content });
  if (!r.ok) { say('message', r.json.error || '上传失败', 'error'); return; }
  remember(null);
  set(['signature', 'seal'], r.json.file);
  touch('signature.seal');
  S.shape = '';
  changed();
  say('message', '印章图片已存为 ' + r.json.file + '，印在签章区；保存后写入表单', 'ok');
}

function copyDialog(name) {
  var stem = name.replace(/\.ya?ml$/i, '');
  var next = stem.replace(/(20\d\d)(?!.*20\d\d)/, function (y) { return String(parseInt(y, 10) + 1); });
  $('copy-name').value = (next === stem ? stem + '-新' : next) + '.yaml';
  $('copy-dialog').hidden = false;
  $('copy-name').focus();
  $('copy-ok').onclick = async function () {
    var to = $('copy-name').value.trim();
    if (!/\.ya?ml$/i.test(to)) to += '.yaml';
    var clear = document.querySelector('input[name=copy-amounts]:checked').value === 'clear';
    var r = await api('POST', '/api/copy', { name: name, to: to, clear_amounts: clear });
    if (!r.ok) { say($('home').hidden ? 'message' : 'home-message', r.json.error || '复制失败', 'error'); return; }
    $('copy-dialog').hidden = true;
    await openForm(to);
    say('message', '已复制为 ' + to + '（年度已加一' + (clear ? '，金额已清空' : '') + '）', 'ok');
  };
  $('copy-cancel').onclick = function () { $('copy-dialog').hidden = true; };
}

document.addEventListener('DOMContentLoaded', start);
