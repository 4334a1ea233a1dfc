// The public verification page: upload a bundle or look up a manifest digest (no inline script: CSP).
const out = document.getElementById('out');
function show(report) {
  out.replaceChildren();
  const h = document.createElement('h2'); h.textContent = report.verdict || 'ERROR'; h.className = report.verdict || 'FAILED';
  out.append(h);
  const table = document.createElement('table');
  for (const s of report.steps || []) {
    const tr = document.createElement('tr');
    for (const v of [s.step, s.name, s.status, s.reason]) { const td = document.createElement('td'); td.textContent = v; tr.append(td); }
    tr.children[2].className = s.status; table.append(tr);
  }
  out.append(table);
  if (report.trust_policy) {  // the anchors this page used: compare them with the operator's trust file
    const t = report.trust_policy, p = document.createElement('pre');
    p.textContent = 'Trusted here:\n' + [...t.platform_roots.map(f => 'platform root  ' + f),
      ...t.tsa_roots.map(f => 'TSA root       ' + f), ...t.logs.map(l => 'log            ' + l.origin + ' (' + l.name + ')')].join('\n');
    out.append(p);
  }
  if (!report.steps) { const p = document.createElement('pre'); p.textContent = JSON.stringify(report, null, 2); out.append(p); }
}
document.getElementById('go').onclick = async () => {
  const f = document.getElementById('bundle').files[0]; if (!f) return;
  const r = await fetch('/verify', {method: 'POST', headers: {'Content-Type': 'application/zip'}, body: f});
  show(await r.json());
};
document.getElementById('look').onclick = async () => {
  const d = document.getElementById('digest').value.trim();
  const r = await fetch('/verify/manifests/' + encodeURIComponent(d)); show(await r.json());
};
