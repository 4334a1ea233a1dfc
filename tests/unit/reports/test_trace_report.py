"""The report's section 操作轨迹 / Operation trace: screens with their time, pages with theirs, the
confirmations, in the session's language and time zone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dualsign.domain import trace
from dualsign.domain.trace import summarise
from dualsign.reports.evidence_report import render
from dualsign.reports.report_terms import ROLES, SCREENS, TARGETS, TRACE_OPS
from dualsign.reports.trace_report import trace_section
from tests.unit.domain.test_trace import DOC, sample
from tests.unit.reports.test_evidence_report import data, pdf_text


def test_the_chinese_section_lists_screens_pages_and_confirmations_in_words() -> None:
    s = trace_section(summarise(sample()), None, "zh", "Asia/Shanghai")
    assert s.title == "操作轨迹"
    assert s.lines[0] == (
        "共 2 批、17 条操作记录（签署人设备时钟 19:06:40 至 19:07:08）；离开页面 1 次，共 3.0 秒。"
    )
    assert s.screens == [
        ("19:06:40", "授权同意页", "3.0 秒"),
        ("19:06:43", "问答页（q1 第1次）", "12.0 秒"),
        ("19:06:55", "文件阅读页", "10.0 秒"),
        ("19:07:05", "手写签名页", "3.0 秒"),
    ]
    name = f"文件 1（SHA-256 {DOC[:16]}…）"
    assert s.documents == [
        (name, "第 1 页", "6.0 秒", "已阅至页底"),
        (name, "第 2 页", "3.8 秒", "未阅至页底"),
    ]
    assert [what for _, _, what in s.operations] == [
        "勾选 录音录像授权: 开",
        "勾选 生物特征信息授权: 开",
        "点击 “同意并开始”",
        "大字模式: 开",
        "点击 “已阅读完毕”",
        "点击 “提交签名”",
    ]


def test_the_english_section_and_a_session_without_a_trace() -> None:
    s = trace_section(summarise(sample()), None, "en", "Europe/London")
    assert s.screens[1] == ("11:06:43", "question (q1, attempt 1)", "12.0 s")
    assert s.operations[2][2] == "clicked “Agree and start”"
    assert trace_section(None, None, "zh", "Asia/Shanghai").lines == ["页面未上传操作轨迹。"]
    broken = trace_section(None, "trace batch 2: NotFound", "en", "UTC")
    assert broken.lines == ["The operation trace cannot be read: trace batch 2: NotFound"]


def test_every_screen_operation_and_button_of_the_page_has_words() -> None:
    for language in ("zh", "en"):
        assert set(trace.STEPS) <= set(SCREENS[language])
        assert set(trace.RECORDED_OPS) | {"on", "off"} <= set(TRACE_OPS[language])
        assert {"agree", "refuse", "refuse-confirm-yes", "read-done", "sign"} <= set(TARGETS[language])
        assert "operation_trace" in ROLES[language]


def test_the_report_pdf_carries_the_section(tmp_path: Path) -> None:
    text = pdf_text(render(replace(data(), trace=summarise(sample()))), tmp_path)
    flat = text.replace("\n", "").replace(" ", "")  # pdftotext drops the spaces between CJK and digits
    for words in (
        "操作轨迹",
        "页面及停留时间",
        "文件阅读页",
        "第2页",
        "3.8秒",
        "未阅至页底",
        "点击“提交签名”",
    ):
        assert words in flat, words
    bare = pdf_text(render(data()), tmp_path).replace("\n", "")
    assert "页面未上传操作轨迹" in bare
