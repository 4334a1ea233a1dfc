// DualSign signer page: consent, camera and microphone, identity, liveness, spoken questions,
// document reading, signature — while the whole session is recorded and uploaded in hashed chunks.
'use strict';
(() => {
const token = location.pathname.split('/').pop();
const $ = (id) => document.getElementById(id);
const screen = $('screen'), statusLine = $('status'), video = $('video');

const TEXT = {
  zh: {
    brand: '双录签署', elderly: '长辈模式', signer: '签署人', consentTitle: '录音录像与人脸信息授权',
    consentRecording: '我同意本次办理过程全程录音录像', consentBiometric: '我单独同意为核验身份处理我的人脸信息',
    agree: '同意授权并继续', refuse: '不同意', refusedTitle: '您已拒绝授权', refusedBody: '本次签署已结束，未进行任何录音录像。',
    permTitle: '需要使用摄像头和麦克风', permDenied: '浏览器拒绝了摄像头或麦克风。请在地址栏左侧的权限设置中允许使用，然后点“重试”。',
    permMissing: '没有找到摄像头或麦克风。请换一台有摄像头的设备，或检查设备连接后重试。', retry: '重试',
    identity: '身份核验：请正对镜头，保持脸部在框内', identityFailed: '未能确认是本人，请调整光线后再试一次',
    liveness: '活体检测：请按提示做动作', livenessFailed: '动作未通过，请再试一次', listening: '请回答…',
    repeat: '再听一遍', question: '问题', of: '/', attempt: '第 {a} 次，共 {m} 次', heard: '识别结果',
    ACCEPT: '已确认', REJECT: '未确认', UNCLEAR: '未听清', docs: '请阅读以下文件（需阅读到最后一页）',
    readDone: '我已阅读全部内容', waitRead: '请继续阅读，还需 {s} 秒', unread: '还有文件未阅读到最后一页',
    signTitle: '请在下方手写签名', clear: '重写', submit: '确认签署', empty: '请先签名',
    endedTitle: '办理完成', evidence: '证据编号', uploading: '正在上传录像…', uploaded: '录像已全部上传',
    failedTitle: '本次签署未完成', failedBody: '请联系业务人员重新办理。',
    blink: '请眨眨眼', open_mouth: '请张张嘴', turn_left: '请向左转头', turn_right: '请向右转头', nod: '请点点头',
    no_face: '未检测到人脸，请正对镜头', several_faces: '画面中有多人，请确保只有您本人', not_the_signer: '检测到的人不是签署人本人',
    face_too_small: '请靠近一些', too_dark: '光线太暗', blurred: '画面模糊，请保持不动',
    reconnecting: '网络中断，正在重连…', offlineSaved: '网络中断：录像已保存在本机，恢复后自动上传',
  },
  en: {
    brand: 'Recorded signing', elderly: 'Large text', signer: 'Signer', consentTitle: 'Recording and face data consent',
    consentRecording: 'I agree that this session is recorded on audio and video',
    consentBiometric: 'I separately agree that my face data is processed to verify my identity',
    agree: 'Agree and continue', refuse: 'I do not agree', refusedTitle: 'You did not consent',
    refusedBody: 'The session has ended. Nothing was recorded.', permTitle: 'Camera and microphone needed',
    permDenied: 'The browser blocked the camera or microphone. Allow them in the site settings (left of the address bar), then tap Retry.',
    permMissing: 'No camera or microphone was found. Use a device with a camera, or check it is connected, then retry.', retry: 'Retry',
    identity: 'Identity check: look at the camera, keep your face inside the oval', identityFailed: 'Could not confirm it is you. Improve the light and try again',
    liveness: 'Liveness check: follow the prompts', livenessFailed: 'The movement was not detected. Try again', listening: 'Listening…',
    repeat: 'Repeat the question', question: 'Question', of: '/', attempt: 'attempt {a} of {m}', heard: 'We heard',
    ACCEPT: 'Confirmed', REJECT: 'Not confirmed', UNCLEAR: 'Not clear', docs: 'Read the documents (to the last page)',
    readDone: 'I have read everything', waitRead: 'Please keep reading: {s} s left', unread: 'A document is not read to the last page',
    signTitle: 'Sign by hand below', clear: 'Clear', submit: 'Sign', empty: 'Please sign first',
    endedTitle: 'All done', evidence: 'Evidence id', uploading: 'Uploading the recording…', uploaded: 'Recording uploaded',
    failedTitle: 'The signing was not completed', failedBody: 'Please contact the institution to start again.',
    blink: 'Blink', open_mouth: 'Open your mouth', turn_left: 'Turn your head left', turn_right: 'Turn your head right', nod: 'Nod',
    no_face: 'No face: look at the camera', several_faces: 'Several people on camera: only the signer please',
    not_the_signer: 'The person on camera is not the signer', face_too_small: 'Come closer', too_dark: 'Too dark', blurred: 'Hold still',
    reconnecting: 'Connection lost, reconnecting…', offlineSaved: 'Offline: the recording is kept on this device and uploads when back online',
  },
};
let lang = localStorage.getItem('ds-lang');
let elderly = localStorage.getItem('ds-elderly') === '1';
const t = (k, vars) => {
  let s = (TEXT[lang] || TEXT.zh)[k] || k;
  for (const [n, v] of Object.entries(vars || {})) s = s.replace('{' + n + '}', v);
  return s;
};
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'onclick') e.onclick = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}
function show(...nodes) { screen.replaceChildren(...nodes); }
function note(s) { statusLine.textContent = s || ''; }
function applyChrome() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  document.body.classList.toggle('elderly', elderly);
  document.querySelectorAll('[data-t]').forEach((n) => { n.textContent = t(n.dataset.t); });
  $('lang').textContent = lang === 'en' ? '中文' : 'EN';
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
let ended = false, endResolve = null, holdUntil = 0;
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
  const refuse = el('button', {id: 'refuse', text: t('refuse'), onclick: async () => onState(await api('POST', '/consent', {agree: false, reason: 'refused on the signer page'}))});
  show(el('div', {class: 'card'}, el('h2', {text: S.title || t('brand')}), el('p', {text: t('signer') + ': ' + S.signer_name}), el('p', {text: S.summary})),
    el('div', {class: 'card'}, el('h3', {text: t('consentTitle')}),
      el('p', {class: 'muted', text: S.consent_recording}), el('label', {class: 'check'}, rec, el('span', {text: t('consentRecording')})),
      el('p', {class: 'muted', text: S.consent_biometric}), el('label', {class: 'check'}, bio, el('span', {text: t('consentBiometric')}))),
    agree, refuse);
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
    show(el('div', {class: 'card', id: 'permission-help'}, el('h3', {text: t('permTitle')}), el('p', {text: denied ? t('permDenied') : t('permMissing')}),
      el('p', {class: 'muted', text: err && err.name}), el('button', {class: 'primary', text: t('retry'), onclick: () => location.reload()})));
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
      if (!m.passed) note(t('identityFailed'));  // the state that follows asks again
      break;
    case 'challenge': runChallenge(m.steps); break;
    case 'liveness_result':
      challengeAsked = false; challengeUntil = 0;
      if (!m.passed) note(t('livenessFailed'));
      break;
    case 'listening': listening = true; showListening(true); break;
    case 'speech_started': break;
    case 'verdict': listening = false; showVerdict(m); holdUntil = Date.now() + 1500; break;
    case 'ended': ended = true; if (endResolve) endResolve(); break;
    case 'error': note(m.detail); break;
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
  recorder.ondataavailable = async (e) => {
    if (!e.data.size) return;
    const now = Date.now(), c = {key: `${token}:${segment}:${chunkIndex}`, token, segment, index: chunkIndex,
      started: lastChunkAt, ended: now, data: await e.data.arrayBuffer()};
    chunkIndex += 1; lastChunkAt = now;
    counts[segment] = chunkIndex; localStorage.setItem(REC_KEY, JSON.stringify(counts));
    await store('readwrite', (s) => s.put(c));  // kept on the device until the server acknowledges it
    pump();
  };
  recorder.start(2000);
  $('rec').hidden = false;
  pump();
}

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
function identityScreen() {
  show(el('div', {class: 'card'}, el('h3', {id: 'step-identity', text: t('identity')})));
  askIdentity();
}
function askIdentity() {
  if (S.state !== 'identity') return;
  if (!wsReady) return setTimeout(askIdentity, 300);
  identityAsked = true; sendControl({type: 'identity'});
}
function livenessScreen() {
  show(el('div', {class: 'card'}, el('h3', {id: 'step-liveness', text: t('liveness')}), el('p', {class: 'challenge', id: 'challenge'})));
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
  const box = $('challenge');
  const step = () => {
    const s = (Date.now() - start) / 1000, now = steps.find((x) => s >= x.start_s && s < x.end_s);
    if (box) box.textContent = now ? t(now.action) : '';
    if (s < end) setTimeout(step, 100);
  };
  step();
}

