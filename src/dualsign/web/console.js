// DualSign review console: sign in, find sessions, review one (video, timeline, QC, face presence), decide;
// templates: versions, a new version from YAML, operator recordings of prompts.
'use strict';
(() => {
const app = document.getElementById('app');
const el = (tag, attrs, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'onclick' || k === 'onsubmit' || k === 'onchange') e[k] = v;
    else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
};
const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs) => { const e = document.createElementNS(SVG, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); return e; };

async function api(method, path, body, raw, rawType) {
  // body: JSON; raw: sent as it is (a YAML text, an audio file) with rawType
  const headers = {'X-DualSign-Console': '1'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (raw !== undefined) headers['Content-Type'] = rawType;
  const payload = raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body);
  const r = await fetch('/console/api' + path, {method, headers, credentials: 'same-origin', body: payload});
  const data = (r.headers.get('content-type') || '').includes('json') ? await r.json() : null;
  if (r.status === 401 && path !== '/sign-in') { signInScreen(); throw new Error('signed out'); }
  if (!r.ok) { const e = new Error((data && data.detail) || r.statusText); e.data = data; throw e; }
  return data;
}
let me = null;

function signInScreen(message) {
  document.getElementById('who').textContent = '';
  const user = el('input', {id: 'username', autocomplete: 'username'}), pass = el('input', {id: 'password', type: 'password', autocomplete: 'current-password'});
  const msg = el('p', {class: 'error', id: 'sign-in-error', text: message || ''});
  const form = el('form', {onsubmit: async (ev) => {
    ev.preventDefault();
    try { me = await api('POST', '/sign-in', {username: user.value, password: pass.value}); listScreen(); }
    catch (e) { msg.textContent = e.message; }
  }}, el('p', {}, el('label', {}, '用户名 Username ', user)), el('p', {}, el('label', {}, '密码 Password ', pass)),
  el('button', {class: 'primary', id: 'sign-in', type: 'submit', text: '登录 Sign in'}), msg);
  app.replaceChildren(el('div', {class: 'card'}, el('h2', {text: '登录 Sign in'}), form));
}

function header() {
  const who = document.getElementById('who');
  who.replaceChildren(el('button', {id: 'nav-sessions', text: '会话 Sessions', onclick: listScreen}), ' ',
    el('button', {id: 'nav-templates', text: '模板 Templates', onclick: () => templatesScreen()}), ' ',
    `${me.username} (${me.role}) `, el('button', {text: '退出 Sign out', onclick: async () => { await api('POST', '/sign-out', {}); signInScreen(); }}));
}
const problems = (e) => (e.data && e.data.errors ? e.data.errors.map((p) => `${p.field}: ${p.reason}`).join('\n') : e.message);

