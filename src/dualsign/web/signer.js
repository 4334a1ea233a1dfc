// DualSign signer page: consent, camera and microphone, identity, liveness, spoken questions,
// document reading, signature — while the whole session is recorded and uploaded in hashed chunks.
'use strict';
(() => {
const token = location.pathname.split('/').pop();
const $ = (id) => document.getElementById(id);
const screen = $('screen'), statusLine = $('status'), video = $('video');
const trace = window.dualsignTrace;  // the operation trace (trace.js): screens and operations, in order

// every text the signer sees comes from one catalogue per language (messages.json: zh-CN, en); the
// language is the template's unless the signer chose the other one for this link (中文/EN)
let MESSAGES = null;
const LANG_KEY = 'ds-lang-' + token;
let lang = localStorage.getItem(LANG_KEY);
let elderly = localStorage.getItem('ds-elderly') === '1';
const missing = [];  // keys asked for that the catalogue lacks (never shown raw; read by the tests)
window.__dualsignMissing = missing;
const catalogue = () => (MESSAGES ? MESSAGES[lang === 'en' ? 'en' : 'zh-CN'] : null);
const has = (k) => { const c = catalogue(); return !!c && typeof c[k] === 'string'; };
const t = (k, vars) => {
  const c = catalogue();
  let s = c && typeof c[k] === 'string' ? c[k] : null;
  if (s == null) { missing.push(k); s = c ? c.missing : ''; }
  // the agent on camera is named as the template names them (agent.label), in the template's
  // language; the page switched to the other language says it in that one
  const own = S && S.agent_label && (S.language || '').startsWith(lang === 'en' ? 'en' : 'zh');
  const agent = own ? S.agent_label : (c && c.agentDefault) || '';
  const Agent = agent.charAt(0).toUpperCase() + agent.slice(1);  // {Agent} opens an English sentence
  for (const [n, v] of Object.entries({agent, Agent, ...(vars || {})})) s = s.replaceAll('{' + n + '}', v);
  return s;
};
// what to tell the signer about a failed request: by the problem's code, never its English detail
function errText(e) {
  const code = e && e.data && e.data.code;
  if (code && has('err_' + code)) return t('err_' + code);
  return e && e.status ? t('err_generic') : t('err_network');
}
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'onclick') e.onclick = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}
// (replaceChildren turns a null into the text "null": the raw "NO_SPEECHnull" verdict came from there)
const present = (nodes) => nodes.filter((n) => n != null);
function show(...nodes) { document.body.classList.remove('has-cue'); screen.replaceChildren(...present(nodes)); }
function note(s) { statusLine.textContent = s || ''; }
function applyChrome() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  document.documentElement.classList.toggle('elderly', elderly);  // rem-based: everything scales
  document.querySelectorAll('[data-t]').forEach((n) => { n.textContent = t(n.dataset.t); });
  $('elderly').textContent = t('elderly');  // a toggle: pressed while Large text is on
  $('elderly').setAttribute('aria-pressed', elderly ? 'true' : 'false');
  $('lang').textContent = lang === 'en' ? '中文' : 'EN';
  // what sticks below the header (the question's first line, the zoom buttons) starts under it
  requestAnimationFrame(() => document.documentElement.style.setProperty('--header-h', document.querySelector('header').offsetHeight + 'px'));
}

// --- HTTP ----------------------------------------------------------------------------------------
async function api(method, path, body, raw) {
  const headers = {'X-Signer-Token': token};
  if (body !== undefined && !raw) headers['Content-Type'] = 'application/json';
  const r = await fetch('/signer/v1' + path, {method, headers, body: raw ? body : body === undefined ? undefined : JSON.stringify(body)});
  const type = r.headers.get('content-type') || '';
  const data = type.includes('json') ? await r.json() : await r.blob();
  if (!r.ok) { const e = new Error((data && data.detail) || r.statusText); e.status = r.status; e.data = data; throw e; }
  return data;
}

// --- state ---------------------------------------------------------------------------------------
let S = null;            // the last signer state from the server
let media = null;        // the camera + microphone stream
let ws = null, wsReady = false, listening = false, challengeUntil = 0, playing = false, needListen = false;
let ended = false, endResolve = null, holdUntil = 0, shownVerdict = null;
// the question screen on show: a state message carrying the same prompt again (the live channel's first
// state and the consent's answer can arrive in either order) keeps it; a repeat or the next prompt ends it
let promptShown = 0;
const RECORDING_STATES = ['identity', 'liveness', 'questions', 'document_review', 'signing'];
const ENDED = ['signed', 'sealed', 'failed', 'refused', 'cancelled', 'expired'];

