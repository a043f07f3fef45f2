// NeuralStyle studio page: picks images and options, submits a job to the JSON API, follows it with
// server-sent events (preview, loss curve, time left) and lists earlier jobs. No build step, no dependencies.
'use strict';

const $ = (s, root = document) => root.querySelector(s);
const $$ = (s, root = document) => [...root.querySelectorAll(s)];

const state = {
  method: 'gatys',
  content: null,          // File
  styles: [],             // [{ file, weight, url }]
  job: null,              // id of the job shown
  events: null,           // EventSource
  curve: [],              // [[iteration, loss]]
  previewVersion: 0,
  banks: [],              // [{ name, styles }] from api/models
  blend: {},              // style name -> slider value (0-100)
  palette: [],            // [{ color: 'ff0000', style }] one brush colour per bank style
  brush: 0,               // index into palette
};

const API_METHOD = { gatys: 'stylize', coarse: 'stylize', texture: 'texture', fast: 'apply', bank: 'apply' };
const NO_STYLE_METHODS = ['fast', 'bank'];

// ---- method and fields --------------------------------------------------------------------------------------------

function chooseMethod(m) {
  state.method = m;
  for (const b of $$('.method')) b.classList.toggle('active', b.dataset.method === m);
  for (const f of $$('#options fieldset')) {
    const on = f.dataset.for.split(' ').includes(m);
    f.hidden = !on;
    f.disabled = !on;
  }
  $('#content-drop').hidden = m === 'texture';
  $('#style-drop').hidden = NO_STYLE_METHODS.includes(m);
  $('#styles').hidden = NO_STYLE_METHODS.includes(m);
  if (m === 'bank') loadBanks();
  $('#style-label').textContent = m === 'texture' ? 'Texture sources' : 'Style images';
  renderStyles();
}

/** The options object: keys are the command line's option names without dashes. */
function collectOptions() {
  const o = {};
  for (const f of $$('#options fieldset')) {
    if (f.disabled) continue;
    for (const el of $$('input, select', f)) {
      if (!el.name) continue;
      if (el.name === 'tileable') { if (el.checked) o.padding = 'circular'; continue; }
      if (el.type === 'checkbox') { if (el.checked) o[el.name] = true; continue; }
      if (el.value === '') continue;
      o[el.name] = el.type === 'number' ? Number(el.value) : el.value;
    }
  }
  if (state.method === 'coarse' && o['min-size'] && o.size && o['min-size'] >= o.size) delete o['min-size'];
  if (state.method === 'gatys' || state.method === 'coarse') {
    const w = state.styles.map(s => s.weight);
    if (w.length > 1 && w.some(x => x !== w[0])) o['style-blend'] = w.map(x => Math.max(0, x) / 100);
  }
  if (state.method === 'texture' && state.styles.length > 0 && !o['source-width'] && !o['source-scale']) {
    // Sources much larger than the output would only cost time: bring them near the output's size.
    o['source-width'] = Math.max(64, Math.min(1024, o.width || 256));
  }
  if (state.method === 'bank') Object.assign(o, bankOptions());
  return o;
}

// ---- StyleBank: model, mode, blend sliders, painted regions ----------------------------------------------------------

// Brush colours, far apart (the server matches mask colours within 24 levels); black is left for "unpainted".
const COLORS = ['ff0000', '0000ff', '00c000', 'ffd700', 'ff00ff', '00ffff', 'ff8000', '8000ff'];

function currentBank() { return state.banks.find(b => b.name === $('#bank-model').value); }
function bankMode() { return $('#bank-mode').value; }

async function loadBanks() {
  let models;
  try {
    const r = await fetch('api/models');
    if (!r.ok) return;
    models = await r.json();
  } catch { return; }
  state.banks = models.filter(m => m.kind === 'stylebank' && m.styles && m.styles.length > 0);
  const sel = $('#bank-model'), keep = sel.value;
  sel.textContent = '';
  for (const b of state.banks) sel.append(new Option(`${b.name} (${b.styles.length} styles)`, b.name));
  if (state.banks.length === 0) {
    const none = new Option('no StyleBank in the models folder', '');
    sel.append(none);
  } else if (state.banks.some(b => b.name === keep)) sel.value = keep;
  bankChanged();
}