// --- questions -----------------------------------------------------------------------------------
function progressBar(share) {
  const bar = el('div');
  bar.style.width = Math.round(100 * share) + '%';  // CSSOM, not an inline style attribute (CSP)
  return el('div', {class: 'progress'}, bar);
}
function questionScreen() {
  const p = S.prompt, n = S.question_number || 1, total = S.questions || 1;
  const repeat = el('button', {id: 'repeat', text: t('repeat'), onclick: () => { listening = false; sendControl({type: 'repeat'}); S = {...S, prompt: null}; }});
  show(el('div', {class: 'card'},
    progressBar((n - 1) / total),
    el('p', {class: 'muted', text: `${t('question')} ${n} ${t('of')} ${total} · ${t('attempt', {a: p.attempt, m: p.max_attempts})}`}),
    el('p', {class: 'subtitle', id: 'subtitle', text: p.text}),
    el('p', {id: 'listen-state'}), el('p', {id: 'verdict'}), repeat));
  playPrompt(S.prompt_audio || []).then(async (played) => {
    if (S.state !== 'questions' || S.prompt !== p) return;  // repeated or moved on meanwhile
    // the server records how much of each part was played (the quality check judges "played in full")
    const report = {question_id: p.question_id, attempt: p.attempt, parts: played, rate: elderly ? 0.85 : 1.0};
    let next = null;
    try { next = await api('POST', '/prompt/played', report); } catch (_) { /* recorded as unreported */ }
    if (!p.expects_answer) { if (next) onState(next); return; }  // a statement passes once played in full
    if (S.state === 'questions' && S.prompt === p) sendControl({type: 'listen'});
  });
}
const player = new Audio();
async function playPrompt(parts) {
  // plays each part in order; returns what was played of each: media seconds and whether it ended
  playing = true;
  const played = [];
  for (const part of parts) {
    player.src = part.url;
    player.playbackRate = (elderly ? 0.85 : 1.0);
    let ended = false;
    try {
      await player.play();
      ended = await new Promise((ok) => { player.onended = () => ok(true); player.onerror = () => ok(false); });
    } catch (_) { /* autoplay refused: the subtitle is on screen; the report says it was not played */ }
    played.push({sha256: part.sha256, played_s: Number((player.currentTime || 0).toFixed(3)), ended});
  }
  playing = false;
  return played;
}
function showListening(on) {
  const b = $('listen-state');
  if (!b) return;
  b.className = on ? 'listening' : ''; b.textContent = on ? t('listening') : '';
}
function showVerdict(m) {
  showListening(false);
  const v = $('verdict');
  if (!v) return;
  v.replaceChildren(el('span', {class: 'verdict-' + m.verdict, text: t(m.verdict)}),
    m.transcript ? el('span', {class: 'muted', text: ` · ${t('heard')}: “${m.transcript}”`}) : null);
}