const ORDER = ['created', 'consent', 'identity', 'liveness', 'questions', 'document_review', 'signing'];
const rank = (state) => (ORDER.includes(state) ? ORDER.indexOf(state) : ORDER.length);
async function onState(s) {
  const before = S && S.state;
  if (before && rank(s.state) < rank(before)) return;  // a late message from before a step ended
  const promptKey = (p) => p ? p.question_id + ':' + p.attempt : '';
  const samePrompt = S && promptKey(S.prompt) === promptKey(s.prompt) && before === s.state;
  S = s;
  if (!lang) lang = (s.language || '').startsWith('en') ? 'en' : 'zh';
  document.body.dataset.step = s.state;
  applyChrome();
  if (s.state === 'created' || s.state === 'consent') return before === s.state ? undefined : consentScreen();
  if (ENDED.includes(s.state)) return endScreen();
  if (RECORDING_STATES.includes(s.state) && !media) { await startMedia(); if (!media) return; }
  $('stage').hidden = false;  // the signer sees themselves for the whole recording
  if (RECORDING_STATES.includes(s.state) && !recorder && !recorderStarting) { recorderStarting = true; startRecorder(); }
  if (s.state === 'identity' && before !== 'identity') return identityScreen();
  if (s.state === 'liveness' && before !== 'liveness') return livenessScreen();
  if (s.state === 'questions' && s.prompt && !samePrompt) return questionScreen();
  if (s.state === 'document_review' && before !== 'document_review') return documentsScreen();
  if (s.state === 'signing' && before !== 'signing') return signingScreen();
}

// --- consent -------------------------------------------------------------------------------------
function consentScreen() {
  $('stage').hidden = true;
  trace.screen('consent');
  trace.shown('consent-recording', S.consent_recording); trace.shown('consent-biometric', S.consent_biometric);
  const rec = el('input', {type: 'checkbox', id: 'c-rec'}), bio = el('input', {type: 'checkbox', id: 'c-bio'});
  const agree = el('button', {class: 'primary', id: 'agree', text: t('agree')});
  agree.disabled = true;
  rec.onchange = bio.onchange = () => { agree.disabled = !(rec.checked && bio.checked); };
  agree.onclick = async () => {
    agree.disabled = true;
    await unlockAudio();
    const ok = await startMedia();  // permission first: consent without a camera would strand the signer
    if (!ok) return;
    onState(await api('POST', '/consent', {agree: true}));
  };
  // refusing ends the session for good: it asks once more, with a way back (the ticks are kept)
  const ask = el('div', {});
  const confirm = el('div', {class: 'card confirm', id: 'refuse-confirm', role: 'alertdialog'},
    el('h3', {text: t('refuseConfirmTitle')}), el('p', {text: t('refuseConfirmBody')}),
    el('button', {class: 'primary', id: 'refuse-back', text: t('refuseBack'), onclick: () => { confirm.hidden = true; ask.hidden = false; trace.screen('consent'); refuse.focus(); }}),
    el('button', {class: 'danger', id: 'refuse-confirm-yes', text: t('refuseConfirm'), onclick: async (e) => {
      e.target.disabled = true;
      await trace.flush();  // refusing ends the session: its trace is sent before the evidence is sealed
      try { onState(await api('POST', '/consent', {agree: false, reason: 'refused on the signer page'})); }
      catch (err) { e.target.disabled = false; note(errText(err)); }
    }}));
  confirm.hidden = true;
  const refuse = el('button', {id: 'refuse', text: t('refuse'), onclick: () => { ask.hidden = true; confirm.hidden = false; trace.screen('refuse_confirm'); window.scrollTo(0, 0); $('refuse-back').focus(); }});
  ask.append(el('div', {class: 'card'}, el('h2', {text: S.title || t('brand')}), el('p', {text: t('signer') + S.signer_name}), el('p', {text: S.summary})),
    el('div', {class: 'card'}, el('h3', {text: t('consentTitle')}),
      el('p', {class: 'muted', text: S.consent_recording}), el('label', {class: 'check'}, rec, el('span', {text: t('consentRecording')})),
      el('p', {class: 'muted', text: S.consent_biometric}), el('label', {class: 'check'}, bio, el('span', {text: t('consentBiometric')}))),
    agree, refuse);
  show(ask, confirm);
}

// --- media, recording, live channel -------------------------------------------------------------
let audioCtx = null;
async function unlockAudio() {
  if (!audioCtx) audioCtx = new AudioContext();
  if (audioCtx.state === 'suspended') await audioCtx.resume();
}
async function startMedia() {
  if (media) return true;
  try {
    media = await navigator.mediaDevices.getUserMedia({
      video: {facingMode: 'user', width: {ideal: 640}, height: {ideal: 480}},
      audio: {echoCancellation: true, noiseSuppression: true, channelCount: 1},
    });
  } catch (err) {
    media = null;
    const denied = err && (err.name === 'NotAllowedError' || err.name === 'SecurityError');
    $('stage').hidden = true;
    trace.screen('permission', {value: denied ? 'denied' : 'missing'});
    show(el('div', {class: 'card', id: 'permission-help', 'data-error': (err && err.name) || ''}, el('h3', {text: t('permTitle')}), el('p', {text: denied ? t('permDenied') : t('permMissing')}),
      el('button', {class: 'primary', id: 'retry', text: t('retry'), onclick: () => location.reload()})));
    return false;
  }
  video.srcObject = media;
  $('stage').hidden = false;
  await unlockAudio();
  await startMicrophone();
  connect();
  startFrames();
  return true;
}