function bankChanged() {
  const bank = currentBank(), styles = bank ? bank.styles : [];
  const one = $('#bank-style'), keep = one.value;
  one.textContent = '';
  styles.forEach(n => one.append(new Option(n, n)));
  if (styles.includes(keep)) one.value = keep;
  const blend = {};
  styles.forEach((n, i) => { blend[n] = n in state.blend ? state.blend[n] : (i < 2 ? 50 : 0); });
  state.blend = blend;
  const old = state.palette;
  state.palette = styles.slice(0, COLORS.length).map((n, i) => ({ color: COLORS[i], style: old[i] && styles.includes(old[i].style) ? old[i].style : n }));
  state.brush = Math.min(state.brush, Math.max(0, state.palette.length - 1));
  renderBlend();
  renderPalette();
  modeChanged();
}

function modeChanged() {
  const m = bankMode();
  for (const el of $$('#bank [data-mode]')) el.hidden = el.dataset.mode !== m;
}

function renderBlend() {
  const box = $('#bank-blend');
  box.textContent = '';
  const names = Object.keys(state.blend);
  const outputs = [];
  const update = () => {
    const sum = names.reduce((a, n) => a + state.blend[n], 0);
    names.forEach((n, i) => { outputs[i].textContent = sum > 0 ? `${Math.round(100 * state.blend[n] / sum)}%` : '–'; });
  };
  for (const n of names) {
    const row = document.createElement('div');
    row.className = 'blend-row';
    const name = document.createElement('span');
    name.textContent = n;
    const r = document.createElement('input');
    r.type = 'range'; r.min = 0; r.max = 100; r.value = state.blend[n]; r.dataset.style = n;
    r.addEventListener('input', () => { state.blend[n] = Number(r.value); update(); });
    const out = document.createElement('output');
    outputs.push(out);
    row.append(name, r, out);
    box.append(row);
  }
  update();
}

function renderPalette() {
  const box = $('#palette');
  box.textContent = '';
  const styles = currentBank() ? currentBank().styles : [];
  state.palette.forEach((p, i) => {
    const sw = document.createElement('div');
    sw.className = 'swatch' + (i === state.brush ? ' active' : '');
    const b = document.createElement('button');
    b.type = 'button'; b.title = `paint with #${p.color}`; b.style.background = `#${p.color}`; b.dataset.color = p.color;
    b.addEventListener('click', () => { state.brush = i; renderPalette(); });
    const sel = document.createElement('select');
    sel.title = 'the style this colour paints';
    styles.forEach(n => sel.append(new Option(n, n)));
    sel.value = p.style;
    sel.addEventListener('change', () => { p.style = sel.value; });
    sw.append(b, sel);
    box.append(sw);
  });
}

// The painting canvas has the photo's own size, so the mask needs no resizing on the server.
function preparePainter() {
  const img = $('#painter-photo');
  if (!state.content) { $('#painter').hidden = true; return; }
  if (img.src) URL.revokeObjectURL(img.src);
  img.onload = () => {
    const c = $('#mask');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    $('#painter').hidden = false;
    $('#painter-hint').textContent = 'Pick a colour, paint its region; unpainted parts stay the bank\'s reconstruction.';
  };
  img.src = URL.createObjectURL(state.content);
}

function wirePainter() {
  const c = $('#mask');
  let last = null;
  const at = e => {
    const r = c.getBoundingClientRect();
    return [(e.clientX - r.left) * c.width / r.width, (e.clientY - r.top) * c.height / r.height];
  };
  const paint = to => {
    const g = c.getContext('2d'), p = state.palette[state.brush];
    if (!p) return;
    const scale = c.width / c.getBoundingClientRect().width;
    g.strokeStyle = g.fillStyle = `#${p.color}`;
    g.lineWidth = Number($('#brush').value) * scale;
    g.lineCap = g.lineJoin = 'round';
    g.beginPath();
    if (last) { g.moveTo(last[0], last[1]); g.lineTo(to[0], to[1]); g.stroke(); }
    else { g.arc(to[0], to[1], g.lineWidth / 2, 0, 2 * Math.PI); g.fill(); }
    last = to;
  };
  c.addEventListener('pointerdown', e => { e.preventDefault(); c.setPointerCapture(e.pointerId); last = null; paint(at(e)); });
  c.addEventListener('pointermove', e => { if (last) paint(at(e)); });
  const stop = () => { last = null; };
  c.addEventListener('pointerup', stop);
  c.addEventListener('pointercancel', stop);
  $('#clear-mask').addEventListener('click', () => c.getContext('2d').clearRect(0, 0, c.width, c.height));
}

