// formpress serve: the form list, an editor built from the kind's manifest,
// findings at their fields, the live preview, saving and downloads.
// Plain ES2017 for Chromium-based browsers and Firefox; no build step.
'use strict';

var S = {
  info: null,
  kind: null,      // the kind's manifest as /api/kind gives it
  name: null,      // file name in the folder
  hash: null,      // the file's version when loaded or saved; null for a new file
  data: null,      // the form data being edited (numbers as typed text)
  dirty: false,
  seq: 0,          // preview requests sent
  shown: 0,        // newest preview shown
  session: Math.random().toString(36).slice(2),
  index: {},       // data path → field element
  timers: {},
  svgs: []         // the SVG of each page shown
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

// ---------- the form list ----------

var STATUS = { clean: '无问题', warnings: '有警告', draft: '有错误（草稿）', broken: '无法生成' };

async function home() {
  $('editor').hidden = true;
  $('home').hidden = false;
  document.title = 'formpress 表单填报';
  var r = await api('GET', '/api/forms');
  var body = $('forms').tBodies[0];
  body.textContent = '';
  if (!r.ok) { say('home-message', r.json.error, 'error'); return; }
  r.json.forms.forEach(function (f) {
    body.appendChild(h('tr', { 'data-name': f.name },
      h('td', null, f.name),
      h('td', null, f.title || ''),
      h('td', null, h('span', { className: 'badge ' + f.status, title: f.status_label, text: STATUS[f.status] || f.status })),
      h('td', null, h('button', { type: 'button', className: 'open', onclick: function () { openForm(f.name); } }, '打开'))));
  });
  $('no-forms').hidden = r.json.forms.length > 0;
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
  var project = r.json.kinds.filter(function (k) { return k.id === 'project'; })[0];
  if (project) select.value = 'project';
  $('download-xlsx').hidden = !r.json.xlsx;
  $('new-button').addEventListener('click', newForm);
  $('back').addEventListener('click', function () {
    if (S.dirty && !window.confirm('有未保存的修改，确定离开吗？')) return;
    S.dirty = false;
    home();
  });
  $('save').addEventListener('click', function () { save(false); });
  $('download-pdf').addEventListener('click', function () { download('/api/pdf?name=' + encodeURIComponent(S.name), 'pdf'); });
  $('download-archive').addEventListener('click', function () { download('/api/pdf?archive=1&name=' + encodeURIComponent(S.name), 'archive'); });
  $('download-xlsx').addEventListener('click', function () { download('/api/xlsx?name=' + encodeURIComponent(S.name), 'xlsx'); });
  window.addEventListener('beforeunload', function (e) { if (S.dirty) { e.preventDefault(); e.returnValue = ''; } });
  home();
}

async function newForm() {
  var name = $('new-name').value.trim();
  if (!name) { say('home-message', '请填写文件名', 'error'); return; }
  if (!/\.ya?ml$/i.test(name)) name += '.yaml';
  var exists = Array.prototype.some.call($('forms').tBodies[0].rows, function (tr) { return tr.getAttribute('data-name') === name; });
  if (exists) { say('home-message', name + ' 已存在；请换一个文件名，或打开它', 'error'); return; }
  var kind = await loadKind($('new-kind').value);
  if (!kind) return;
  edit(name, null, { form: kind.id }, kind);
  S.dirty = true;
  refresh();
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
  edit(name, f.hash, f.data, kind);
  showFindings(f);
  preview();
}

// ---------- the editor ----------

function edit(name, hash, data, kind) {
  S.name = name; S.hash = hash; S.data = data; S.kind = kind; S.dirty = false;
  $('home').hidden = true;
  $('editor').hidden = false;
  $('file-name').textContent = name;
  $('kind-name').textContent = kind.name;
  document.title = name + ' — formpress';
  say('message', '');
  $('pages').textContent = '';
  S.svgs = [];
  $('preview-info').textContent = '预览';
  build();
}

// Data paths as the checker names them: tasks[2].fiscal
function pathText(path) {
  return path.reduce(function (s, p) { return typeof p === 'number' ? s + '[' + p + ']' : (s ? s + '.' + p : p); }, '');
}

function get(path) {
  var v = S.data;
  for (var i = 0; i < path.length && v !== undefined && v !== null; i++) v = v[path[i]];
  return v;
}

// Sets a value, creating the records above it; keys are placed in the
// manifest's order. A blank value removes the key (a blank cell), and a
// record left empty is removed with it.
function set(path, value, order) {
  var parents = [S.data];
  for (var i = 0; i < path.length - 1; i++) {
    var p = parents[i], k = path[i];
    if (p[k] === undefined || p[k] === null) {
      if (value === undefined) return;
      put(p, k, {}, orderOf(path.slice(0, i + 1)));
    }
    parents.push(p[k]);
  }
  var last = path[path.length - 1], obj = parents[parents.length - 1];
  if (value === undefined) {
    if (Array.isArray(obj)) obj[last] = null; else delete obj[last];
    for (var j = parents.length - 1; j > 0; j--) {
      var o = parents[j];
      if (Array.isArray(o) || typeof path[j - 1] === 'number' || Object.keys(o).length) break;
      delete parents[j - 1][path[j - 1]];
    }
  } else if (Array.isArray(obj) || last in obj) {
    obj[last] = value;
  } else {
    put(obj, last, value, order || orderOf(path.slice(0, -1)));
  }
  changed();
}

function put(obj, key, value, order) {
  if (Array.isArray(obj) || key in obj) { obj[key] = value; return; }
  var old = {};
  Object.keys(obj).forEach(function (k) { old[k] = obj[k]; delete obj[k]; });
  (order || []).forEach(function (k) {
    if (k === key) obj[k] = value;
    else if (k in old) obj[k] = old[k];
  });
  Object.keys(old).forEach(function (k) { if (!(k in obj)) obj[k] = old[k]; });
  if (!(key in obj)) obj[key] = value;
}

// The manifest's key order of the record at `path`.
function orderOf(path) {
  var fields = fieldsAt(path);
  return fields ? Object.keys(fields) : [];
}

function fieldsAt(path) {
  if (!path.length) return Object.assign({ form: null }, S.kind.fields, { options: null });
  if (path[0] === 'options') return S.kind.options;
  var top = S.kind.fields[path[0]];
  if (top && top.type === 'indicators') {
    // A row: its fields' order; a group: name first, the rest as added.
    var last = path[path.length - 1], parent = path[path.length - 2];
    var item = get(path) || {};
    var group = 'groups' in item || 'rows' in item || (top.sides || []).some(function (s) { return s.key in item; });
    return typeof last === 'number' && (parent === 'rows' || !group) ? top.row : null;
  }
  var f = { type: 'record', fields: S.kind.fields };
  for (var i = 0; i < path.length && f; i++) {
    var k = path[i];
    if (f.type === 'list') f = f.item;
    else if (f.type === 'record') f = (f.fields || {})[k];
    else if (f.type === 'signature') f = S.kind.signature[k];
    else return null;
  }
  if (!f) return null;
  if (f.type === 'signature') return S.kind.signature;
  return f.fields || null;
}

function changed() {
  S.editedAt = performance.now();
  S.dirty = true;
  $('save').classList.add('attention');
  refresh();
}

// Findings quickly, the preview a little later; a newer edit supersedes both.
function refresh() {
  clearTimeout(S.timers.check);
  clearTimeout(S.timers.preview);
  S.timers.check = setTimeout(check, 120);
  S.timers.preview = setTimeout(preview, 150);
}

async function check() {
  var r = await api('POST', '/api/check', { name: S.name, data: S.data });
  if (r.ok) showFindings(r.json);
}

function showFindings(res) {
  Object.keys(S.index).forEach(function (p) {
    var el = S.index[p];
    el.classList.remove('has-error', 'has-warning');
    var list = el.querySelector(':scope > .findings');
    if (list) list.textContent = '';
  });
  var general = $('general-findings');
  general.textContent = '';
  res.findings.forEach(function (f) {
    var el = null, p = f.path || '';
    while (!el) {
      el = S.index[p] || null;
      if (el || !p) break;
      p = p.replace(/(\[\d+\]|\.?[^.\[]+)$/, '');
    }
    var item = h('li', { className: f.severity, 'data-path': f.path },
      (el ? '' : (f.place ? f.place + '：' : '')) + f.message + (f.help ? '（' + f.help + '）' : ''));
    var list = el ? el.querySelector(':scope > .findings') : null;
    if (list) {
      list.appendChild(item);
      el.classList.add(f.severity === 'error' ? 'has-error' : 'has-warning');
    } else {
      general.appendChild(item);
    }
  });
  var badge = $('status');
  badge.className = 'badge ' + res.status;
  var counts = [];
  if (res.errors) counts.push(res.errors + ' 个错误');
  if (res.warnings) counts.push(res.warnings + ' 个警告');
  badge.textContent = (STATUS[res.status] || res.status) + (counts.length ? '：' + counts.join('，') : '');
}

async function preview() {
  var seq = ++S.seq;
  $('preview-pane').classList.add('busy');
  var r = await api('POST', '/api/preview', { session: S.session, seq: seq, name: S.name, data: S.data });
  if (seq === S.seq) $('preview-pane').classList.remove('busy');
  if (!r.ok || r.json.superseded || r.json.seq < S.shown) return;
  S.shown = r.json.seq;
  var info = $('preview-info');
  if (r.json.error) {
    info.textContent = '预览未更新：' + r.json.error;
    info.className = 'error';
    $('pages').classList.add('stale');
    return;
  }
  info.className = '';
  info.textContent = r.json.notes.join('，') + '（预览 ' + r.json.ms + ' 毫秒）';
  var pages = $('pages');
  pages.classList.remove('stale');
  var imgs = pages.querySelectorAll('img.page');
  var editedAt = S.editedAt, pending = 0;
  function loaded() {
    // From the last edit to the new pages drawn: what the person waits for.
    if (--pending === 0 && editedAt) pages.setAttribute('data-latency', String(Math.round(performance.now() - editedAt)));
  }
  r.json.pages.forEach(function (svg, i) {
    if (S.svgs[i] === svg && imgs[i]) return; // unchanged: no new image to decode
    // As an image: the page's text is the user's, and an <img> runs nothing.
    var url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
    var img = h('img', { alt: '第 ' + (i + 1) + ' 页', className: 'page', 'data-page': String(i + 1) });
    pending++;
    img.addEventListener('load', loaded);
    img.src = url;
    if (imgs[i]) {
      URL.revokeObjectURL(imgs[i].src);
      pages.replaceChild(img, imgs[i]);
    } else {
      pages.appendChild(img);
    }
  });
  for (var i = r.json.pages.length; i < imgs.length; i++) {
    URL.revokeObjectURL(imgs[i].src);
    imgs[i].remove();
  }
  S.svgs = r.json.pages;
  pages.setAttribute('data-seq', String(seq));
}

// ---------- building the fields ----------

function build() {
  S.index = {};
  var form = $('fields');
  form.textContent = '';
  var fields = S.kind.fields;
  Object.keys(fields).forEach(function (k) { form.appendChild(widget(fields[k], [k])); });
  form.appendChild(optionsBox());
}

function rebuild() {
  var y = window.scrollY;
  build();
  window.scrollTo(0, y);
  changed();
}

function labelOf(f, key) { return f.label || key; }

function widget(f, path) {
  switch (f.type) {
    case 'record': return record(f, path, f.fields);
    case 'signature': return record(f, path, S.kind.signature);
    case 'list': return list(f, path);
    case 'indicators': return indicators(f, path);
    default: return scalar(f, path);
  }
}

function box(path, cls) {
  var el = h('div', { className: cls, 'data-path': pathText(path) });
  S.index[pathText(path)] = el;
  return el;
}

function findingsList() { return h('ul', { className: 'findings' }); }

// A box for a record, list or tree: its label, help and findings.
function section(f, path, cls) {
  var el = box(path, cls);
  el.appendChild(h('h3', null, labelOf(f, path[path.length - 1])));
  if (f.help) el.appendChild(h('p', { className: 'help' }, f.help));
  el.appendChild(findingsList());
  return el;
}

function record(f, path, fields) {
  var el = section(f, path, 'record');
  Object.keys(fields).forEach(function (k) { el.appendChild(widget(fields[k], path.concat([k]))); });
  return el;
}

function unitOf(f) {
  if (f.type !== 'money') return '';
  var o = (S.data.options || {}).unit;
  if (o) return o;
  var spec = S.kind.options.unit;
  return spec ? spec.default : '';
}

function scalar(f, path, opts) {
  opts = opts || {};
  var el = box(path, 'field field-' + f.type);
  var id = 'f-' + pathText(path).replace(/[^A-Za-z0-9_]/g, '_');
  var value = get(path);
  var input;
  var text = value === undefined || value === null ? '' : String(value);
  var example = f['default'] !== undefined && f['default'] !== null ? '默认：' + f['default']
    : f.example !== undefined && f.example !== null ? '例：' + f.example : '';
  if (f.type === 'bool') {
    input = h('select', { id: id },
      h('option', { value: '' }, '（默认）'), h('option', { value: 'true' }, '是'), h('option', { value: 'false' }, '否'));
    input.value = value === true ? 'true' : value === false ? 'false' : '';
    input.addEventListener('change', function () {
      set(path, input.value === '' ? undefined : input.value === 'true');
    });
  } else if (f.type === 'choice' && !f.open) {
    input = h('select', { id: id }, h('option', { value: '' }, '（不填）'),
      (f.choices || []).map(function (c) { return h('option', { value: c }, c); }));
    if (text && (f.choices || []).indexOf(text) < 0) input.appendChild(h('option', { value: text }, text));
    input.value = text;
    input.addEventListener('change', function () { set(path, input.value === '' ? undefined : input.value); });
  } else {
    var long = opts.long || (f.style === 'lt' || f.style === 'small') || text.length > 40 || text.indexOf('\n') >= 0;
    input = long ? h('textarea', { id: id, rows: String(Math.min(8, Math.max(2, Math.ceil(text.length / 40)))) })
                 : h('input', { id: id, type: 'text' });
    if (['integer', 'number', 'money'].indexOf(f.type) >= 0) input.setAttribute('inputmode', 'decimal');
    if (f.type === 'date') input.setAttribute('placeholder', '如 2021-01-28');
    else if (example) input.setAttribute('placeholder', example);
    if (f.type === 'choice' && f.choices) {
      var listId = id + '-choices';
      input.setAttribute('list', listId);
      el.appendChild(h('datalist', { id: listId }, f.choices.map(function (c) { return h('option', { value: c }); })));
    }
    input.value = text;
    input.addEventListener('input', function () {
      // Text is kept as typed; a blank field is left out (a blank cell), or
      // kept as "" where blank and absent differ (a cell of its own).
      set(path, input.value === '' && !opts.keepEmpty ? undefined : input.value);
    });
  }
  input.setAttribute('data-path', pathText(path));
  var label = h('label', { 'for': id }, labelOf(f, path[path.length - 1]), f.required ? h('span', { className: 'req', title: '必填' }, '*') : null);
  el.appendChild(label);
  var unit = unitOf(f);
  el.appendChild(unit ? h('span', { className: 'with-unit' }, input, h('span', { className: 'unit' }, unit)) : input);
  if (opts.merge) el.appendChild(opts.merge);
  if (f.help) el.appendChild(h('p', { className: 'help' }, f.help));
  el.appendChild(findingsList());
  return el;
}

function itemLabel(f, i) {
  return (f.item_label || (f.item && f.item.label) || '第{n}项').replace('{n}', String(i + 1));
}

// Up, down and remove for an item of a list.
function itemTools(arr, i, what) {
  function move(d) {
    var j = i + d;
    if (j < 0 || j >= arr.length) return;
    var t = arr[i]; arr[i] = arr[j]; arr[j] = t;
    rebuild();
  }
  return h('span', { className: 'tools' },
    h('button', { type: 'button', className: 'up', title: '上移', disabled: i === 0 ? true : null, onclick: function () { move(-1); } }, '↑'),
    h('button', { type: 'button', className: 'down', title: '下移', disabled: i === arr.length - 1 ? true : null, onclick: function () { move(1); } }, '↓'),
    h('button', { type: 'button', className: 'remove', title: '删除' + what, onclick: function () {
      if (!window.confirm('删除' + what + '？')) return;
      arr.splice(i, 1);
      rebuild();
    } }, '✕'));
}

function ensureList(path) {
  var arr = get(path);
  if (!Array.isArray(arr)) {
    set(path, []);
    arr = get(path);
  }
  return arr;
}

function list(f, path) {
  var el = section(f, path, 'list');
  var arr = get(path);
  (Array.isArray(arr) ? arr : []).forEach(function (item, i) {
    var p = path.concat([i]);
    var row;
    if (f.item.type === 'record' || f.item.type === 'signature') {
      row = record(Object.assign({}, f.item, { label: itemLabel(f, i) }), p, f.item.type === 'record' ? f.item.fields : S.kind.signature);
    } else {
      row = scalar(Object.assign({}, f.item, { label: itemLabel(f, i) }), p, { long: f.item.type === 'text', keepEmpty: true });
    }
    row.classList.add('item');
    row.insertBefore(itemTools(arr, i, itemLabel(f, i)), row.firstChild);
    el.appendChild(row);
  });
  el.appendChild(h('button', { type: 'button', className: 'add', onclick: function () {
    var a = ensureList(path);
    a.push(f.item.type === 'record' || f.item.type === 'signature' ? {} : '');
    rebuild();
  } }, '＋ 添加' + itemLabel(f, Array.isArray(arr) ? arr.length : 0).replace(/\d+$/, '')));
  return el;
}

// The indicator tree: 一级 → (中期 | 年度 →) 二级 → rows. Merged cells follow
// the tree, as in the YAML.
function indicators(f, path) {
  var el = section(f, path, 'indicators');
  var arr = get(path);
  // A flat list of rows (a form without 一级/二级 columns): items with row
  // fields besides a name, and no group below them.
  var rowOnly = Object.keys(f.row || {}).filter(function (k) { return k !== 'name'; });
  var flat = Array.isArray(arr) && arr.length > 0 && arr.every(function (x) {
    return x && typeof x === 'object' && !('groups' in x) && !('rows' in x) &&
      !(f.sides || []).some(function (s) { return s.key in x; });
  }) && arr.some(function (x) { return rowOnly.some(function (k) { return k in x; }); });
  if (!f.levels.length || flat) {
    el.appendChild(rows(f, path));
    return el;
  }
  el.appendChild(groups(f, path, 0));
  return el;
}

function childKeys(f, level) {
  if (level === 0 && f.sides && f.sides.length) return f.sides.map(function (s) { return { key: s.key, label: s.label }; });
  if (level + 1 < f.levels.length) return [{ key: 'groups', label: '' }];
  return [{ key: 'rows', label: '' }];
}

function groups(f, path, level) {
  var lv = f.levels[level];
  var wrap = h('div', { className: 'groups level' + level });
  var arr = get(path);
  (Array.isArray(arr) ? arr : []).forEach(function (g, i) {
    var p = path.concat([i]);
    var el = box(p, 'group level' + level);
    var name = scalar({ type: 'text', label: lv.label, help: '', example: lv.help }, p.concat(['name']));
    var head = h('div', { className: 'group-head' }, itemTools(arr, i, lv.label + (g && g.name ? '“' + g.name + '”' : '')), name);
    Object.keys(lv.fields || {}).forEach(function (k) { head.appendChild(scalar(lv.fields[k], p.concat([k]))); });
    el.appendChild(head);
    el.appendChild(findingsList());
    childKeys(f, level).forEach(function (c) {
      var cp = p.concat([c.key]);
      var part = box(cp, 'part');
      if (c.label) part.appendChild(h('h4', null, c.label + '的' + f.levels[1].label));
      part.appendChild(findingsList());
      if (c.key === 'rows') part.appendChild(rows(f, cp));
      else part.appendChild(groups(f, cp, level + 1));
      el.appendChild(part);
    });
    wrap.appendChild(el);
  });
  wrap.appendChild(h('button', { type: 'button', className: 'add add-level' + level, onclick: function () {
    var a = ensureList(path);
    a.push({ name: '' });
    rebuild();
  } }, '＋ 添加' + lv.label));
  return wrap;
}

function rows(f, path) {
  var wrap = h('div', { className: 'rows' });
  var arr = get(path);
  var fields = f.row || {};
  (Array.isArray(arr) ? arr : []).forEach(function (r, i) {
    var p = path.concat([i]);
    var el = box(p, 'row');
    el.appendChild(itemTools(arr, i, '指标行' + (r && r.name ? '“' + r.name + '”' : '')));
    var cells = h('div', { className: 'cells' });
    Object.keys(fields).forEach(function (k) {
      var rf = fields[k];
      if (rf.merge) cells.appendChild(mergeable(rf, p.concat([k])));
      else cells.appendChild(scalar(rf, p.concat([k])));
    });
    el.appendChild(cells);
    el.appendChild(findingsList());
    wrap.appendChild(el);
  });
  wrap.appendChild(h('button', { type: 'button', className: 'add add-row', onclick: function () {
    var a = ensureList(path);
    a.push({});
    rebuild();
  } }, '＋ 添加指标行'));
  return wrap;
}

// A cell that merges with the one above when left out (指标解释, 指标说明):
// “同上” leaves the key out; unticked, the text (even blank) is a cell of its own.
function mergeable(f, path) {
  var v = get(path);
  var merged = v === undefined || v === null;
  var tick = h('input', { type: 'checkbox', className: 'merge', title: '与上一行合并为一格' });
  tick.checked = merged;
  var el = scalar(f, path, { keepEmpty: true, merge: h('label', { className: 'merge-label' }, tick, '同上（合并）') });
  var input = el.querySelector('input[type=text], textarea');
  input.disabled = merged;
  tick.addEventListener('change', function () {
    input.disabled = tick.checked;
    if (tick.checked) { input.value = ''; set(path, undefined); } else { set(path, input.value); input.focus(); }
  });
  return el;
}

function optionsBox() {
  var el = box(['options'], 'record options');
  el.appendChild(h('h3', null, '排版选项'));
  el.appendChild(findingsList());
  var opts = S.kind.options || {};
  Object.keys(opts).forEach(function (k) {
    var o = opts[k], f;
    if (typeof o.default === 'boolean') f = { type: 'bool', label: k, help: o.help };
    else if (o.choices && o.choices.length) f = { type: 'choice', label: k, help: o.help, choices: o.choices };
    else if (typeof o.default === 'object') return; // labels: written in the YAML
    else f = { type: 'text', label: k, help: o.help };
    f.label = o.help ? o.help.split(/[；;，,（(]/)[0] : k;
    f.help = k + '：' + o.help + '（默认：' + (o.default === true ? '是' : o.default === false ? '否' : o.default) + '）';
    el.appendChild(scalar(f, ['options', k]));
  });
  return el;
}

// ---------- saving and downloads ----------

async function save(dropComments) {
  var r = await api('POST', '/api/save', { name: S.name, base: S.hash, data: S.data, drop_comments: dropComments });
  if (r.ok) {
    S.hash = r.json.hash;
    S.dirty = false;
    $('save').classList.remove('attention');
    var note = r.json.rewritten ? '（结构有变，已整份重写' + (r.json.dropped.length ? '，删去 ' + r.json.dropped.length + ' 条注释' : '') + '）' : '（只改了修改过的值，注释和顺序不变）';
    say('message', '已保存 ' + S.name + note, 'ok');
    showFindings(r.json);
    return;
  }
  if (r.status === 409 && r.json.confirm) {
    $('dialog-text').textContent = r.json.error + '：';
    var ul = $('dialog-list');
    ul.textContent = '';
    r.json.confirm.forEach(function (c) { ul.appendChild(h('li', null, c)); });
    $('dialog').hidden = false;
    $('dialog-ok').onclick = function () { $('dialog').hidden = true; save(true); };
    $('dialog-cancel').onclick = function () { $('dialog').hidden = true; say('message', '未保存'); };
    return;
  }
  say('message', r.json.error || '保存失败', 'error');
  if (r.json.conflict && S.hash) {
    // The file changed on disk: offer its current version (this page's edits are dropped).
    $('message').appendChild(h('button', { type: 'button', onclick: function () {
      if (!window.confirm('放弃本页的修改，打开磁盘上的版本？')) return;
      S.dirty = false;
      openForm(S.name);
    } }, '重新打开'));
  }
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

document.addEventListener('DOMContentLoaded', start);
