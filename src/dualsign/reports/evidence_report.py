"""The evidence report (出证报告): a PDF in Chinese (or English) of everything a session proves.

Rendered with reportlab; the CJK font (WenQuanYi Zen Hei, Debian ``fonts-wqy-zenhei``, TrueType) is
embedded as a subset, so the report reads the same everywhere. The report is then PAdES-signed by the
platform with an RFC 3161 timestamp (``reports/pdf_reports.py``).
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dualsign.application.evidence.ports import ReportData

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
        "session": "会话",
        "parties": "当事人",
        "signer": "签署人",
        "tenant": "机构",
        "scenario": "业务场景",
        "template": "模板（版本摘要）",
        "state": "结果",
        "consent": "授权同意",
        "identity": "身份核验",
        "liveness": "活体检测",
        "questions": "问答记录",
        "variables": "业务要素（宣读内容）",
        "typed": "文字输入",
        "audio": "播放音频 SHA-256",
        "warnings": "监控提示",
        "qc": "自动质检",
        "timeline": "时间线",
        "artifacts": "证据文件摘要（SHA-256 / SM3）",
        "seal": "封存与时间戳",
        "assurance": "保证说明",
        "verify": "扫码或访问以在线核验",
        "attempt": "第{n}次",
        "none": "无",
    },
    "en": {
        "title": "DualSign evidence report",
        "session": "Session",
        "parties": "Parties",
        "signer": "Signer",
        "tenant": "Institution",
        "scenario": "Scenario",
        "template": "Template (version digest)",
        "state": "Outcome",
        "consent": "Consent",
        "identity": "Identity",
        "liveness": "Liveness",
        "questions": "Questions and answers",
        "variables": "Facts of the deal (as read aloud)",
        "typed": "typed",
        "audio": "audio played, SHA-256",
        "warnings": "Monitoring warnings",
        "qc": "Automatic quality check",
        "timeline": "Timeline",
        "artifacts": "Evidence files (SHA-256 / SM3)",
        "seal": "Seal and timestamp",
        "assurance": "Assurance",
        "verify": "Scan or visit to verify online",
        "attempt": "attempt {n}",
        "none": "none",
    },
}


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
    t = LABELS.get(d.language, LABELS["zh"])
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    small = ParagraphStyle("small", fontName=font, fontSize=7, leading=9, wordWrap="CJK")
    h1 = ParagraphStyle("h1", fontName=font, fontSize=17, leading=22, spaceAfter=6)
    h2 = ParagraphStyle(
        "h2",
        fontName=font,
        fontSize=12,
        leading=16,
        spaceBefore=8,
        spaceAfter=4,
        textColor=colors.HexColor("#1f3b6e"),
    )

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), style)

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        tbl = Table(rows, colWidths=widths)
        tbl.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef2f8")),
                ]
            )
        )
        return tbl

    story: list[Flowable] = [p(t["title"], h1), p(f"{t['session']}: {d.session_id}", small)]
    head = [
        [p(t["signer"]), p(f"{d.signer_name}  {d.signer_id_masked}")],
        [p(t["tenant"]), p(d.tenant)],
        [p(t["scenario"]), p(d.scenario)],
        [p(t["template"]), p(d.template, small)],
        [p(t["state"]), p(f"{d.state}  ({d.created_at} → {d.sealed_at})")],
    ]
    story += [p(t["parties"], h2), table(head, [35 * mm, 140 * mm])]
    if d.variables:
        rows = [[p(name, small), p(value, small), p(words, small)] for name, value, words in d.variables]
        story += [p(t["variables"], h2), table(rows, [50 * mm, 45 * mm, 80 * mm])]
    story += [p(t["consent"], h2)] + [p(c) for c in d.consent or [t["none"]]]
    story += [p(t["identity"], h2), p(d.identity)]
    if d.face_snapshot:
        story.append(Image(io.BytesIO(d.face_snapshot), width=30 * mm, height=22.5 * mm, kind="proportional"))
    story += [p(t["liveness"], h2), p(d.liveness), p(t["questions"], h2)]
    for q in d.questions:
        clause = f" ({q['clause']})" if q.get("clause") else ""
        story.append(p(f"{q['id']}: {q['prompt']}{clause}"))
        if q.get("audio"):
            story.append(p(t["audio"] + ": " + ", ".join(d[:16] + "…" for d in q["audio"]), small))
        rows = [
            [
                p(t["attempt"].format(n=a["attempt"]), small),
                p(a.get("transcript") or "—", small),
                p(f"{a['verdict']} ({t['typed']})" if a.get("input") == "text" else a["verdict"], small),
            ]
            for a in q["attempts"]
        ]
        if rows:
            story.append(table(rows, [20 * mm, 120 * mm, 35 * mm]))
        story.append(Spacer(1, 3))
    story += [p(t["warnings"], h2)] + [p(w) for w in d.warnings or [t["none"]]]
    story.append(p(t["qc"], h2))
    if d.qc:
        story.append(p(f"{d.qc.get('verdict')} ({d.qc.get('ruleset')})"))
        rules = [
            [p(r["title"], small), p(r["verdict"], small), p(f"{r['detail']} — {r['clause']}", small)]
            for r in d.qc.get("rules", [])
        ]
        story.append(table(rules, [45 * mm, 25 * mm, 105 * mm]))
    else:
        story.append(p(t["none"]))
    story += [
        p(t["timeline"], h2),
        table(
            [[p(a, small), p(b, small), p(c, small)] for a, b, c in d.timeline] or [[p("—")] * 3],
            [38 * mm, 42 * mm, 95 * mm],
        ),
    ]
    story += [
        p(t["artifacts"], h2),
        table(
            [
                [
                    p(a["role"], small),
                    p(f"{a['sha256']}<br/>{a.get('sm3') or '—'}".replace("<br/>", "\n"), small),
                    p(str(a["size"]), small),
                ]
                for a in d.artifacts
            ]
            or [[p("—")] * 3],
            [30 * mm, 125 * mm, 20 * mm],
        ),
    ]
    seal_rows = [
        [p("manifest SHA-256"), p(d.manifest_sha256, small)],
        [p("Merkle root"), p(d.merkle_root, small)],
        [p("TSA"), p(f"{d.tsa} ({d.tsa_mode})")],
        [p("time"), p(d.timestamp_time)],
        [p("log"), p(f"#{d.log_index}")],
    ]
    story += [p(t["seal"], h2), table(seal_rows, [35 * mm, 140 * mm])]
    assurance = (
        f"时间戳：{d.tsa}（{'自证' if d.tsa_mode == 'self-attested' else '可信第三方'}）；"
        f"活体检测：动作指令；重问次数：{d.reasks}。"
        if d.language == "zh"
        else f"Timestamp: {d.tsa} ({d.tsa_mode}); liveness: action challenges; re-asks: {d.reasks}."
    )
    story += [
        p(t["assurance"], h2),
        p(assurance),
        p(t["verify"], h2),
        _qr(d.verify_url),
        p(d.verify_url, small),
    ]
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