// --- templates: versions, the YAML of one, a new version, operator recordings of prompts ----------
async function templatesScreen(tenant) {
  header();
  const q = tenant ? '?tenant=' + encodeURIComponent(tenant) : '';
  let rows = [];
  try { rows = await api('GET', '/templates' + q); }
  catch (e) { if (e.message === 'signed out') return; app.replaceChildren(el('div', {class: 'card'}, el('p', {class: 'error', text: problems(e)}))); return; }
  const table = el('table', {id: 'templates'}, el('tr', {}, ...['模板 Key', '标题 Title', '版本 Version', '内容哈希 Content hash', '来源 Source'].map((h) => el('th', {text: h}))));
  for (const r of rows) {
    table.append(el('tr', {class: 'row', 'data-key': r.key, onclick: () => templateScreen(r.key, q)},
      el('td', {text: r.key}), el('td', {text: r.title}), el('td', {text: 'v' + r.number}),
      el('td', {class: 'mono', text: r.content_hash.slice(0, 16) + '…'}), el('td', {text: r.builtin ? '内置 built-in' : '本机构 tenant'})));
  }
  const canPublish = me.role === 'admin' && me.tenant_id;
  app.replaceChildren(el('div', {class: 'card'}, el('h2', {text: '模板 Templates'}), table),
    canPublish ? publishCard('') : el('p', {class: 'muted', text: '仅机构管理员可发布 Only a tenant admin publishes templates'}));
}
function publishCard(yamlText) {
  const area = el('textarea', {id: 'template-yaml', rows: '18', spellcheck: 'false'});
  area.value = yamlText;
  const msg = el('pre', {id: 'publish-result'});
  const publish = el('button', {class: 'primary', id: 'publish', text: '发布新版本 Publish a version', onclick: async () => {
    msg.className = '';
    try {
      const r = await api('POST', '/templates', undefined, area.value, 'application/yaml');
      msg.textContent = r.created ? `已发布 Published ${r.key} v${r.number}` : `内容未变 Unchanged: identical to ${r.key} v${r.number}`;
    } catch (e) { msg.className = 'error'; msg.textContent = problems(e); }
  }});
  return el('div', {class: 'card'}, el('h3', {text: '发布新版本 New version (YAML)'}), area, el('p', {}, publish), msg);
}
async function templateScreen(key, q) {
  let t;
  try { t = await api('GET', '/templates/' + encodeURIComponent(key) + (q || '')); }
  catch (e) { app.replaceChildren(el('p', {class: 'error', text: problems(e)})); return; }
  const admin = me.role === 'admin' && me.tenant_id && !t.builtin;
  const rows = el('table', {id: 'questions'}, el('tr', {}, ...['问题 Question', '播报文本 Prompt', '录音 Recording', ''].map((h) => el('th', {text: h}))));
  for (const qu of t.questions) {
    const file = el('input', {type: 'file', accept: 'audio/*', 'data-question': qu.id});
    const status = el('span', {class: 'muted', text: qu.prompt_audio ? qu.prompt_audio.slice(0, 12) + '…' : 'TTS'});
    const upload = el('button', {text: '上传录音 Upload', onclick: async () => {
      if (!file.files.length) { status.textContent = '先选择文件 choose a file'; return; }
      try {
        const f = file.files[0];
        const r = await api('POST', `/templates/${encodeURIComponent(key)}/questions/${encodeURIComponent(qu.id)}/prompt-audio`, undefined, f, f.type || 'audio/wav');
        status.textContent = `v${r.number} · ${r.duration_s} s · ${r.sha256.slice(0, 12)}…`;
        setTimeout(() => templateScreen(key, q), 800);
      } catch (e) { status.className = 'error'; status.textContent = problems(e); }
    }});
    rows.append(el('tr', {'data-question': qu.id}, el('td', {text: qu.id}), el('td', {text: qu.prompt}), el('td', {}, status),
      el('td', {}, admin ? file : null, admin ? upload : null)));
  }
  app.replaceChildren(el('p', {}, el('button', {text: '← 返回 Back', onclick: () => templatesScreen()})),
    el('div', {class: 'card'}, el('h2', {id: 'template-title', text: `${t.title} · ${t.key} v${t.number}`}),
      el('p', {class: 'muted mono', text: t.content_hash}), rows),
    admin ? publishCard(t.yaml) : el('div', {class: 'card'}, el('h3', {text: 'YAML'}), el('pre', {class: 'yaml', text: t.yaml})));
}

const filters = {status: '', qc_verdict: '', template: '', review: '', since: '', until: '', sample_percent: ''};
async function listScreen() {
  header();
  const field = (name, label, options) => {
    const input = options ? el('select', {name}, ...options.map((o) => el('option', {value: o, text: o || '—'}))) : el('input', {name, type: name === 'since' || name === 'until' ? 'date' : 'text'});
    input.value = filters[name];
    input.onchange = () => { filters[name] = input.value; listScreen(); };
    return el('label', {}, label, input);
  };
  const bar = el('div', {class: 'filters card'},
    field('status', '状态 Status', ['', 'sealed', 'signed', 'failed', 'refused', 'cancelled', 'expired', 'questions', 'document_review']),
    field('qc_verdict', '质检 QC', ['', 'PASS', 'FAIL', 'NEEDS_REVIEW']),
    field('review', '复核 Review', ['', 'none', 'approve', 'reject']),
    field('template', '模板 Template'), field('since', '自 From'), field('until', '至 To'),
    field('sample_percent', '抽检 Sample %', ['', '5', '10', '20', '50']));
  const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v).map(([k, v]) => [k, k === 'since' || k === 'until' ? v + 'T00:00:00Z' : v]));
  let rows = [];
  try { rows = await api('GET', '/sessions?' + q); } catch (e) { if (e.message === 'signed out') return; app.replaceChildren(bar, el('p', {class: 'error', text: e.message})); return; }
  const table = el('table', {id: 'sessions'}, el('tr', {}, ...['会话 Session', '签署人 Signer', '模板 Template', '状态 Status', '质检 QC', '复核 Review', '创建 Created'].map((h) => el('th', {text: h}))));
  for (const r of rows) {
    table.append(el('tr', {class: 'row', 'data-id': r.id, onclick: () => detailScreen(r.id)},
      el('td', {text: r.id}), el('td', {text: `${r.signer_name} ${r.signer_id_masked}`}), el('td', {text: r.template}),
      el('td', {text: r.status}), el('td', {class: r.qc_verdict || '', text: r.qc_verdict || '—'}), el('td', {text: r.review || '—'}),
      el('td', {text: r.created_at.replace('T', ' ').slice(0, 19)})));
  }
  app.replaceChildren(bar, el('div', {class: 'card'}, rows.length ? table : el('p', {class: 'muted', text: '没有会话 No sessions'})));
}