// --- documents and signature ---------------------------------------------------------------------
async function documentsScreen() {
  const docs = await api('GET', '/documents');
  const list = el('div');
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      seen.unobserve(e.target);
      api('POST', `/documents/${e.target.dataset.doc}/viewed`, {page: Number(e.target.dataset.page)}).catch(() => {});
    }
  }, {threshold: 0.5});
  for (const d of docs) {
    list.append(el('h4', {text: d.name}));
    for (let p = 1; p <= d.pages; p++) {
      const img = el('img', {class: 'page', alt: `${d.name} ${p}/${d.pages}`, 'data-doc': d.index, 'data-page': p});
      api('GET', `/documents/${d.index}/pages/${p}?width=${Math.min(1200, Math.round(screen.clientWidth * devicePixelRatio) || 800)}`)
        .then((blob) => { img.src = URL.createObjectURL(blob); seen.observe(img); });
      list.append(img);
    }
  }
  const msg = el('p', {class: 'muted', id: 'read-msg'});
  const done = el('button', {class: 'primary', id: 'read-done', text: t('readDone')});
  done.onclick = async () => {
    try { onState(await api('POST', '/documents/reviewed')); }
    catch (e) {
      if (e.data && e.data.seconds_left > 0) msg.textContent = t('waitRead', {s: Math.ceil(e.data.seconds_left)});
      else if (e.data && e.data.unread_documents && e.data.unread_documents.length) msg.textContent = t('unread');
      else msg.textContent = e.message;
    }
  };
  show(el('div', {class: 'card'}, el('h3', {text: t('docs')}), list, msg, done));
}

