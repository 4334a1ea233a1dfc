"""The evidence report as a court reads it: in the session's language, local times, pictures side by side."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dualsign.application.evidence.report import ReportData
from dualsign.application.review.console import VIEWABLE_ROLES
from dualsign.domain.monitoring import WarningKind
from dualsign.domain.qc import RULES
from dualsign.domain.qc_wording import FINDINGS, RULE_TITLES_ZH, finding_text
from dualsign.domain.states import EventKind, SessionState
from dualsign.domain.templates import LivenessAction
from dualsign.reports.evidence_report import local_time, render
from dualsign.reports.report_terms import ACTIONS, EVENTS, ROLES, STATES, WARNINGS

FACES = Path(__file__).resolve().parents[2] / "assets" / "faces"
T0 = datetime(2026, 12, 6, 7, 30, 5, 123456, tzinfo=UTC)


def data(language: str = "zh", time_zone: str = "Asia/Shanghai") -> ReportData:
    at = [T0 + timedelta(seconds=s) for s in range(0, 400, 20)]
    kinds = [k.value for k in EventKind][: len(at)]
    return ReportData(
        language=language,
        time_zone=time_zone,
        session_id="ses_report",
        tenant="示例保险股份有限公司",
        signer_name="张三",
        signer_id_masked="1101**********0012",
        scenario="电子保单 (insurance_epolicy)",
        template="insurance-epolicy-zh sha256:" + "a" * 64,
        state="sealed",
        created_at=T0,
        sealed_at=T0 + timedelta(minutes=7),
        manifest_sha256="b" * 64,
        merkle_root="c" * 64,
        tsa="DualSign TSA",
        tsa_mode="self-attested",
        timestamp_time=T0 + timedelta(minutes=7),
        log_index=3,
        verify_url="https://sign.example.cn/verify/manifests/" + "b" * 64,
        consent=["我同意本次办理过程全程录音录像", "我单独同意为核验身份处理我的人脸信息"],
        consent_refused=None,
        identity={
            "kind": "identity_verified",
            "code": "matched",
            "reason": "",
            "distance": 0.4123,
            "threshold": 0.6,
            "frames": 5,
        },
        liveness={
            "kind": "liveness_passed",
            "attempt": 1,
            "steps": [("blink", True), ("open_mouth", True)],
            "reason": None,
        },
        questions=[
            {
                "id": "q1",
                "prompt": "您是否已阅读并理解保险条款？",
                "clause": "",
                "audio": ["d" * 64],
                "attempts": [
                    {"attempt": 1, "transcript": "不是", "verdict": "REJECT", "input": "speech"},
                    {"attempt": 2, "transcript": "是的", "verdict": "ACCEPT", "input": "speech"},
                ],
            },
            {
                "id": "q2",
                "prompt": "您是否本人自愿投保？",
                "clause": "",
                "audio": [],
                "attempts": [{"attempt": 1, "transcript": "是", "verdict": "ACCEPT", "input": "text"}],
            },
        ],
        warnings=[(T0 + timedelta(seconds=90), "several_faces", 2.5)],
        timeline=[(a, k, "q1" if k == "question_asked" else "") for a, k in zip(at, kinds, strict=False)],
        artifacts=[{"role": "recording_chunk", "sha256": "e" * 64, "sm3": "f" * 64, "size": 1234}],
        id_photo=(FACES / "obama.jpg").read_bytes(),
        face_snapshot=(FACES / "obama2.jpg").read_bytes(),
        liveness_frame=(FACES / "obama3.jpg").read_bytes(),
        reasks=1,
        qc={
            "ruleset": "qc-test",
            "verdict": "PASS",
            "rules": [
                {
                    "rule": "identity_verified",
                    "title": "Signer's identity verified",
                    "clause": "《电子签名法》第十三条",
                    "verdict": "PASS",
                    "detail": "identity verified over 5 frames (largest distance 0.412, threshold 0.600)",
                    "finding": "identity_verified",
                    "facts": {"distance": "0.412", "threshold": "0.600", "frames": 5},
                },
                {  # a check recorded before findings had codes keeps its words
                    "rule": "system_time",
                    "title": "Session time system-stamped",
                    "clause": "《电子签名法》第八条",
                    "verdict": "PASS",
                    "detail": "every event stamped by the server clock, in order",
                },
            ],
        },
    )


def pdf_text(pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_a_chinese_session_reads_in_chinese_with_local_times_and_no_codes(tmp_path: Path) -> None:
    text = pdf_text(render(data()), tmp_path)
    flat = text.replace("\n", "")
    for words in (
        "出证报告",
        "人脸比对",
        "身份核验通过",
        "最大距离 0.412",
        "阈值 0.600",
        "眨眼 (通过)",
        "张嘴 (通过)",
    ):
        assert words in flat, words
    assert "播报问题" in flat and "会话创建" in flat  # the timeline's events in words
    assert "方式: 语音" in flat and "方式: 文字输入" in flat  # spoken and typed answers told apart
    assert "否定" in flat and "肯定" in flat
    assert "画面中有多人" in flat and "持续 2.5 秒后提示" in flat
    assert "签署人身份核验" in flat and "5 帧与证件照比对" in flat  # the QC rule and finding in Chinese
    assert "every event stamped by the server clock" in flat  # an old finding keeps its recorded words
    assert "已签署并封存" in flat and "录像片段" in flat
    # every time in the session's zone with its offset, each on one line (never broken mid-time)
    assert "2026-12-06 15:30:05 +08:00" in text and "2026-12-06 15:30:05.123 +08:00" in text
    assert "07:30:05" not in text
    for code in (
        "question_asked",
        "session_created",
        "identity_verified",
        "several_faces",
        "liveness_passed",
    ):
        assert code not in flat, code
    assert "[0.4" not in flat  # the decision, not a list of raw distances


def test_an_english_session_reads_in_english_in_its_own_time_zone(tmp_path: Path) -> None:
    text = pdf_text(render(data("en", "Europe/London")), tmp_path).replace("\n", " ")
    assert "largest distance 0.412" in text and "blink (done)" in text and "question asked" in text
    assert "2026-12-06 07:30:05 +00:00" in text
    assert "出证报告" not in text


def test_the_id_photo_the_live_snapshot_and_a_liveness_frame_are_shown(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(render(data()))
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True)
    assert len(images.stdout.strip().splitlines()) - 2 == 3  # header lines, then one line per picture
    bare = replace(data(), id_photo=None, liveness_frame=None)
    path.write_bytes(render(bare))
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True)
    assert len(images.stdout.strip().splitlines()) - 2 == 1


def test_the_agent_is_named_matched_and_shown_and_who_was_on_camera_is_said(tmp_path: Path) -> None:
    agent = {"label": "销售人员", "name": "李四", "number": "02000144000080002020000123", "distance": 0.3812}
    on_camera = [("both", 412.5), ("signer", 6.0), ("several", 1.5)]
    d = replace(data(), agent=agent, agent_photo=data().id_photo, on_camera=on_camera)
    text = pdf_text(render(d), tmp_path).replace("\n", " ")
    assert "业务人员（销售人员）" in text and "李四 02000144000080002020000123" in text
    assert "业务人员与其照片比对：最大距离 0.381，阈值 0.6" in text
    assert "签署人与业务人员同框 412.5 秒；签署人 6.0 秒；多人（超出约定人员） 1.5 秒" in text
    path = tmp_path / "agent.pdf"
    path.write_bytes(render(d))
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True)
    assert len(images.stdout.strip().splitlines()) - 2 == 4  # the agent's photo beside the other three
    english = pdf_text(render(replace(d, language="en")), tmp_path).replace("\n", " ")
    assert "Agent (销售人员)" in english and "the signer and the agent 412.5 s" in english


@pytest.mark.parametrize("rows", [1, 12, 25, 40, 60])
def test_the_last_page_is_never_a_stray_line(rows: int, tmp_path: Path) -> None:
    """The seal, the assurance and the QR are kept together, so the last page carries at least them."""
    d = data()
    d = replace(d, timeline=[(T0 + timedelta(seconds=i), "artifact_stored", "") for i in range(rows)])
    pdf = render(d)
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    pages = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(path)], capture_output=True, text=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    last = pdf_text(pdf, tmp_path, "-f", str(pages), "-l", str(pages))
    assert "封存与时间戳" in last and "扫码或访问以在线核验" in last


def test_local_times_carry_their_offset_and_never_break() -> None:
    assert local_time(T0, "Asia/Shanghai") == "2026-12-06\u00a015:30:05\u00a0+08:00"
    assert local_time(T0, "America/New_York", millis=True) == "2026-12-06\u00a002:30:05.123\u00a0-05:00"


def test_every_code_the_domain_has_has_words_in_both_languages() -> None:
    for table, codes in (
        (EVENTS, [k.value for k in EventKind]),
        (STATES, [s.value for s in SessionState]),
        (ACTIONS, [a.value for a in LivenessAction]),
        (WARNINGS, [w.value for w in WarningKind]),
    ):
        for language in ("zh", "en"):
            assert set(codes) <= set(table[language]), (language, set(codes) - set(table[language]))
    assert {r.rule for r in RULES} == set(RULE_TITLES_ZH)
    assert all(len(pair) == 2 for pair in FINDINGS.values())
    assert VIEWABLE_ROLES | {"recording_chunk"} <= set(ROLES["zh"]) == set(ROLES["en"])


def test_a_finding_is_worded_from_its_figures() -> None:
    facts = {"present": "97.0%", "observed_s": "120.0", "min_present": "90%", "several_s": "0.0"}
    facts |= {"several_limit_s": 3.0, "other_s": "0.0", "other_limit_s": 3.0}
    assert finding_text("monitoring", facts, "zh").startswith("人脸在画面中 97.0%（共 120.0 秒")
    assert finding_text("monitoring", facts, "en").startswith("face present 97.0% of 120.0 s")
    with pytest.raises(KeyError):
        finding_text("monitoring", {}, "zh")


def test_the_organisation_seal_and_the_signers_authority_are_reported_in_chinese(tmp_path: Path) -> None:
    from dualsign.signing.marks import round_seal

    organisation = {
        "name": "北京示例建设工程有限公司",
        "credit_code": "91350100M000100Y43",
        "certificate_serial": "30580d7d4444df26",
        "seal_role": "authorised_agent",
        "authorisation_ref": "SQWT-2026-0042",
        "authorisation_sha256": "ab" * 32,
    }
    seal = round_seal(organisation["name"], organisation["credit_code"])
    report = render(replace(data(), organisation=organisation, organisation_seal=seal))
    flat = pdf_text(report, tmp_path).replace("\n", "")
    assert "加盖单位章" in flat and "北京示例建设工程有限公司（统一社会信用代码 91350100M000100Y43）" in flat
    assert "签署人身份：授权代理人" in flat and "SQWT-2026-0042" in flat and "ab" * 8 in flat
    assert "authorised_agent" not in flat  # the role in words, not its code
    without = pdf_text(render(data()), tmp_path).replace("\n", "")
    assert "加盖单位章" not in without  # no organisation, no row
