"""The evidence report (出证报告): a PDF in Chinese (or English) of everything a session proves.

Rendered with reportlab; the CJK font (WenQuanYi Zen Hei, Debian ``fonts-wqy-zenhei``, TrueType) is
embedded as a subset, so the report reads the same everywhere. The report is then PAdES-signed by the
platform with an RFC 3161 timestamp (``reports/pdf_reports.py``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from dualsign.application.evidence.ports import ReportData
from dualsign.domain.qc_wording import RULE_TITLES_ZH, finding_text
from dualsign.domain.qc_wording import VERDICTS as QC_VERDICTS
from dualsign.reports.report_terms import (
    ACTIONS,
    EVENTS,
    INPUTS,
    PRESENCE,
    ROLES,
    SEAL_ROLES,
    STATES,
    VERDICTS,
    WARNINGS,
    term,
)
from dualsign.reports.trace_report import trace_section

FONT_PATHS = (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),)
FONT = "WQYZenHei"


class FontMissing(Exception):
    pass


@cache
def _font() -> str:
    for path in FONT_PATHS:
        if path.exists():
            pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
            return FONT
    raise FontMissing("no CJK TrueType font: apt-get install fonts-wqy-zenhei")


LABELS = {
    "zh": {
        "title": "双录电子签 出证报告",
        "session": "会话编号",
        "parties": "当事人与业务",
        "signer": "签署人",
        "organisation": "加盖单位章",
        "organisation_line": "{name}（统一社会信用代码 {code}）；签署人身份：{role}；授权委托书：{auth}；"
        "单位证书序列号 {serial}",
        "tenant": "机构",
        "scenario": "业务场景",
        "template": "模板（版本摘要）",
        "state": "结果",
        "period": "起止时间",
        "consent": "授权同意",
        "refused": "签署人拒绝授权：{reason}",
        "identity": "身份核验（人脸 1:1 比对）",
        "identity_line": "{outcome}：{frames} 帧与证件照比对，最大距离 {distance}，阈值 {threshold}"
        "（距离小于阈值为同一人）",
        "identity_no_figures": "{outcome}（未记录比对距离）{reason}",
        "id_photo": "证件照（机构提供）",
        "agent": "业务人员（{label}）",
        "agent_line": "业务人员与其照片比对：最大距离 {distance}，阈值 {threshold}",
        "agent_photo": "业务人员照片（机构提供）",
        "on_camera": "出镜情况（全程监测）：{runs}",
        "snapshot": "现场人脸抓拍",
        "liveness_frame": "活体检测画面",
        "liveness": "活体检测",
        "liveness_line": "{outcome}（第 {attempt} 次）：{steps}",
        "step_passed": "通过",
        "step_failed": "未通过",
        "questions": "问答记录",
        "answer_input": "方式",
        "clause": "（{clause}）",
        "variables": "业务要素（宣读内容）",
        "audio": "播报音频 SHA-256",
        "warnings": "监控提示",
        "lasted": "持续 {s} 秒后提示",
        "qc": "自动质检",
        "qc_head": "质检结论：{verdict}（规则集 {ruleset}）",
        "timeline": "时间线（{zone}）",
        "artifacts": "证据文件摘要（SHA-256 / SM3）",
        "seal": "封存与时间戳",
        "manifest": "清单 SHA-256",
        "merkle": "Merkle 根",
        "tsa": "时间戳机构",
        "ts_time": "时间戳时间",
        "log": "透明日志序号",
        "assurance": "保证说明",
        "assurance_text": "时间戳：{tsa}（{mode}）；活体检测：动作指令；重问次数：{reasks}。"
        "本报告由平台在封存时生成并以 PAdES 签名；证据包可用 dualsign-verify 离线核验。",
        "self": "平台自证",
        "trusted": "可信第三方",
        "verify": "扫码或访问以在线核验",
        "attempt": "第{n}次",
        "none": "无",
        "times": "所有时间为 {zone}（UTC{offset}）。",
    },
    "en": {
        "title": "DualSign evidence report",
        "session": "Session",
        "parties": "Parties and business",
        "signer": "Signer",
        "organisation": "Organisation seal applied",
        "organisation_line": "{name} (unified social credit code {code}); the signer acts as {role}; "
        "authorisation: {auth}; organisation certificate serial {serial}",
        "tenant": "Institution",
        "scenario": "Scenario",
        "template": "Template (version digest)",
        "state": "Outcome",
        "period": "From – to",
        "consent": "Consent",
        "refused": "The signer refused consent: {reason}",
        "identity": "Identity (1:1 face match)",
        "identity_line": "{outcome}: {frames} frames matched against the ID photo, largest distance "
        "{distance}, threshold {threshold} (below the threshold: the same person)",
        "identity_no_figures": "{outcome} (no distances recorded) {reason}",
        "id_photo": "ID photo (from the institution)",
        "agent": "Agent ({label})",
        "agent_line": "The agent against their photo: largest distance {distance}, threshold {threshold}",
        "agent_photo": "Agent's photo (from the institution)",
        "on_camera": "On camera (monitored throughout): {runs}",
        "snapshot": "Live face snapshot",
        "liveness_frame": "Liveness frame",
        "liveness": "Liveness",
        "liveness_line": "{outcome} (attempt {attempt}): {steps}",
        "step_passed": "done",
        "step_failed": "not done",
        "questions": "Questions and answers",
        "answer_input": "given by",
        "clause": " ({clause})",
        "variables": "Facts of the deal (as read aloud)",
        "audio": "audio played, SHA-256",
        "warnings": "Monitoring warnings",
        "lasted": "raised after {s} s",
        "qc": "Automatic quality check",
        "qc_head": "Verdict: {verdict} (rule set {ruleset})",
        "timeline": "Timeline ({zone})",
        "artifacts": "Evidence files (SHA-256 / SM3)",
        "seal": "Seal and timestamp",
        "manifest": "manifest SHA-256",
        "merkle": "Merkle root",
        "tsa": "TSA",
        "ts_time": "timestamp time",
        "log": "log index",
        "assurance": "Assurance",
        "assurance_text": "Timestamp: {tsa} ({mode}); liveness: action challenges; re-asks: {reasks}. "
        "The platform rendered this report at sealing and signed it (PAdES); the bundle verifies offline "
        "with dualsign-verify.",
        "self": "self-attested",
        "trusted": "trusted third party",
        "verify": "Scan or visit to verify online",
        "attempt": "attempt {n}",
        "none": "none",
        "times": "All times are {zone} (UTC{offset}).",
    },
}

NBSP = "\u00a0"


def local_time(at: datetime, zone: str, *, millis: bool = False) -> str:
    """``at`` in ``zone`` with its UTC offset, as one unbreakable string (never wrapped mid-time)."""
    t = at.astimezone(ZoneInfo(zone))
    text = t.strftime("%Y-%m-%d %H:%M:%S") + (f".{t.microsecond // 1000:03d}" if millis else "")
    return f"{text} {t.strftime('%z')[:3]}:{t.strftime('%z')[3:]}".replace(" ", NBSP)


def _offset(zone: str, at: datetime) -> str:
    z = at.astimezone(ZoneInfo(zone)).strftime("%z")
    return f"{z[:3]}:{z[3:]}"


def _qr(url: str, size: float = 32 * mm) -> Flowable:
    widget = QrCodeWidget(url)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)

    class QR(Flowable):
        def wrap(self, *_: Any) -> tuple[float, float]:
            return size, size

        def draw(self) -> None:
            renderPDF.draw(drawing, self.canv, 0, 0)

    return QR()


def render(d: ReportData) -> bytes:
    font = _font()
    lang = "zh" if d.language == "zh" else "en"
    t = LABELS[lang]
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=font, fontSize=7, leading=9, wordWrap="CJK")
    caption = ParagraphStyle("caption", parent=small, alignment=1)
    # times: Latin line breaking (only at spaces, and local_time has none), so a time is never split
    stamp = ParagraphStyle("stamp", fontName=font, fontSize=7, leading=9)
    h1 = ParagraphStyle("h1", fontName=font, fontSize=17, leading=22, spaceAfter=6)
    h2 = ParagraphStyle(
        "h2",
        fontName=font,
        fontSize=12,
        leading=16,
        spaceBefore=8,
        spaceAfter=4,
        textColor=colors.HexColor("#1f3b6e"),
        keepWithNext=True,
    )

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), style)

    def when(at: datetime, millis: bool = False) -> str:
        return local_time(at, d.time_zone, millis=millis)

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        tbl = Table(rows, colWidths=widths)
        grid: list[Any] = [
            ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f8")),
        ]
        tbl.setStyle(TableStyle(grid))
        return tbl

    story: list[Flowable] = [p(t["title"], h1), p(f"{t['session']}: {d.session_id}", small)]
    story.append(p(t["times"].format(zone=d.time_zone, offset=_offset(d.time_zone, d.sealed_at)), small))
    agent_rows: list[list[Flowable]] = (
        [[p(t["agent"].format(label=d.agent["label"])), p(f"{d.agent['name']}  {d.agent['number']}")]]
        if d.agent
        else []
    )
    head: list[list[Flowable]] = [
        [p(t["signer"]), p(f"{d.signer_name}  {d.signer_id_masked}")],
        *agent_rows,
        [p(t["tenant"]), p(d.tenant)],
        [p(t["scenario"]), p(d.scenario)],
        [p(t["template"]), p(d.template, small)],
        [p(t["state"]), p(term(STATES, lang, d.state))],
        [p(t["period"]), p(f"{when(d.created_at)} → {when(d.sealed_at)}")],
    ]
    if d.organisation:  # beside the signer: whose seal they applied, and as what
        head.insert(1, [p(t["organisation"]), _organisation(d, t, lang, p)])
    story += [p(t["parties"], h2), table(head, [35 * mm, 141 * mm])]
    if d.variables:
        rows = [[p(name, small), p(value, small), p(words, small)] for name, value, words in d.variables]
        story += [p(t["variables"], h2), table(rows, [50 * mm, 45 * mm, 81 * mm])]
    story.append(p(t["consent"], h2))
    if d.consent_refused is not None:
        story.append(p(t["refused"].format(reason=d.consent_refused or t["none"])))
    story += [p(c) for c in d.consent] or ([] if d.consent_refused is not None else [p(t["none"])])
    story += [p(t["identity"], h2), p(_identity_line(d, t, lang))]
    if d.agent is not None and d.agent.get("distance") is not None and d.identity:
        distance, threshold = d.agent["distance"], d.identity.get("threshold")
        story.append(p(t["agent_line"].format(distance=f"{distance:.3f}", threshold=threshold)))
    if d.on_camera:
        runs = ("；" if lang == "zh" else "; ").join(
            f"{term(PRESENCE, lang, who)} {seconds} {'秒' if lang == 'zh' else 's'}"
            for who, seconds in d.on_camera
        )
        story.append(p(t["on_camera"].format(runs=runs)))
    pictures = [
        (d.id_photo, t["id_photo"]),
        (d.agent_photo, t["agent_photo"]),
        (d.face_snapshot, t["snapshot"]),
        (d.liveness_frame, t["liveness_frame"]),
    ]
    count = sum(1 for data, _ in pictures if data)
    shown = [
        (_picture(data, min(54 * mm, 172 * mm / count - 4 * mm)), label) for data, label in pictures if data
    ]
    if shown:  # side by side: the court compares the ID photo with the live face at a glance
        story.append(
            Table(
                [[img for img, _ in shown], [p(label, caption) for _, label in shown]],
                colWidths=[min(58 * mm, 176 * mm / len(shown))] * len(shown),
                hAlign="LEFT",
            )
        )
    story += [p(t["liveness"], h2), p(_liveness_line(d, t, lang))]
    story.append(p(t["questions"], h2))
    for q in d.questions:
        clause = t["clause"].format(clause=q["clause"]) if q.get("clause") else ""
        story.append(p(f"{q['id']}: {q['prompt']}{clause}"))
        if q.get("audio"):
            story.append(p(t["audio"] + ": " + ", ".join(a[:16] + "…" for a in q["audio"]), small))
        rows = [
            [
                p(t["attempt"].format(n=a["attempt"]), small),
                p(a.get("transcript") or "—", small),
                p(term(VERDICTS, lang, a.get("verdict")), small),
                p(f"{t['answer_input']}: {term(INPUTS, lang, a.get('input') or 'speech')}", small),
            ]
            for a in q["attempts"]
        ]
        if rows:
            story.append(table(rows, [18 * mm, 100 * mm, 24 * mm, 34 * mm]))
        story.append(Spacer(1, 3))
    story.append(p(t["warnings"], h2))
    if d.warnings:
        rows = [
            [
                p(when(at), stamp),
                p(term(WARNINGS, lang, code), small),
                p(t["lasted"].format(s=f"{since:.1f}") if since is not None else "—", small),
            ]
            for at, code, since in d.warnings
        ]
        story.append(table(rows, [46 * mm, 76 * mm, 54 * mm]))
    else:
        story.append(p(t["none"]))
    trace = trace_section(d.trace, d.trace_error, lang, d.time_zone)
    story.append(p(trace.title, h2))
    story += [p(line, small if i else body) for i, line in enumerate(trace.lines)]
    sections: list[tuple[str, list[tuple[str, ...]], list[float]]] = [
        ("screens", list(trace.screens), [30 * mm, 116 * mm, 30 * mm]),
        ("documents", list(trace.documents), [62 * mm, 30 * mm, 30 * mm, 54 * mm]),
        ("operations", list(trace.operations), [30 * mm, 46 * mm, 100 * mm]),
    ]
    for key, cells, widths in sections:
        if cells:
            story.append(p(trace.labels[key], body))
            story.append(table([[p(cell, small) for cell in row] for row in cells], widths))
    story.append(p(t["qc"], h2))
    if d.qc:
        verdict = QC_VERDICTS[lang].get(str(d.qc.get("verdict")), str(d.qc.get("verdict")))
        story.append(p(t["qc_head"].format(verdict=verdict, ruleset=d.qc.get("ruleset"))))
        rules = [
            [
                p(_rule_title(r, lang), small),
                p(QC_VERDICTS[lang].get(str(r.get("verdict")), str(r.get("verdict"))), small),
                p(f"{_rule_finding(r, lang)} — {r.get('clause', '')}", small),
            ]
            for r in d.qc.get("rules", [])
        ]
        story.append(table(rules, [42 * mm, 22 * mm, 112 * mm]))
    else:
        story.append(p(t["none"]))
    story += [
        p(t["timeline"].format(zone=d.time_zone), h2),
        table(
            [
                [p(when(at, millis=True), small), p(term(EVENTS, lang, kind), small), p(detail, small)]
                for at, kind, detail in d.timeline
            ]
            or [[p("—")] * 3],
            [46 * mm, 48 * mm, 82 * mm],
        ),
    ]
    story += [
        p(t["artifacts"], h2),
        table(
            [
                [
                    p(term(ROLES, lang, a["role"]), small),
                    p(f"{a['sha256']}\n{a.get('sm3') or '—'}", small),
                    p(str(a["size"]), small),
                ]
                for a in d.artifacts
            ]
            or [[p("—")] * 3],
            [30 * mm, 126 * mm, 20 * mm],
        ),
    ]
    seal_rows = [
        [p(t["manifest"]), p(d.manifest_sha256, small)],
        [p(t["merkle"]), p(d.merkle_root, small)],
        [p(t["tsa"]), p(f"{d.tsa} ({t['self'] if d.tsa_mode == 'self-attested' else t['trusted']})")],
        [p(t["ts_time"]), p(when(d.timestamp_time))],
        [p(t["log"]), p(f"#{d.log_index}")],
    ]
    assurance = t["assurance_text"].format(
        tsa=d.tsa, mode=t["self"] if d.tsa_mode == "self-attested" else t["trusted"], reasks=d.reasks
    )
    # the seal, the assurance and the verification QR stay together: the last page is never a stray line
    story.append(
        KeepTogether(
            [
                p(t["seal"], h2),
                table(seal_rows, [35 * mm, 141 * mm]),
                p(t["assurance"], h2),
                p(assurance),
                p(t["verify"], h2),
                _qr(d.verify_url),
                p(d.verify_url, small),
            ]
        )
    )
    buf = io.BytesIO()
    SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=t["title"],
        author="DualSign",
        leftMargin=17 * mm,
        rightMargin=17 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        invariant=True,
        initialFontName=font,
    ).build(story)
    return buf.getvalue()


def _picture(data: bytes, width: float = 54 * mm) -> Flowable:
    return Image(io.BytesIO(data), width=width, height=40 * mm, kind="proportional")


def _organisation(d: ReportData, t: dict[str, str], lang: str, p: Callable[..., Flowable]) -> Flowable:
    """The organisation whose seal the signer applied, the authority recorded, and the seal picture."""
    o = d.organisation or {}
    auth = [str(o["authorisation_ref"])] if o.get("authorisation_ref") else []
    auth += [f"SHA-256 {o['authorisation_sha256']}"] if o.get("authorisation_sha256") else []
    line = p(
        t["organisation_line"].format(
            name=o.get("name", ""),
            code=o.get("credit_code", ""),
            role=term(SEAL_ROLES, lang, o.get("seal_role")),
            auth=" / ".join(auth) or t["none"],
            serial=o.get("certificate_serial", ""),
        )
    )
    if not d.organisation_seal:
        return line
    seal = Image(io.BytesIO(d.organisation_seal), width=18 * mm, height=18 * mm, kind="proportional")
    return Table(
        [[seal, line]], colWidths=[20 * mm, 119 * mm], style=[("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    )


def _identity_line(d: ReportData, t: dict[str, str], lang: str) -> str:
    i = d.identity
    if i is None:
        return t["none"]
    outcome = term(EVENTS, lang, i["kind"])
    if i.get("distance") is None or i.get("threshold") is None:
        return t["identity_no_figures"].format(outcome=outcome, reason=i.get("reason") or "")
    return t["identity_line"].format(
        outcome=outcome,
        frames=i["frames"],
        distance=f"{float(i['distance']):.3f}",
        threshold=f"{float(i['threshold']):.3f}",
    )


def _liveness_line(d: ReportData, t: dict[str, str], lang: str) -> str:
    live = d.liveness
    if live is None:
        return t["none"]
    steps = ", ".join(
        f"{term(ACTIONS, lang, a)} ({t['step_passed'] if ok else t['step_failed']})"
        for a, ok in live["steps"]
    )
    return t["liveness_line"].format(
        outcome=term(EVENTS, lang, live["kind"]),
        attempt=live.get("attempt") or 1,
        steps=steps or (live.get("reason") or "—"),
    )


def _rule_title(rule: dict[str, Any], lang: str) -> str:
    if lang == "zh":
        return RULE_TITLES_ZH.get(str(rule.get("rule")), str(rule.get("title", "")))
    return str(rule.get("title", ""))


def _rule_finding(rule: dict[str, Any], lang: str) -> str:
    """The finding in the report's language from its code and figures; a check recorded before findings
    had codes keeps its recorded English words."""
    code, facts = rule.get("finding"), rule.get("facts")
    if code and isinstance(facts, dict):
        try:
            return finding_text(str(code), facts, lang)
        except (KeyError, TypeError, ValueError):
            pass
    return str(rule.get("detail", ""))