async function startMicrophone() {
  await audioCtx.audioWorklet.addModule('/static/pcm-worklet.js');
  const source = audioCtx.createMediaStreamSource(media);
  const node = new AudioWorkletNode(audioCtx, 'pcm-16k');
  node.port.onmessage = (e) => {
    if (!listening || !wsReady) return;
    const pcm = new Uint8Array(e.data), msg = new Uint8Array(pcm.length + 1);
    msg[0] = 65; msg.set(pcm, 1);  // 'A'
    ws.send(msg);
  };
  source.connect(node);
  const sink = audioCtx.createGain(); sink.gain.value = 0; node.connect(sink).connect(audioCtx.destination);
}

let frameTimer = null;
function startFrames() {
  const canvas = document.createElement('canvas');
  canvas.width = 640; canvas.height = 480;
  const ctx = canvas.getContext('2d');
  let busy = false;
  const tick = () => {
    const fast = Date.now() < challengeUntil;
    frameTimer = setTimeout(tick, fast ? 100 : 500);  // 2 fps; 10 fps during a liveness challenge
    if (busy || !wsReady || video.readyState < 2) return;
    busy = true;
    const at = Date.now();
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(async (blob) => {
      busy = false;
      if (!blob || !wsReady) return;
      const jpeg = new Uint8Array(await blob.arrayBuffer());
      const msg = new Uint8Array(9 + jpeg.length), view = new DataView(msg.buffer);
      msg[0] = 86;  // 'V'
      view.setBigUint64(1, BigInt(at), true);
      msg.set(jpeg, 9);
      ws.send(msg);
    }, 'image/jpeg', 0.75);
  };
  tick();
}

let wsDelay = 500;
function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(`${proto}//${location.host}/signer/v1/live?token=${encodeURIComponent(token)}`);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => { wsReady = true; wsDelay = 500; note(''); };
  ws.onclose = () => {
    wsReady = false; identityAsked = false; challengeAsked = false;
    if (listening || (S && S.state === 'questions' && !playing)) needListen = true;
    listening = false;
    if (ended || ENDED.includes(S && S.state)) return;
    note(t('reconnecting'));
    setTimeout(connect, wsDelay); wsDelay = Math.min(wsDelay * 2, 8000);
  };
  ws.onmessage = (e) => { if (typeof e.data === 'string') onLive(JSON.parse(e.data)); };
}
function sendControl(obj) { if (wsReady) ws.send(JSON.stringify(obj)); }
// a listen asked while the channel is (re)connecting is sent with the channel's first state, never lost
function askListen() { if (wsReady) sendControl({type: 'listen'}); else needListen = true; }

let warnTimer = null;
function onLive(m) {
  switch (m.type) {
    case 'state': {
      const wait = holdUntil - Date.now();  // let the signer see the verdict before the next screen
      if (wait > 0) { setTimeout(() => onLive(m), wait); break; }
      const fresh = S && S.state !== m.state;
      onState(m);
      if (!fresh && m.state === 'identity' && !identityAsked) askIdentity();
      if (!fresh && m.state === 'liveness' && !challengeAsked) askLiveness();
      if (!fresh && m.state === 'questions' && needListen && !playing) { needListen = false; sendControl({type: 'listen'}); }
      break;
    }
    case 'warning': {
      const box = $('warning');
      box.textContent = t(m.warning); box.dataset.kind = m.warning; box.hidden = false;
      clearTimeout(warnTimer); warnTimer = setTimeout(() => { box.hidden = true; }, 5000);
      break;
    }
    case 'identity_result':
      identityAsked = false;
      // a clear face of someone else and a picture too poor to judge are different things to fix
      if (!m.passed) {
        stepNote(has('identity_' + m.code) ? t('identity_' + m.code) : t('identity_failed'), m.code);
        // the page asks again at once (the state that follows): the line above the note says so
        const wait = $('identity-wait'); if (wait) wait.textContent = t('identityCheckingAgain');
      }
      break;
    case 'challenge': runChallenge(m.steps); break;
    case 'liveness_result':
      challengeAsked = false; challengeUntil = 0;
      stepNote(m.passed ? t('livenessPassed') : t('livenessFailed'), m.passed ? 'passed' : 'failed');
      break;
    case 'listening': listening = true; showListening(true); cue($('listen-state')); break;
    case 'speech_started': break;
    // the verdict stays until the next prompt starts (and at least 2.5 s)
    // a provisional verdict is shown at once while the end of the answer is confirmed (the page keeps
    // listening: speaking again withdraws it); the final one keeps it on screen if it is the same
    case 'verdict': {
      if (m.provisional) {
        if (!listening) break;  // that answer window closed already
        shownVerdict = m.verdict; showVerdict(m); holdUntil = Date.now() + 2500; break;
      }
      listening = false;
      if (shownVerdict !== m.verdict || !$('verdict') || !$('verdict').dataset.verdict) {
        showVerdict(m); holdUntil = Date.now() + 2500;
      }
      shownVerdict = null;
      break;
    }
    case 'verdict_withdrawn': {
      shownVerdict = null; holdUntil = 0;
      const v = $('verdict');
      if (v) { v.replaceChildren(); v.dataset.verdict = ''; }
      if (listening) showListening(true);
      break;
    }
    case 'ended': ended = true; if (endResolve) endResolve(); break;
    case 'error': note(errText({status: 1, data: {code: m.code}})); break;
  }
}