/**
 * The painted mask as an opaque PNG: every painted pixel snapped to its nearest brush colour (canvas strokes are
 * anti-aliased), every unpainted one black (no style: the reconstruction). Resolves to { blob, used } with the
 * palette entries that occur.
 */
function maskBlob() {
  const c = $('#mask');
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height);
  const px = data.data, rgb = state.palette.map(p => [0, 2, 4].map(k => parseInt(p.color.slice(k, k + 2), 16)));
  const used = new Set();
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] < 128) { px[i] = px[i + 1] = px[i + 2] = 0; px[i + 3] = 255; continue; }
    let best = 0, bestD = Infinity;
    rgb.forEach((q, k) => { const d = (q[0] - px[i]) ** 2 + (q[1] - px[i + 1]) ** 2 + (q[2] - px[i + 2]) ** 2; if (d < bestD) { bestD = d; best = k; } });
    [px[i], px[i + 1], px[i + 2]] = rgb[best];
    px[i + 3] = 255;
    used.add(best);
  }
  const out = document.createElement('canvas');
  out.width = c.width; out.height = c.height;
  out.getContext('2d').putImageData(data, 0, 0);
  return new Promise(resolve => out.toBlob(blob => resolve({ blob, used: [...used].sort((a, b) => a - b).map(k => state.palette[k]) }), 'image/png'));
}

/** The bank's options for the chosen mode (regions add region-styles; the mask itself is sent as a file). */
function bankOptions() {
  const m = bankMode(), o = {};
  if (m === 'style') o.style = $('#bank-style').value;
  else if (m === 'blend') {
    const names = Object.keys(state.blend), sum = names.reduce((a, n) => a + state.blend[n], 0);
    if (sum > 0) o.blend = names.filter(n => state.blend[n] > 0).map(n => `${n}:${+(state.blend[n] / sum).toFixed(4)}`).join(',');
  } else if (m === 'reconstruct') o.reconstruct = true;
  else {
    const f = Number($('#feather').value);
    if (f > 0) o.feather = f;
    o['region-mode'] = $('#region-mode').value;
  }
  return o;
}

// ---- images -------------------------------------------------------------------------------------------------------

function isImage(file) { return file && /^image\/(png|jpeg)$/.test(file.type || '') || /\.(png|jpe?g)$/i.test(file.name || ''); }

function setContent(file) {
  if (!isImage(file)) { say('Use a PNG or JPEG image.'); return; }
  state.content = file;
  const img = $('#content-thumb');
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(file);
  img.hidden = false;
  $('#content-drop').classList.add('filled');
  say('');
  preparePainter();
}

function addStyles(files) {
  for (const file of files) {
    if (!isImage(file)) { say('Use PNG or JPEG images.'); continue; }
    if (state.styles.length >= 8) { say('At most 8 style images.'); break; }
    state.styles.push({ file, weight: 50, url: URL.createObjectURL(file) });
  }
  renderStyles();
}

function renderStyles() {
  const ul = $('#styles');
  ul.textContent = '';
  const blend = state.method === 'gatys' || state.method === 'coarse';
  state.styles.forEach((s, i) => {
    const li = document.createElement('li');
    const img = document.createElement('img');
    img.src = s.url; img.alt = '';
    li.append(img);
    if (blend && state.styles.length > 1) {
      const r = document.createElement('input');
      r.type = 'range'; r.min = 0; r.max = 100; r.value = s.weight; r.title = 'blend weight';
      r.className = 'blend';
      r.addEventListener('input', () => { s.weight = Number(r.value); });
      li.append(r);
    }
    const x = document.createElement('button');
    x.type = 'button'; x.textContent = '×'; x.title = 'remove';
    x.addEventListener('click', () => { URL.revokeObjectURL(s.url); state.styles.splice(i, 1); renderStyles(); });
    li.append(x);
    ul.append(li);
  });
  $('#style-drop').classList.toggle('filled', state.styles.length > 0);
}

function wireDrop(zone, take) {
  const input = $('input[type=file]', zone);
  zone.addEventListener('click', () => input.click());
  zone.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') input.click(); });
  input.addEventListener('change', () => { take([...input.files]); input.value = ''; });
  zone.addEventListener('dragover', e => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', e => {
    e.preventDefault();
    zone.classList.remove('over');
    take([...(e.dataTransfer ? e.dataTransfer.files : [])]);
  });
}