function signingScreen() {
  const pad = el('canvas', {class: 'pad', id: 'pad'});
  const strokes = [];
  let cur = null;
  const pos = (e) => { const r = pad.getBoundingClientRect(); return [Math.round(e.clientX - r.left), Math.round(e.clientY - r.top)]; };
  pad.onpointerdown = (e) => { pad.setPointerCapture(e.pointerId); cur = [pos(e)]; strokes.push(cur); };
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
    try { onState(await api('POST', '/signature', {strokes, width: pad.width, height: pad.height})); }
    catch (e) { msg.textContent = e.message; submit.disabled = false; }
  }});
  show(el('div', {class: 'card'}, el('h3', {text: t('signTitle')}), pad,
    el('button', {text: t('clear'), onclick: () => { strokes.length = 0; draw(); }}), submit, msg));
  requestAnimationFrame(() => { pad.width = pad.clientWidth; pad.height = pad.clientHeight; });
}

function endScreen() {
  const ok = S.state === 'signed' || S.state === 'sealed';
  const refused = S.state === 'refused';
  show(el('div', {class: 'card', id: 'ended', 'data-state': S.state},
    el('p', {class: ok ? 'done' : 'warning', text: ok ? t('endedTitle') : refused ? t('refusedTitle') : t('failedTitle')}),
    el('p', {text: refused ? t('refusedBody') : ok ? '' : t('failedBody')}),
    el('p', {}, t('evidence') + ': ', el('code', {id: 'evidence-id', text: S.session_id})),
    recorder ? el('p', {class: 'muted', id: 'upload', text: t('uploading')}) : null));
  $('stage').hidden = true;
  if (recorder) stopRecording();
}

// --- chrome --------------------------------------------------------------------------------------
$('lang').onclick = () => { lang = lang === 'en' ? 'zh' : 'en'; localStorage.setItem('ds-lang', lang); const s = S; S = null; if (s) onState(s); };
$('elderly').onclick = () => { elderly = !elderly; localStorage.setItem('ds-elderly', elderly ? '1' : '0'); applyChrome(); };
api('POST', '/open').then(onState).catch((e) => show(el('div', {class: 'card warning', id: 'error', text: e.message})));
})();