// --- recording upload: numbered, hashed chunks; pending ones kept in IndexedDB ------------------
const REC_KEY = 'ds-rec-' + token;
let recorder = null, recorderStarting = false, segment = null, chunkIndex = 0, lastChunkAt = 0, pumping = false, recordingDone = false;
let channelDone = false;  // the live channel handed over its monitoring figures (or is gone)
const counts = JSON.parse(localStorage.getItem(REC_KEY) || '{}');  // segment → chunks recorded
function idb() {
  return new Promise((ok, fail) => {
    const r = indexedDB.open('dualsign-recording', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('chunks', {keyPath: 'key'});
    r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
  });
}
async function store(mode, fn) {
  const db = await idb();
  return new Promise((ok, fail) => {
    const tx = db.transaction('chunks', mode), req = fn(tx.objectStore('chunks'));
    tx.oncomplete = () => ok(req && req.result); tx.onerror = () => fail(tx.error);
  });
}
const pending = async () => (await store('readonly', (s) => s.getAll())).filter((c) => c.token === token)
  .sort((a, b) => a.segment - b.segment || a.index - b.index);

async function startRecorder() {
  const st = await api('GET', '/recording');
  if (!st.accepting) return;
  const local = Object.keys(counts).map(Number);
  segment = Math.max(st.next_segment, local.length ? Math.max(...local) + 1 : 0);
  chunkIndex = 0;
  const type = ['video/webm;codecs=vp8,opus', 'video/webm', 'video/mp4'].find((m) => MediaRecorder.isTypeSupported(m)) || '';
  recorder = new MediaRecorder(media, type ? {mimeType: type} : undefined);
  lastChunkAt = Date.now();
  recorder.ondataavailable = (e) => {
    if (!e.data.size) return;
    const now = Date.now();
    // chained, so chunks are kept in order and stopRecording can wait for the last one to be kept
    storing = storing.then(async () => {
      const c = {key: `${token}:${segment}:${chunkIndex}`, token, segment, index: chunkIndex,
        started: lastChunkAt, ended: now, data: await e.data.arrayBuffer()};
      chunkIndex += 1; lastChunkAt = now;
      counts[segment] = chunkIndex; localStorage.setItem(REC_KEY, JSON.stringify(counts));
      await store('readwrite', (s) => s.put(c));  // kept on the device until the server acknowledges it
      pump();
    }).catch((err) => console.error('recording chunk not kept on the device', err));  // the chain goes on
  };
  recorder.start(2000);
  $('rec').hidden = false;
  pump();
}

let storing = Promise.resolve();  // the chain of chunks being kept on the device
let pumpDelay = 1000;
async function pump() {
  if (pumping) return;
  pumping = true;
  try {
    for (const c of await pending()) {
      const digest = await crypto.subtle.digest('SHA-256', c.data);
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
      let r;
      try {
        r = await fetch(`/signer/v1/recording/${c.segment}/${c.index}`, {method: 'PUT', body: c.data, headers: {
          'X-Signer-Token': token, 'X-Content-SHA256': hex, 'Content-Type': 'application/octet-stream',
          'X-Chunk-Started-Ms': String(c.started), 'X-Chunk-Ended-Ms': String(c.ended)}});
      } catch (_) { r = null; }
      if (r && (r.ok || r.status === 409 || r.status === 422 || r.status === 401)) {
        await store('readwrite', (s) => s.delete(c.key));  // stored, or refused for good (reported by the server)
        pumpDelay = 1000;
      } else {
        note(t('offlineSaved'));
        setTimeout(() => { pumping = false; pump(); }, pumpDelay);
        pumpDelay = Math.min(pumpDelay * 2, 15000);
        return;
      }
    }
  } finally {
    if (pumping && !(await pending()).length) { pumping = false; if (recordingDone && channelDone) finishRecording(); }
    else pumping = false;
  }
}

let finishing = false;
async function stopRecording() {
  if (recordingDone) return;
  recordingDone = true;
  if (recorder && recorder.state !== 'inactive') {
    await new Promise((ok) => { recorder.addEventListener('stop', () => setTimeout(ok, 50), {once: true}); recorder.stop(); });
    await storing;  // the last chunk is kept before the recording can be declared complete
  }
  clearTimeout(frameTimer);
  if (wsReady) {  // the live channel records its monitoring figures before it closes
    await Promise.race([new Promise((ok) => { endResolve = ok; sendControl({type: 'end'}); }), new Promise((ok) => setTimeout(ok, 5000))]);
  }
  ended = true;
  channelDone = true;  // closing the recording first would seal the session before the figures join it
  if (ws) ws.close();
  if (media) media.getTracks().forEach((tr) => tr.stop());
  $('rec').hidden = true;
  pump();
}
async function finishRecording() {
  if (finishing || !channelDone) return;
  if ((await pending()).length) return pump();
  finishing = true;
  const st = await api('GET', '/recording');
  await trace.flush();  // closing the recording seals the session: the trace goes first
  if (!st.closed && st.segments.length) {
    const declared = {...counts};
    for (const s of st.segments) declared[s.segment] = Math.max(declared[s.segment] || 0, s.indexes.length);
    await api('POST', '/recording/finish', {segments: declared});
  }
  localStorage.removeItem(REC_KEY);
  const up = $('upload');
  if (up) up.textContent = t('uploaded');
}
window.addEventListener('online', () => pump());

// --- identity and liveness -----------------------------------------------------------------------
let identityAsked = false, challengeAsked = false;
// the outcome of the last identity / liveness attempt, inside the step's card (never left below it)
function stepNote(text, kind) {
  const n = $('step-note');
  if (n) { n.textContent = text; n.dataset.kind = kind || ''; n.hidden = !text; cue(n); }
}
function identityScreen() {
  trace.screen('identity');
  show(el('div', {class: 'card'}, el('h3', {id: 'step-identity', text: t(S.agent_on_camera ? 'identityAgent' : 'identity')}),
    el('p', {class: 'muted', id: 'identity-wait', text: t('identityChecking')}), el('p', {class: 'step-note', id: 'step-note', hidden: ''})));
  askIdentity();
}
function askIdentity() {
  if (S.state !== 'identity') return;
  if (!wsReady) return setTimeout(askIdentity, 300);
  identityAsked = true; sendControl({type: 'identity'});
}
function livenessScreen() {
  trace.screen('liveness');
  show(el('div', {class: 'card'}, el('h3', {id: 'step-liveness', text: t('liveness')}),
    el('p', {class: 'challenge', id: 'challenge', text: t('livenessReady')}),
    el('div', {class: 'progress', id: 'countdown-bar'}, el('div')), el('p', {class: 'countdown', id: 'countdown'}),
    el('p', {class: 'step-note', id: 'step-note', hidden: ''})));
  cue($('challenge'));
  askLiveness();
}
function askLiveness() {
  if (S.state !== 'liveness') return;
  if (!wsReady) return setTimeout(askLiveness, 300);
  challengeAsked = true; sendControl({type: 'liveness'});
}
function runChallenge(steps) {
  const start = Date.now(), end = steps[steps.length - 1].end_s;
  challengeUntil = start + end * 1000 + 1500;
  const box = $('challenge'), left = $('countdown'), bar = $('countdown-bar');
  const note0 = $('step-note'); if (note0) note0.hidden = true;
  const step = () => {
    const s = (Date.now() - start) / 1000, now = steps.find((x) => s >= x.start_s && s < x.end_s);
    if (box) box.textContent = now ? t(now.action) : (s < end ? t('livenessReady') : t('identityChecking'));
    // how long the whole challenge still runs, and how far the current action is
    if (left) left.textContent = s < end ? t('livenessLeft', {s: Math.max(1, Math.ceil(end - s))}) : '';
    if (bar && now) bar.firstChild.style.width = Math.round(100 * (s - now.start_s) / (now.end_s - now.start_s)) + '%';
    if (s < end) setTimeout(step, 100);
  };
  step();
  cue(box);
}

// --- questions -----------------------------------------------------------------------------------
function progressBar(share) {
  const bar = el('div');
  bar.style.width = Math.round(100 * share) + '%';  // CSSOM, not an inline style attribute (CSP)
  return el('div', {class: 'progress'}, bar);
}
// the current cue (playing, listening, verdict, a step's outcome) is always on screen: the question
// screen keeps it in a bar fixed to the bottom of the viewport; elsewhere it is scrolled into view
function cue(node) {
  if (!node || node.hidden) return;
  const r = node.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) node.scrollIntoView({block: 'center', behavior: 'smooth'});
}
function questionScreen() {
  const p = S.prompt, shown = ++promptShown;
  // the agent's introduction (first, when an agent is on camera) is not one of the signer's questions
  const intro = S.agent_on_camera ? 1 : 0, byAgent = p.speaker === 'agent';
  const n = Math.max((S.question_number || 1) - intro, 1), total = Math.max((S.questions || 1) - intro, 1);
  const current = () => S.state === 'questions' && shown === promptShown;
  trace.screen('question', {question: p.question_id, attempt: p.attempt});
  trace.shown('question-text', p.text, {question: p.question_id, attempt: p.attempt});
  const repeat = el('button', {id: 'repeat', text: t('repeat'), onclick: () => { listening = false; sendControl({type: 'repeat'}); S = {...S, prompt: null}; }});
  const subtitle = el('p', {class: 'subtitle', id: 'subtitle', text: p.text});
  show(el('div', {class: 'card question'},
    progressBar(byAgent ? 0 : (n - 1) / total),
    el('p', {class: 'muted', text: `${byAgent ? t('agentIntro') : `${t('question')} ${n} ${t('of')} ${total}`} · ${t('attempt', {a: p.attempt, m: p.max_attempts})}`}),
    subtitle),
  el('div', {class: 'cuebar', id: 'cue', role: 'status', 'aria-live': 'assertive'},
    el('p', {id: 'listen-state', class: 'speaking', text: t('speaking')}), el('p', {id: 'verdict'}), repeat));
  document.body.classList.add('has-cue');
  // the question starts at the top of the screen; the camera is small meanwhile
  requestAnimationFrame(() => subtitle.scrollIntoView({block: 'start'}));
  playPrompt(S.prompt_audio || [], p).then(async (played) => {
    if (!current()) return;  // repeated or moved on meanwhile
    // the server records how much of each part was played (the quality check judges "played in full")
    const report = {question_id: p.question_id, attempt: p.attempt, parts: played, rate: elderly ? 0.85 : 1.0};
    let next = null;
    try { next = await api('POST', '/prompt/played', report); } catch (_) { /* recorded as unreported */ }
    if (!p.expects_answer) { if (next) onState(next); return; }  // a statement passes once played in full
    if (current()) askListen();
  });
}
const player = new Audio();
async function playPrompt(parts, p) {
  // plays each part in order; returns what was played of each: media seconds and whether it ended
  playing = true;
  const played = [];
  for (const part of parts) {
    player.src = part.url;
    player.playbackRate = (elderly ? 0.85 : 1.0);
    let ended = false;
    const heard = {question: p.question_id, attempt: p.attempt, sha256: part.sha256};
    trace.record('audio_started', heard);
    try {
      await player.play();
      ended = await new Promise((ok) => { player.onended = () => ok(true); player.onerror = () => ok(false); });
    } catch (_) { /* autoplay refused: the subtitle is on screen; the report says it was not played */ }
    played.push({sha256: part.sha256, played_s: Number((player.currentTime || 0).toFixed(3)), ended});
    trace.record('audio_ended', {...heard, value: ended ? 'ended' : 'cut'});
  }
  playing = false;
  return played;
}
function showListening(on) {
  const b = $('listen-state');
  if (!b) return;
  b.className = on ? 'listening' : ''; b.textContent = on ? listenText() : '';
}
// the agent's introduction is answered by the agent, not the signer
const listenText = () => (S && S.prompt && S.prompt.speaker === 'agent' ? t('listeningAgent') : t('listening'));
function showVerdict(m) {
  showListening(false);
  const v = $('verdict');
  if (!v) return;
  const verdict = has(m.verdict) ? m.verdict : 'UNCLEAR';  // an unknown verdict is never shown raw
  v.dataset.verdict = m.verdict || '';
  v.replaceChildren(...present([el('span', {class: 'verdict-' + verdict, text: t(verdict)}),
    typeof m.heard === 'string' && m.heard.trim() ? el('span', {class: 'heard', text: ` · ${t('heard', {text: m.heard.trim()})}`}) : null]));
  const b = $('listen-state');
  if (b) { b.className = 'muted'; b.textContent = t('nextSoon'); }
  cue(v);
}