// ---- submitting and following -------------------------------------------------------------------------------------

function say(text) { $('#message').textContent = text; }

async function start() {
  const m = state.method;
  if (m !== 'texture' && !state.content) { say('Drop a content photo first.'); return; }
  if (!NO_STYLE_METHODS.includes(m) && state.styles.length === 0) { say(m === 'texture' ? 'Drop a texture source first.' : 'Drop a style image first.'); return; }
  if (m === 'bank' && !currentBank()) { say('Put a StyleBank (made with neuralstyle bank train) in the studio\'s models folder first.'); return; }
  if (m === 'bank' && bankMode() === 'blend' && !Object.values(state.blend).some(w => w > 0)) { say('Give at least one style of the blend some weight.'); return; }
  const form = new FormData();
  form.append('method', API_METHOD[m]);
  const options = collectOptions();
  if (m === 'bank' && bankMode() === 'regions') {
    if ($('#painter').hidden) { say('Wait for the photo to load, then paint the regions.'); return; }
    const { blob, used } = await maskBlob();
    if (used.length === 0) { say('Paint at least one region on the photo first.'); return; }
    options['region-styles'] = used.map(p => `${p.color}:${p.style}`).join(',');
    form.append('mask', blob, 'mask.png');
  }
  form.append('options', JSON.stringify(options));
  if (m !== 'texture') form.append('content', state.content);
  if (!NO_STYLE_METHODS.includes(m)) for (const s of state.styles) form.append('style', s.file);
  $('#start').disabled = true;
  say('');
  try {
    const r = await fetch('api/jobs', { method: 'POST', body: form });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) { say(body.error || `The server answered ${r.status}.`); return; }
    follow(body.id);
    refreshGallery();
  } catch {
    say('The studio cannot be reached.');
  } finally {
    $('#start').disabled = false;
  }
}

function follow(id) {
  if (state.events) state.events.close();
  state.job = id;
  state.curve = [];
  state.previewVersion = 0;
  $('#preview').hidden = true;
  $('#result').hidden = true;
  $('#download').hidden = true;
  drawCurve();
  const es = new EventSource(`api/jobs/${id}/events`);
  state.events = es;
  const onData = e => {
    const d = JSON.parse(e.data);
    if (d.reset) state.curve = [];
    state.curve.push(...d.points);
    show(d.job);
    drawCurve();
  };
  es.addEventListener('update', onData);
  es.addEventListener('end', e => { onData(e); es.close(); refreshGallery(); });
  es.onerror = () => { if (es.readyState === EventSource.CLOSED) state.events = null; };
}

function fmtTime(s) {
  if (s == null || !isFinite(s)) return '';
  s = Math.round(s);
  const m = Math.floor(s / 60), r = s % 60;
  return m > 0 ? `${m} min ${String(r).padStart(2, '0')} s left` : `${r} s left`;
}

function fmtLoss(l) { return l == null ? '' : `loss ${Number(l).toPrecision(4)}`; }

function show(job) {
  const running = job.status === 'running', queued = job.status === 'queued';
  let text;
  if (queued) text = job.position > 0 ? `Queued: position ${job.position}` : 'Queued';
  else if (running) text = [`Running ${job.iteration}/${job.iterations}`, job.stage, fmtLoss(job.loss), fmtTime(job.secondsLeft)].filter(Boolean).join(' · ');
  else if (job.status === 'done') text = `Done: ${job.iteration} ${job.method === 'apply' ? 'image' : 'iteration'}${job.iteration === 1 ? '' : 's'}${job.loss != null ? ' · ' + fmtLoss(job.loss) : ''}`;
  else if (job.status === 'failed') text = `Failed: ${job.error || 'unknown error'}`;
  else text = 'Cancelled';
  const st = $('#status');
  st.textContent = text;
  st.dataset.status = job.status;
  // What the run had to say (a mask warning, a fallback to the random network), one line each.
  const notes = $('#notes');
  notes.replaceChildren(...(job.notes || []).map(n => { const li = document.createElement('li'); li.textContent = n; return li; }));
  notes.hidden = notes.children.length === 0;
  $('#bar').style.width = job.iterations > 0 ? `${(100 * job.iteration / job.iterations).toFixed(1)}%` : (job.status === 'done' ? '100%' : '0');
  $('#cancel').disabled = !(running || queued);
  if (job.previewVersion > state.previewVersion && (running || !job.hasResult)) {
    state.previewVersion = job.previewVersion;
    const p = $('#preview');
    p.src = `api/jobs/${job.id}/preview?v=${job.previewVersion}`;
    p.dataset.version = String(job.previewVersion);
    p.hidden = false;
  }
  if (job.hasResult && !running && !queued) {
    const r = $('#result');
    r.src = `api/jobs/${job.id}/result?t=${encodeURIComponent(job.finished || '')}`;
    r.hidden = false;
    $('#preview').hidden = true;
    const a = $('#download');
    a.href = `api/jobs/${job.id}/result`;
    a.hidden = false;
  }
}

