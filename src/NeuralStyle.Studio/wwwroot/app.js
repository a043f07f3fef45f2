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
};

const API_METHOD = { gatys: 'stylize', coarse: 'stylize', texture: 'texture', fast: 'apply' };

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
  $('#style-drop').hidden = m === 'fast';
  $('#styles').hidden = m === 'fast';
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
  if (m !== 'fast' && state.styles.length === 0) { say(m === 'texture' ? 'Drop a texture source first.' : 'Drop a style image first.'); return; }
  const form = new FormData();
  form.append('method', API_METHOD[m]);
  form.append('options', JSON.stringify(collectOptions()));
  if (m !== 'texture') form.append('content', state.content);
  if (m !== 'fast') for (const s of state.styles) form.append('style', s.file);
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
  else if (job.status === 'done') text = `Done: ${job.iteration} iterations${job.loss != null ? ' · ' + fmtLoss(job.loss) : ''}`;
  else if (job.status === 'failed') text = `Failed: ${job.error || 'unknown error'}`;
  else text = 'Cancelled';
  const st = $('#status');
  st.textContent = text;
  st.dataset.status = job.status;
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
  chooseMethod('gatys');
  drawCurve();
  refreshGallery();
  setInterval(refreshGallery, 5000);
});