// --- documents and signature ---------------------------------------------------------------------
// pages are pictures rendered for this screen's pixels (device pixel ratio × zoom), in a box the signer
// can zoom (buttons, and the browser's pinch-zoom); a page counts as read when its bottom edge has
// been on screen (what the signer actually scrolled to), not when half of it was
const ZOOMS = [1, 1.5, 2, 3];
const MAX_PAGE_PX = 2400;  // the server's widest rendering (signing/pdf_render.MAX_WIDTH)
let docZoom = null, setDocZoom = null;
async function documentsScreen() {
  const docs = await api('GET', '/documents');
  trace.screen('documents');
  const digest = Object.fromEntries(docs.map((d) => [String(d.index), d.sha256]));
  const where = (node) => ({doc: Number(node.dataset.doc), page: Number(node.dataset.page), sha256: digest[node.dataset.doc]});
  // a page is on screen while at least half of it, or half of the screen, shows it (how long: the trace)
  const onScreen = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const half = e.isIntersecting && (e.intersectionRatio >= 0.5 || (e.rootBounds && e.intersectionRect.height >= e.rootBounds.height / 2));
      const box = e.target.closest('.pagebox');
      if (half !== (box.dataset.shown === '1')) { box.dataset.shown = half ? '1' : ''; trace.record(half ? 'page_shown' : 'page_hidden', where(box)); }
    }
  }, {threshold: [0, 0.25, 0.5, 0.75, 1]});
  if (docZoom == null) docZoom = elderly ? 1.5 : 1;
  const box = el('div', {class: 'doc', id: 'doc'});
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      seen.unobserve(e.target);
      const page = e.target.closest('.pagebox');
      page.dataset.read = '1';
      trace.record('page_read', where(page));
      api('POST', `/documents/${page.dataset.doc}/viewed`, {page: Number(page.dataset.page)}).catch(() => {});
    }
  }, {threshold: 0});
  const pages = [];
  const load = (img) => {
    const want = Math.min(MAX_PAGE_PX, Math.max(200, Math.round((box.clientWidth || screen.clientWidth || 400) * (window.devicePixelRatio || 1) * docZoom)));
    if (Number(img.dataset.px || 0) >= want) return;
    img.dataset.px = String(want);
    api('GET', `/documents/${img.dataset.doc}/pages/${img.dataset.page}?width=${want}`).then((blob) => {
      const old = img.src;
      img.onload = () => { if (old) URL.revokeObjectURL(old); if (!img.dataset.observed) { img.dataset.observed = '1'; seen.observe(img.nextSibling); onScreen.observe(img); } };
      img.src = URL.createObjectURL(blob);
    }).catch(() => { img.dataset.px = '0'; });
  };
  for (const d of docs) {
    box.append(el('h4', {text: d.name}));
    for (let p = 1; p <= d.pages; p++) {
      const img = el('img', {class: 'page', alt: t('docPage', {name: d.name, p, n: d.pages}), 'data-doc': d.index, 'data-page': p});
      const end = el('div', {class: 'page-end', 'aria-hidden': 'true'});  // the page's bottom edge
      box.append(el('div', {class: 'pagebox', 'data-doc': d.index, 'data-page': p}, img, end));
      pages.push(img);
    }
  }
  const zoomLabel = el('span', {id: 'zoom-level'});
  const setZoom = (z) => {
    docZoom = z;
    box.style.setProperty('--zoom', String(z));
    zoomLabel.textContent = Math.round(z * 100) + '%';
    trace.record('zoom', {value: String(Math.round(z * 100))});
    pages.forEach(load);
  };
  const step = (dir) => () => { const i = ZOOMS.indexOf(docZoom); setZoom(ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, (i < 0 ? 0 : i) + dir))]); };
  const tools = el('div', {class: 'doc-tools'},
    el('button', {class: 'small', id: 'zoom-out', text: t('zoomOut'), 'aria-label': t('zoomOut'), onclick: step(-1)}), zoomLabel,
    el('button', {class: 'small', id: 'zoom-in', text: t('zoomIn'), 'aria-label': t('zoomIn'), onclick: step(1)}));
  const msg = el('p', {class: 'step-note', id: 'read-msg'});
  const done = el('button', {class: 'primary', id: 'read-done', text: t('readDone')});
  done.onclick = async () => {
    try { onState(await api('POST', '/documents/reviewed')); }
    catch (e) {
      if (e.data && e.data.seconds_left > 0) msg.textContent = t('waitRead', {s: Math.ceil(e.data.seconds_left)});
      else if (e.data && e.data.unread_documents && e.data.unread_documents.length) msg.textContent = t('unread');
      else msg.textContent = errText(e);
      cue(msg);
    }
  };
  show(el('div', {class: 'card'}, el('h3', {text: t('docs')}), tools, box, msg, done));
  setDocZoom = (z) => { if (document.body.contains(box)) setZoom(z); };
  setZoom(docZoom);
}