function presenceChart(d, t0, t1) {
  const W = 640, H = 90, span = Math.max(1, t1 - t0), x = (ms) => 40 + (W - 50) * (ms - t0) / span;
  const colors = {signer: '#12b76a', none: '#98a2b3', several: '#f79009', other: '#f04438'};
  const chart = svg('svg', {viewBox: `0 0 ${W} ${H}`, width: '100%', id: 'presence-chart', role: 'img', 'aria-label': 'face presence over time'});
  chart.append(Object.assign(svg('text', {x: 0, y: 22}), {textContent: 'face'}));
  for (const r of d.presence) {
    chart.append(svg('rect', {x: x(r.from_ms), y: 10, width: Math.max(1, x(r.to_ms) - x(r.from_ms)), height: 18, fill: colors[r.who] || '#999', 'data-who': r.who}));
  }
  chart.append(Object.assign(svg('text', {x: 0, y: 60}), {textContent: 'events'}));
  for (const e of d.timeline) {
    const color = e.kind === 'monitoring_warning' ? '#f04438' : e.kind === 'answer_judged' ? '#0b63ce' : '#667085';
    const mark = svg('line', {x1: x(e.at_ms), x2: x(e.at_ms), y1: 40, y2: 70, stroke: color, 'stroke-width': 2});
    mark.append(Object.assign(svg('title', {}), {textContent: `${e.time} ${e.kind}`}));
    chart.append(mark);
  }
  const legend = el('p', {class: 'muted', text: '绿 signer · 灰 no face · 橙 several faces · 红 another person; 竖线 events (蓝 answers, 红 warnings)'});
  return el('div', {}, chart, legend);
}

function describe(e) {
  const p = e.payload;
  switch (e.kind) {
    case 'question_asked': return `Q ${p.question_id} #${p.attempt}: ${p.text}`;
    case 'answer_judged': return `A ${p.question_id} #${p.attempt}: “${p.transcript || ''}” → ${p.verdict}`;
    case 'monitoring_warning': return `⚠ ${p.warning}`;
    case 'identity_verified': case 'identity_attempt_failed': return `identity: ${p.reason || ''}`;
    case 'liveness_passed': case 'liveness_attempt_failed': case 'liveness_failed': return `liveness: ${(p.steps || []).map((s) => s.action + (s.passed ? ' ✓' : ' ✗')).join(', ')}`;
    case 'artifact_stored': return `${p.role} ${String(p.sha256).slice(0, 12)}…`;
    case 'review_decided': return `${p.decision} by ${p.by}: ${p.comment}` + (p.overrides ? ` · 改判 overrides ${p.overrides.decision} by ${p.overrides.by}: ${p.override_reason}` : '');
    case 'qc_evaluated': return `QC ${p.verdict} (${p.ruleset})`;
    case 'document_signed': return `${p.role} · ${p.field} · ${p.certificate_subject}` + (p.seal_role ? ` · ${p.seal_role}` : '');
    case 'recording_analysed': return (p.answers || []).map((a) => `${a.question_id}#${a.attempt} live ${a.live} / recording ${a.recording || '—'}`).join('; ') + ((p.errors || []).length ? ` · ${p.errors.join('; ')}` : '');
    default: return '';
  }
}

