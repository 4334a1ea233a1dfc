// DualSign signer page: the operation trace (屏幕操作过程). What the page showed and what the signer did,
// in order, on the page's monotonic clock (epoch ms): screens, document pages on screen, scrolls to the
// end, clicks, ticks, toggles, leaving and returning, the signature pad's use. Never what the signer
// typed, keystrokes or the strokes' points. Entries go to the server in numbered batches
// (PUT /signer/v1/trace/{n}); a batch stays in localStorage until the server acknowledged it, so a
// dropped network or a reload loses none (the same batch again is acknowledged again).
'use strict';
window.dualsignTrace = (() => {
  const token = location.pathname.split('/').pop();
  const KEY = 'ds-trace-' + token;
  const BATCH = 100, EVERY_MS = 5000;
  const clock = () => Math.round(performance.timeOrigin + performance.now());
  let saved;
  try { saved = JSON.parse(localStorage.getItem(KEY) || 'null'); } catch (_) { saved = null; }
  if (!saved || !Array.isArray(saved.pending)) saved = {next: 0, pending: []};
  let buffer = [], numbered = false, closed = false, step = 'loading', screens = 0, last = 0, timer = null, sending = null, delay = 1000;
  const save = () => { try { localStorage.setItem(KEY, JSON.stringify(saved)); } catch (_) { /* full: kept in memory */ } };

  function record(op, fields) {
    const e = {t: Math.max(clock(), last), step, op};
    for (const [k, v] of Object.entries(fields || {})) if (v !== undefined && v !== null && v !== '') e[k] = v;
    last = e.t;
    buffer.push(e);
    if (buffer.length >= BATCH) cut(); else if (!timer) timer = setTimeout(() => { timer = null; cut(); }, EVERY_MS);
  }
  // a screen became the one shown (it names the step every later entry belongs to)
  function screen(s, fields) { if (s === step && !fields) return; step = s; screens += 1; record('screen_shown', fields); }
  function cut() {
    if (closed) { buffer = []; return; }  // the evidence is sealed: nothing more is kept
    if (!numbered || !buffer.length) return;
    saved.pending.push({batch: saved.next, entries: buffer});
    saved.next += 1; buffer = [];
    save();
    send();
  }
  function send() {
    if (sending) return sending;
    sending = (async () => {
      while (saved.pending.length) {
        const b = saved.pending[0];
        let r = null;
        try {
          r = await fetch(`/signer/v1/trace/${b.batch}`, {method: 'PUT', keepalive: true,
            headers: {'X-Signer-Token': token, 'Content-Type': 'application/json'},
            body: JSON.stringify({version: 1, entries: b.entries})});
        } catch (_) { r = null; }
        // stored, or refused for good (sealed, malformed, another batch under the number): the server says why
        if (r && (r.ok || r.status === 409 || r.status === 422 || r.status === 401 || r.status === 413)) {
          saved.pending.shift(); save(); delay = 1000;
        } else {
          setTimeout(send, delay); delay = Math.min(delay * 2, 15000);
          return;
        }
      }
    })().finally(() => { sending = null; });
    return sending;
  }
  // everything recorded so far on its way; waits at most timeoutMs (a step that ends the session waits)
  function flush(timeoutMs) {
    clearTimeout(timer); timer = null;
    cut();
    return Promise.race([send() || Promise.resolve(), new Promise((ok) => setTimeout(ok, timeoutMs || 3000))]);
  }
  async function sha256(text) {
    const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
    return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  // a text the server gave, displayed: its identity (UTF-8 SHA-256), never the text
  function shown(target, text, fields) { if (text) sha256(text).then((h) => record('text_shown', {...fields, target, sha256: h})).catch(() => {}); }

  // numbering goes on from what the server holds (a reload, or the link opened on another device)
  fetch('/signer/v1/trace', {headers: {'X-Signer-Token': token}}).then((r) => (r.ok ? r.json() : null)).catch(() => null).then((st) => {
    const held = saved.pending.map((b) => b.batch + 1);
    saved.next = Math.max(saved.next, st ? st.next_batch : 0, ...held);
    closed = !!st && st.accepting === false && !saved.pending.length;  // a finished link opened again
    numbered = true; save(); cut(); send();
  });
  // leaving the page and coming back; what is recorded leaves before the page may be frozen
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') { record('hidden'); flush(); } else record('visible');
  });
  // every button and checkbox by its id (the page's own controls: never a text field's content)
  document.addEventListener('click', (e) => {
    const b = e.target && e.target.closest ? e.target.closest('button') : null;
    if (b && b.id) record('click', {target: b.id});
  }, true);
  document.addEventListener('change', (e) => {
    const c = e.target;
    if (c && c.type === 'checkbox' && c.id) record('check', {target: c.id, value: c.checked ? 'on' : 'off'});
  }, true);
  // scrolled to the end of the screen (once per screen shown)
  let endSeenFor = -1;
  const scrolled = (box) => {
    const end = box ? box.scrollTop + box.clientHeight >= box.scrollHeight - 2
      : window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 2;
    if (end && endSeenFor !== screens) { endSeenFor = screens; record('scrolled_end', box && box.id ? {target: box.id} : null); }
  };
  window.addEventListener('scroll', () => scrolled(null), {passive: true});
  document.addEventListener('scroll', (e) => { if (e.target && e.target.id) scrolled(e.target); }, {passive: true, capture: true});
  window.addEventListener('online', () => send());
  return {record, screen, flush, shown, get step() { return step; }};
})();