function signingScreen() {
  trace.screen('signing');
  const pad = el('canvas', {class: 'pad', id: 'pad'});
  const strokes = [];
  let cur = null;
  const pos = (e) => { const r = pad.getBoundingClientRect(); return [Math.round(e.clientX - r.left), Math.round(e.clientY - r.top)]; };
  pad.onpointerdown = (e) => { pad.setPointerCapture(e.pointerId); cur = [pos(e)]; strokes.push(cur); trace.record('signature_stroke', {value: String(strokes.length)}); };
  pad.onpointermove = (e) => { if (!cur) return; cur.push(pos(e)); draw(); };
  pad.onpointerup = pad.onpointercancel = () => { cur = null; };
  const draw = () => {
    const c = pad.getContext('2d');
    c.clearRect(0, 0, pad.width, pad.height); c.lineWidth = 3; c.lineCap = 'round'; c.strokeStyle = '#111';
    for (const s of strokes) { c.beginPath(); s.forEach(([x, y], i) => (i ? c.lineTo(x, y) : c.moveTo(x, y))); c.stroke(); }
  };
  const msg = el('p', {class: 'muted'});
  const submit = el('button', {class: 'primary', id: 'sign', text: t('submit'), onclick: async () => {
    if (!strokes.some((s) => s.length > 1)) { msg.textContent = t('empty'); return; }
    submit.disabled = true;
    await trace.flush();  // signing ends the session: what led to it is sent before the evidence is sealed
    try { onState(await api('POST', '/signature', {strokes, width: pad.width, height: pad.height})); }
    catch (e) { msg.textContent = errText(e); submit.disabled = false; }
  }});
  const org = S.organisation;  // the organisation whose seal the signer applies, and in what capacity
  const sealAs = org ? el('p', {id: 'seal-as', 'data-role': org.seal_role,
    text: t('sealAs', {org: org.name, code: org.credit_code, role: t('role_' + org.seal_role)})}) : null;
  show(el('div', {class: 'card'}, el('h3', {text: t('signTitle')}), sealAs, pad,
    el('button', {id: 'clear', text: t('clear'), onclick: () => { strokes.length = 0; draw(); trace.record('signature_cleared'); }}), submit, msg));
  requestAnimationFrame(() => { pad.width = pad.clientWidth; pad.height = pad.clientHeight; });
}