async function cancel() {
  if (!state.job) return;
  $('#cancel').disabled = true;
  const r = await fetch(`api/jobs/${state.job}`, { method: 'DELETE' });
  if (!r.ok) { const b = await r.json().catch(() => ({})); say(b.error || 'Could not cancel.'); }
}

// ---- the loss curve ------------------------------------------------------------------------------------------------

function drawCurve() {
  const c = $('#curve'), g = c.getContext('2d');
  const w = c.width, h = c.height, pad = 44;
  g.clearRect(0, 0, w, h);
  g.strokeStyle = '#c9c4ba'; g.lineWidth = 1;
  g.strokeRect(pad + 0.5, 4.5, w - pad - 6, h - pad - 4);
  const pts = state.curve.filter(p => p[1] > 0);
  g.fillStyle = '#777'; g.font = '11px system-ui, sans-serif';
  if (pts.length < 2) { g.fillText('loss (log scale) appears here while a job runs', pad + 8, h / 2); return; }
  const xs = pts.map(p => p[0]), ys = pts.map(p => Math.log10(p[1]));
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const X = x => pad + (w - pad - 8) * (x - x0) / Math.max(1, x1 - x0);
  const Y = y => 6 + (h - pad - 8) * (1 - (y - y0) / Math.max(1e-9, y1 - y0));
  g.strokeStyle = '#b5462a'; g.lineWidth = 2; g.beginPath();
  pts.forEach((p, i) => { const px = X(p[0]), py = Y(Math.log10(p[1])); i ? g.lineTo(px, py) : g.moveTo(px, py); });
  g.stroke();
  g.fillText(pts[0][1].toPrecision(3), 2, 14);
  g.fillText(pts[pts.length - 1][1].toPrecision(3), 2, h - pad);
  g.fillText(`iteration ${x1}`, w - 90, h - 8);
}

// ---- earlier jobs --------------------------------------------------------------------------------------------------

async function refreshGallery() {
  let jobs;
  try {
    const r = await fetch('api/jobs?limit=60');
    if (!r.ok) return;
    jobs = await r.json();
  } catch { return; }
  const g = $('#gallery');
  g.textContent = '';
  for (const j of jobs) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `thumb ${j.status}`;
    b.title = `${j.method} · ${j.status}${j.error ? ': ' + j.error : ''}`;
    if (j.hasResult) {
      const img = document.createElement('img');
      img.loading = 'lazy'; img.alt = j.method;
      img.src = `api/jobs/${j.id}/result?t=${encodeURIComponent(j.finished || '')}`;
      b.append(img);
    }
    const cap = document.createElement('span');
    cap.textContent = j.status === 'queued' && j.position > 0 ? `#${j.position} in queue` : j.status === 'running' ? `running ${j.iteration}/${j.iterations}` : `${j.method} · ${j.status}`;
    b.append(cap);
    b.addEventListener('click', () => follow(j.id));
    g.append(b);
  }
}

// ---- start --------------------------------------------------------------------------------------------------------

window.addEventListener('DOMContentLoaded', () => {
  for (const b of $$('.method')) b.addEventListener('click', () => chooseMethod(b.dataset.method));
  wireDrop($('#content-drop'), files => files[0] && setContent(files[0]));
  wireDrop($('#style-drop'), addStyles);
  $('#start').addEventListener('click', start);
  $('#cancel').addEventListener('click', cancel);
  $('#bank-model').addEventListener('change', bankChanged);
  $('#bank-mode').addEventListener('change', modeChanged);
  $('#feather').addEventListener('input', () => { $('#feather-value').textContent = `${$('#feather').value} px`; });
  wirePainter();
  modeChanged();
  chooseMethod('gatys');
  drawCurve();
  refreshGallery();
  setInterval(refreshGallery, 5000);
});