// the page's operation trace (屏幕操作过程): screens with the time on each, pages with theirs, confirmations
const SCREENS = {consent: '授权同意 consent', refuse_confirm: '确认拒绝 confirm refusal', permission: '权限提示 camera help', identity: '身份核验 identity',
  liveness: '活体检测 liveness', question: '问答 question', documents: '文件阅读 documents', signing: '签名 signature', ended: '结束 final screen', error: '错误 error', loading: '加载 loading'};
function traceCard(id) {
  const body = el('div', {id: 'trace'}, el('p', {class: 'muted', text: '…'}));
  const secs = (s) => `${Number(s).toFixed(1)} s`;
  const hhmmss = (ms) => new Date(ms).toTimeString().slice(0, 8);
  api('GET', `/sessions/${encodeURIComponent(id)}/trace`).then((t) => {
    if (t.error) { body.replaceChildren(el('p', {class: 'error', text: '操作轨迹无法读取 Trace unreadable: ' + t.error})); return; }
    if (!t.batches.length) { body.replaceChildren(el('p', {class: 'muted', id: 'trace-none', text: '页面未上传操作轨迹 No operation trace'})); return; }
    const missing = t.missing_batches.length ? el('p', {class: 'error', text: '缺少批次 Missing batches: ' + t.missing_batches.join(', ')}) : null;
    const screens = el('table', {id: 'trace-screens'}, el('tr', {}, ...['页面时间 Page time', '页面 Screen', '停留 Time'].map((h) => el('th', {text: h}))),
      ...t.screens.map((v) => el('tr', {'data-step': v.step}, el('td', {class: 'muted', text: hhmmss(v.start_ms)}),
        el('td', {text: (SCREENS[v.step] || v.step) + (v.question ? ` · ${v.question} #${v.attempt || 1}` : '')}), el('td', {text: secs(v.seconds)}))));
    const pages = el('table', {id: 'trace-pages'}, el('tr', {}, ...['文件 Document', '页 Page', '展示 On screen', '阅至页底 Read'].map((h) => el('th', {text: h}))),
      ...t.documents.flatMap((d) => d.pages.map((p) => el('tr', {}, el('td', {text: `${d.doc + 1} · ${(d.sha256 || '').slice(0, 12)}…`}),
        el('td', {text: String(p.page)}), el('td', {text: secs(p.seconds)}), el('td', {text: p.read ? '✓' : '✗'})))));
    const ops = el('ol', {id: 'trace-operations'}, ...t.operations.map((o) => el('li', {},
      el('span', {class: 'muted', text: hhmmss(o.t) + ' '}), `${SCREENS[o.step] || o.step} · ${o.op}${o.target ? ' ' + o.target : ''}${o.value ? ' = ' + o.value : ''}`)));
    body.replaceChildren(...[el('p', {class: 'muted', text: `${t.entries} 条 entries · ${t.batches.length} 批 batches · 离开页面 left the page ${t.away}× (${secs(t.away_seconds)})`}),
      missing, screens, t.documents.length ? pages : null, el('h4', {text: '确认与选择 Confirmations'}), ops].filter(Boolean));  // (a null would read "null")
  }).catch((e) => body.replaceChildren(el('p', {class: 'error', text: e.message})));
  return el('div', {class: 'card'}, el('h3', {text: '操作轨迹 Operation trace'}), body);
}