function endScreen() {
  const ok = S.state === 'signed' || S.state === 'sealed';
  const refused = S.state === 'refused';
  const reason = S.ended_reason && has('reason_' + S.ended_reason) ? t('reason_' + S.ended_reason) : t('reason_other');
  note('');  // a step's last message does not stay under the final screen
  trace.screen('ended', {value: S.state});
  trace.flush();
  $('warning').hidden = true;
  document.body.classList.remove('has-cue');
  show(el('div', {class: 'card', id: 'ended', 'data-state': S.state, 'data-reason': S.ended_reason || ''},
    el('h2', {class: ok ? 'done' : 'failed', text: ok ? t('endedTitle') : refused ? t('refusedTitle') : t('failedTitle')}),
    ok ? el('p', {text: t('endedBody')}) : refused ? el('p', {text: t('refusedBody')}) : el('p', {id: 'ended-reason', text: reason}),
    ok || refused ? null : el('p', {text: t('failedBody')}),
    el('p', {}, t('evidence'), el('code', {id: 'evidence-id', text: S.session_id})),
    recorder ? el('p', {class: 'muted', id: 'upload', text: t('uploading')}) : null));
  $('stage').hidden = true;
  if (recorder) stopRecording();
}

// --- chrome --------------------------------------------------------------------------------------
$('lang').onclick = () => {
  lang = lang === 'en' ? 'zh' : 'en';
  localStorage.setItem(LANG_KEY, lang);
  trace.record('language', {value: lang});
  if (S && S.state === 'questions' && $('subtitle')) {  // no replay of the prompt: the cue is relabelled
    applyChrome();
    $('repeat').textContent = t('repeat');
    const b = $('listen-state');
    if (b) b.textContent = listening && !shownVerdict ? listenText() : playing ? t('speaking') : b.textContent && t('nextSoon');
    return;
  }
  const s = S; S = null; if (s) onState(s); else applyChrome();
};
$('elderly').onclick = () => {
  elderly = !elderly; localStorage.setItem('ds-elderly', elderly ? '1' : '0'); applyChrome();
  trace.record('text_size', {value: elderly ? 'on' : 'off'});
  if (setDocZoom) setDocZoom(elderly ? Math.max(docZoom, 1.5) : 1);  // documents grow with the text
  player.playbackRate = elderly ? 0.85 : 1.0;
};
fetch('/static/messages.json').then((r) => r.json()).then((m) => { MESSAGES = m; applyChrome(); return api('POST', '/open'); })
  .then(onState).catch((e) => { applyChrome(); trace.screen('error'); show(el('div', {class: 'card warning', id: 'error', text: MESSAGES ? errText(e) : ''})); });
})();