async function detailScreen(id) {
  let d;
  try { d = await api('GET', '/sessions/' + encodeURIComponent(id)); } catch (e) { app.replaceChildren(el('p', {class: 'error', text: e.message})); return; }
  const s = d.session;
  const seg = d.recording[0];
  const video = seg ? el('video', {id: 'video', controls: '', preload: 'metadata', src: `/console/api/sessions/${encodeURIComponent(id)}/recording/${seg.segment}`}) : el('p', {class: 'muted', text: '没有录像 No recording'});
  const start = seg ? seg.started_ms : (d.timeline[0] || {}).at_ms;
  // the recorder's clock gives the real length (a browser's webm has no duration: it reads Infinity)
  const recordedS = seg && seg.ended_ms ? Math.max(0, (seg.ended_ms - seg.started_ms) / 1000) : 0;
  const clock = (sec) => `${Math.floor(sec / 60)}:${String(Math.floor(sec % 60)).padStart(2, '0')}`;
  const length = el('p', {class: 'muted', id: 'video-duration', text: seg ? `时长 Duration ${clock(recordedS)}` : ''});
  if (seg) {
    // make the browser find the webm's end once, so the scrubber works and shows the real duration
    video.addEventListener('loadedmetadata', () => {
      if (video.duration !== Infinity && !Number.isNaN(video.duration)) { length.textContent = `时长 Duration ${clock(video.duration)}`; return; }
      const back = () => { video.removeEventListener('durationchange', back); if (Number.isFinite(video.duration)) { length.textContent = `时长 Duration ${clock(video.duration)}`; video.currentTime = 0; } };
      video.addEventListener('durationchange', back);
      video.currentTime = 1e7;
    }, {once: true});
  }
  const seek = (atMs) => {
    if (!seg || video.tagName !== 'VIDEO') return;
    video.scrollIntoView({block: 'center', behavior: 'smooth'});  // the reviewer sees what they asked for
    video.currentTime = Math.max(0, (atMs - start) / 1000);
    video.play().catch(() => {});
  };
  const times = d.timeline.map((e) => e.at_ms).concat(d.presence.map((r) => r.to_ms));
  const timeline = el('ol', {class: 'timeline', id: 'timeline'});
  for (const e of d.timeline) {
    const li = el('li', {'data-kind': e.kind, title: 'play from here', onclick: () => seek(e.at_ms)},
      el('span', {class: 'muted', text: e.time.slice(11, 19) + ' '}), el('strong', {text: e.kind + ' '}), describe(e));
    timeline.append(li);
  }
  const qc = d.qc ? el('table', {id: 'qc'}, el('tr', {}, el('th', {text: 'Rule'}), el('th', {text: 'Verdict'}), el('th', {text: 'Detail'}), el('th', {text: 'Clause'})),
    ...d.qc.rules.map((r) => el('tr', {}, el('td', {text: r.title}), el('td', {class: r.verdict, text: r.verdict}), el('td', {text: r.detail}), el('td', {class: 'muted', text: r.clause})))) : el('p', {class: 'muted', text: '尚未质检 Not evaluated yet'});
  const shots = el('div', {class: 'thumbs'});
  for (const e of d.timeline) {
    if (e.kind === 'artifact_stored' && ['face_snapshot', 'liveness_frame'].includes(e.payload.role)) {
      shots.append(el('img', {alt: e.payload.role, src: `/console/api/sessions/${encodeURIComponent(id)}/artifacts/${e.payload.sha256}`}));
    }
  }
  // the organisation whose seal the signer applied, and the authority recorded for it at creation
  const o = s.organisation;
  const ROLE = {legal_representative: '法定代表人 legal representative', authorised_agent: '授权代理人 authorised agent'};
  const art = (sha) => `/console/api/sessions/${encodeURIComponent(id)}/artifacts/${sha}`;
  const org = o ? el('p', {id: 'organisation', 'data-role': o.seal_role},
    el('img', {class: 'seal', alt: 'organisation_seal', src: art(o.seal_sha256), width: '48', height: '48'}),
    ` 单位章 Organisation seal: ${o.name} (${o.credit_code}) · ${ROLE[o.seal_role] || o.seal_role}`,
    o.authorisation_ref ? ` · 授权委托书 Authorisation: ${o.authorisation_ref}` : '',
    o.authorisation_sha256 ? el('a', {href: art(o.authorisation_sha256), target: '_blank', text: ' 查看授权委托书 View the authorisation'}) : '',
    ` · 证书 Certificate ${o.certificate_serial}`) : null;
  const comment = el('textarea', {id: 'comment', rows: '2', cols: '50', placeholder: '意见 Comment'});
  const msg = el('p', {id: 'review-msg'});
  // decisions are append-only: once decided, a new one is an explicit override with its reason
  const decided = d.decisions.length > 0;
  const overrideReason = el('textarea', {id: 'override-reason', rows: '2', cols: '50', placeholder: '改判理由（必填） Why this overrides the earlier decision (required)'});
  const decide = (decision) => async () => {
    if (decided && overrideReason.value.trim().length < 2) { msg.textContent = '改判需要理由 An override needs a reason'; msg.className = 'error'; return; }
    try {
      const body = {decision, comment: comment.value};
      if (decided) body.override_reason = overrideReason.value;
      const r = await api('POST', `/sessions/${encodeURIComponent(id)}/review`, body);
      msg.textContent = `${r.decision} · ${r.by} · ${r.at}`; msg.className = ''; detailScreen(id);
    } catch (e) { msg.textContent = problems(e); msg.className = 'error'; }
  };
  const history = el('ol', {id: 'decisions'}, ...d.decisions.map((x, i) => el('li', {'data-decision': x.decision},
    el('strong', {class: x.decision, text: x.decision === 'approve' ? '通过 approve' : '驳回 reject'}),
    ` · ${x.by} · ${x.time.replace('T', ' ').slice(0, 19)} · ${x.comment || ''}`,
    x.override_reason ? el('div', {class: 'muted', text: `改判 #${i + 1} overrides #${i}: ${x.override_reason}`}) : null)));
  const REASONS = {re_asked: '重问 re-asked', typed_answer: '文字作答 typed answer', question_flagged: '转人工 flagged'};
  const flags = d.review_flags.length ? el('ul', {id: 'review-flags'}, ...d.review_flags.map((f) => el('li', {'data-question': f.question_id},
    el('strong', {text: f.question_id}), ` · ${f.attempts} 次作答 attempts · `, f.reasons.map((r) => REASONS[r] || r).join(', ')))) : el('p', {class: 'muted', id: 'review-flags', text: '无 None'});
  const canDecide = me.role !== 'auditor';
  const hooks = el('table', {id: 'webhooks'}, el('tr', {}, ...['Event', 'State', 'Attempts', 'Last error'].map((h) => el('th', {text: h}))),
    ...d.webhooks.map((w) => el('tr', {}, el('td', {text: w.event}), el('td', {text: w.state}), el('td', {text: String(w.attempts)}), el('td', {class: 'muted', text: w.last_error || ''}))));
  app.replaceChildren(
    el('p', {}, el('button', {text: '← 返回 Back', onclick: listScreen})),
    el('div', {class: 'card'}, el('h2', {id: 'session-title', text: `${s.signer_name} · ${s.template_title}`}),
      el('p', {class: 'muted', text: `${s.id} · ${s.status} · ${s.signer_id_masked} · ${s.external_ref || ''} · ${s.summary}`}),
      org,
      el('p', {}, '质检 QC: ', el('span', {id: 'qc-verdict', class: s.qc_verdict || '', text: s.qc_verdict || '—'}), ' · 复核 Review: ', el('span', {id: 'review-state', text: s.review || '—'})),
      // the court-facing report, as sealed (rendered once, signed): what a judge will be given
      s.sealed ? el('p', {}, el('a', {id: 'evidence-report', href: `/console/api/sessions/${encodeURIComponent(id)}/report`, download: `${s.id}-report.pdf`, text: '出证报告 Evidence report (PDF)'})) : el('p', {class: 'muted', text: '尚未封存 Not sealed yet'})),
    el('div', {class: 'grid'},
      el('div', {}, el('div', {class: 'card'}, video, length, d.recording.length > 1 ? el('p', {class: 'muted', text: `${d.recording.length} recorder runs (segments)`}) : null),
        el('div', {class: 'card flags'}, el('h3', {text: '需人工关注 For review'}), flags),
        el('div', {class: 'card'}, el('h3', {text: '人脸在场 Face presence'}), presenceChart(d, Math.min(...times), Math.max(...times))),
        el('div', {class: 'card'}, el('h3', {text: '截图 Snapshots'}), shots),
        el('div', {class: 'card'}, el('h3', {text: '人工复核 Decision'}), decided ? history : null,
          canDecide ? el('div', {}, comment, decided ? overrideReason : null, el('p', {},
            el('button', {class: 'primary', id: 'approve', text: decided ? '改判为通过 Override: approve' : '通过 Approve', onclick: decide('approve')}), ' ',
            el('button', {class: 'bad', id: 'reject', text: decided ? '改判为驳回 Override: reject' : '驳回 Reject', onclick: decide('reject')})), msg) : el('p', {class: 'muted', text: 'auditor: read only'}))),
      el('div', {}, el('div', {class: 'card'}, el('h3', {text: '自动质检 Automatic QC'}), qc),
        traceCard(id),
        el('div', {class: 'card'}, el('h3', {text: '时间线 Timeline'}), timeline),
        el('div', {class: 'card'}, el('h3', {text: '回调 Webhooks'}), hooks))));
}

api('GET', '/me').then((m) => { me = m; listScreen(); }).catch(() => signInScreen());
})();
