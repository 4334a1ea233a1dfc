"""The quality check's findings and rule titles in words, in Chinese and in English.

A rule records a finding as a code with its figures (``qc.Finding``); the English wording is kept with
it in the chain (``detail``) and the evidence report words the same figures in the session's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Facts = Mapping[str, Any]
Wording = Callable[[Facts], str]

RULE_TITLES_ZH: dict[str, str] = {
    "consent_before_recording": "录音录像前取得授权同意",
    "prompt_played": "规定内容完整播放",
    "identity_verified": "签署人身份核验",
    "answers_affirmed": "必答问题均获肯定答复",
    "liveness_passed": "活体检测通过",
    "face_presence": "约定人员全程在镜头前、无他人",
    "signed_on_camera": "签署过程在录像中",
    "recording_complete": "录像完整、连续、音画同步",
    "recording_reconciled": "录像复核与现场判断一致",
    "system_time": "时间由系统统一记录",
    "operation_trace": "页面操作轨迹覆盖全程",
}

VERDICTS: dict[str, dict[str, str]] = {
    "zh": {"PASS": "通过", "FAIL": "不通过", "NEEDS_REVIEW": "需人工复核"},
    "en": {"PASS": "PASS", "FAIL": "FAIL", "NEEDS_REVIEW": "NEEDS REVIEW"},
}


def _answers_en(answers: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(
        f"{a['question']}#{a['attempt']} ({a.get('recording') or 'no verdict'},"
        + (f" heard {a['transcript']!r})" if a.get("transcript") else " heard nothing)")
        for a in answers
    )


def _answers_zh(answers: Sequence[Mapping[str, Any]]) -> str:
    return "，".join(
        f"{a['question']} 第{a['attempt']}次（录像判断：{a.get('recording') or '无'}；"
        + (f"识别为“{a['transcript']}”）" if a.get("transcript") else "未识别到语音）")
        for a in answers
    )


def _cut_en(f: Facts) -> str:
    return "; ".join(
        f"{c['question']} attempt {c['attempt']} not played in full ("
        + ", ".join(f"{p['role']} {p['played_s']} of {p['duration_s']} s" for p in c["parts"])
        + ")"
        for c in f["cut"]
    )


def _cut_zh(f: Facts) -> str:
    return "；".join(
        f"{c['question']} 第{c['attempt']}次未完整播放（"
        + "，".join(
            f"{_ROLE_ZH.get(p['role'], p['role'])} 播放 {p['played_s']} 秒／共 {p['duration_s']} 秒"
            for p in c["parts"]
        )
        + "）"
        for c in f["cut"]
    )


_ROLE_ZH = {"question": "问题", "reminder": "提示语", "preamble": "前导语"}


def _recheck_en(f: Facts) -> str:
    parts = []
    if f["unconfirmed"]:
        parts.append(f"accepted live, not confirmed by the recording: {_answers_en(f['unconfirmed'])}")
    if f["unplaced"]:
        parts.append(f"answers no recording segment covers: {', '.join(f['unplaced'])}")
    parts += [f"{d['measure']}: live {d['live']}, recording {d['recording']}" for d in f["disagreements"]]
    return "; ".join(parts)[:500]


def _recheck_zh(f: Facts) -> str:
    parts = []
    if f["unconfirmed"]:
        parts.append(f"现场确认、录像复核未能印证：{_answers_zh(f['unconfirmed'])}")
    if f["unplaced"]:
        parts.append(f"没有录像片段覆盖的回答：{'，'.join(f['unplaced'])}")
    parts += [f"{d['measure']}：现场 {d['live']}，录像 {d['recording']}" for d in f["disagreements"]]
    return "；".join(parts)[:500]


FINDINGS: dict[str, tuple[Wording, Wording]] = {  # code: (English, Chinese)
    "chunks_without_consent": (
        lambda f: f"{f['chunks']} recording chunks stored without consent",
        lambda f: f"未取得授权即保存了 {f['chunks']} 段录像",
    ),
    "no_consent_nothing_recorded": (
        lambda f: "no consent given and nothing recorded",
        lambda f: "未授权，且未进行任何录制",
    ),
    "chunks_before_consent": (
        lambda f: f"{f['chunks']} recording chunks stored before consent",
        lambda f: f"授权之前保存了 {f['chunks']} 段录像",
    ),
    "consent_texts_missing": (
        lambda f: "consent given, but the consent texts were not recorded with it",
        lambda f: "已授权，但未记录授权文本",
    ),
    "consent_before_recording": (
        lambda f: "consent to recording and, separately stated, to biometric processing before recording",
        lambda f: "录制前已取得录音录像授权，并单独取得人脸信息处理授权",
    ),
    "no_question_asked": (lambda f: "no question was asked", lambda f: "未提出任何问题"),
    "prompts_cut": (_cut_en, _cut_zh),
    "prompts_without_audio": (
        lambda f: f"{f['silent']} of {f['asked']} prompts have no audio recorded (text only)",
        lambda f: f"{f['asked']} 次提问中有 {f['silent']} 次没有语音播报记录（仅文字）",
    ),
    "prompts_unreported": (
        lambda f: (
            f"the page did not report playing {len(f['unreported'])} of {f['asked']} prompts: "
            + ", ".join(f"{q} attempt {a}" for q, a in f["unreported"])
        ),
        lambda f: (
            f"{f['asked']} 次提问中有 {len(f['unreported'])} 次页面未报告播放情况："
            + "，".join(f"{q} 第{a}次" for q, a in f["unreported"])
        ),
    ),
    "prompts_played": (
        lambda f: f"{f['asked']} prompts played in full, as the page reported against the recorded audio",
        lambda f: f"{f['asked']} 次提问均已完整播放（页面报告与留存音频相符）",
    ),
    "identity_verified": (
        lambda f: (
            f"identity verified over {f['frames']} frames "
            f"(largest face distance {f['distance']}, threshold {f['threshold']})"
        ),
        lambda f: (
            f"人脸比对通过：{f['frames']} 帧与证件照比对，最大距离 {f['distance']}，阈值 {f['threshold']}"
            "（小于阈值为同一人）"
        ),
    ),
    "identity_verified_with_agent": (
        lambda f: (
            f"identity verified over {f['frames']} frames with the agent on camera (largest face "
            f"distance: signer {f['distance']}, agent {f['agent_distance']}; threshold {f['threshold']})"
        ),
        lambda f: (
            f"人脸比对通过：{f['frames']} 帧中签署人与业务人员分别与各自证件照比对，最大距离："
            f"签署人 {f['distance']}，业务人员 {f['agent_distance']}；"
            f"阈值 {f['threshold']}（小于阈值为同一人）"
        ),
    ),
    "agent_not_verified": (
        lambda f: "the template puts an agent on camera and the agent's face was not compared",
        lambda f: "模板约定业务人员同框，但未对业务人员进行人脸比对",
    ),
    "identity_verified_no_figures": (
        lambda f: "identity verified (no distances recorded)",
        lambda f: "身份核验通过（未记录比对距离）",
    ),
    "identity_waived": (
        lambda f: f"identity check waived: {f['reason']}",
        lambda f: f"身份核验已豁免：{f['reason']}",
    ),
    "identity_failed": (lambda f: "identity check failed", lambda f: "身份核验未通过"),
    "identity_never_verified": (lambda f: "identity never verified", lambda f: "未完成身份核验"),
    "liveness_passed": (
        lambda f: f"liveness passed on attempt {f['attempt']}",
        lambda f: f"第 {f['attempt']} 次活体检测通过",
    ),
    "liveness_waived": (
        lambda f: f"liveness waived: {f['reason']}",
        lambda f: f"活体检测已豁免：{f['reason']}",
    ),
    "liveness_not_passed": (lambda f: "liveness not passed", lambda f: "活体检测未通过"),
    "not_affirmed": (
        lambda f: f"not affirmed: {f['questions']}",
        lambda f: f"未获肯定答复：{f['questions']}",
    ),
    "accepted_after_flag": (
        lambda f: f"accepted only after review flag: {f['questions']}",
        lambda f: f"经标记待复核后才确认：{f['questions']}",
    ),
    "typed_not_allowed": (
        lambda f: f"typed, not spoken, where the template requires spoken answers: {f['questions']}",
        lambda f: f"模板要求口头回答，但以下问题为文字输入：{f['questions']}",
    ),
    "affirmed_some_typed": (
        lambda f: (
            f"{f['required']} required questions affirmed ({f['reasks']} re-asks); "
            f"typed answers (the template allows them): {f['typed']}"
        ),
        lambda f: (
            f"{f['required']} 个必答问题均获肯定答复（重问 {f['reasks']} 次）；"
            f"文字输入的回答（模板允许）：{f['typed']}"
        ),
    ),
    "affirmed": (
        lambda f: f"{f['required']} required questions affirmed ({f['reasks']} re-asks)",
        lambda f: f"{f['required']} 个必答问题均获肯定答复（重问 {f['reasks']} 次）",
    ),
    "introduction_unconfirmed": (
        lambda f: (
            f"the agent's introduction ({f['question']}) was heard, but neither the registered name nor "
            f"number was recognised in it (heard {f['transcript']!r}): a person checks the recording"
        ),
        lambda f: (
            f"业务人员自我介绍（{f['question']}）已录制，但识别结果中未找到登记的姓名或证件编号"
            f"（识别为“{f['transcript']}”），需人工核对录像"
        ),
    ),
    "monitoring_without_agent": (
        lambda f: "the template puts an agent on camera but faces were monitored for the signer alone",
        lambda f: "模板约定业务人员同框，但人脸监测仅针对签署人一人",
    ),
    "monitoring_with_agent": (
        lambda f: (
            f"signer and agent both on camera {f['present']} of {f['observed_s']} s (minimum "
            f"{f['min_present']}); one of them away {f['missing_s']} s; a third face {f['extra_s']} s "
            f"(limit {f['extra_limit_s']} s); an unknown face {f['other_s']} s (limit {f['other_limit_s']} s)"
        ),
        lambda f: (
            f"签署人与业务人员同时在画面中 {f['present']}"
            f"（共 {f['observed_s']} 秒，最低 {f['min_present']}）；其中一人离开 {f['missing_s']} 秒；"
            f"出现第三人 {f['extra_s']} 秒（上限 {f['extra_limit_s']} 秒）；"
            f"出现身份不明的人 {f['other_s']} 秒（上限 {f['other_limit_s']} 秒）"
        ),
    ),
    "no_monitoring_figures": (
        lambda f: "no face monitoring figures recorded",
        lambda f: "未记录人脸监测数据",
    ),
    "monitoring": (
        lambda f: (
            f"face present {f['present']} of {f['observed_s']} s (minimum {f['min_present']}); "
            f"several faces {f['several_s']} s (limit {f['several_limit_s']} s); "
            f"another person {f['other_s']} s (limit {f['other_limit_s']} s)"
        ),
        lambda f: (
            f"人脸在画面中 {f['present']}（共 {f['observed_s']} 秒，最低 {f['min_present']}）；"
            f"多人同框 {f['several_s']} 秒（上限 {f['several_limit_s']} 秒）；"
            f"非本人 {f['other_s']} 秒（上限 {f['other_limit_s']} 秒）"
        ),
    ),
    "not_signed": (lambda f: "the documents were not signed", lambda f: "文件未签署"),
    "signing_not_recorded": (
        lambda f: "no recording covers the moment of signing",
        lambda f: "签署时刻没有录像覆盖",
    ),
    "signing_recorded": (
        lambda f: "recording chunks arrived before and after the signature",
        lambda f: "签署前后均有录像片段",
    ),
    "no_recording": (lambda f: "no recording was uploaded", lambda f: "未上传录像"),
    "recording_not_closed": (lambda f: "the recording was never closed", lambda f: "录像未正常结束"),
    "recording_gaps": (lambda f: f"recording has gaps: {f['gaps']}", lambda f: f"录像有缺口：{f['gaps']}"),
    "recording_short": (
        lambda f: f"{f['recorded_s']} s recorded for {f['span_s']} s of session (from consent to the end)",
        lambda f: f"会话（授权至结束）共 {f['span_s']} 秒，仅录制 {f['recorded_s']} 秒",
    ),
    "segment_unreadable": (
        lambda f: f"segment {f['segment']} cannot be read: {f['error']}",
        lambda f: f"第 {f['segment']} 段录像无法读取：{f['error']}",
    ),
    "segment_no_audio": (
        lambda f: f"segment {f['segment']} has no audio",
        lambda f: f"第 {f['segment']} 段录像没有声音",
    ),
    "segment_no_video": (
        lambda f: f"segment {f['segment']} has no video",
        lambda f: f"第 {f['segment']} 段录像没有画面",
    ),
    "segment_out_of_sync": (
        lambda f: f"segment {f['segment']}: audio {f['audio_s']} s and video {f['video_s']} s out of sync",
        lambda f: f"第 {f['segment']} 段录像音画不同步：声音 {f['audio_s']} 秒，画面 {f['video_s']} 秒",
    ),
    "recording_closed_by_other": (
        lambda f: (
            f"{f['chunks']} chunks, no gap, but the page did not close the recording ({f['closed_by']})"
        ),
        lambda f: f"{f['chunks']} 段录像、无缺口，但录像不是由签署页面结束的（{f['closed_by']}）",
    ),
    "recording_complete_in_sync": (
        lambda f: (
            f"{f['chunks']} chunks in {f['segments']} segments, {f['recorded_s']} s, no gap, "
            f"audio and video in sync in {f['in_sync']} segment(s)"
        ),
        lambda f: (
            f"{f['segments']} 个录制段共 {f['chunks']} 段录像，{f['recorded_s']} 秒，无缺口，"
            f"{f['in_sync']} 个录制段音画同步"
        ),
    ),
    "recording_complete": (
        lambda f: f"{f['chunks']} chunks in {f['segments']} segments, {f['recorded_s']} s, no gap",
        lambda f: f"{f['segments']} 个录制段共 {f['chunks']} 段录像，{f['recorded_s']} 秒，无缺口",
    ),
    "nothing_to_recheck": (lambda f: "nothing was recorded to re-check", lambda f: "没有可复核的录像"),
    "not_rechecked": (
        lambda f: "the recording was not re-checked after the session (post-hoc analysis is off)",
        lambda f: "会话结束后未对录像进行复核（事后分析未开启）",
    ),
    "recheck_errors": (lambda f: str(f["errors"]), lambda f: f"录像复核出错：{f['errors']}"),
    "recording_contradicts": (
        lambda f: f"accepted live, but the recording says no: {_answers_en(f['answers'])}",
        lambda f: f"现场判定为肯定，但录像复核为否定：{_answers_zh(f['answers'])}",
    ),
    "recheck_problems": (_recheck_en, _recheck_zh),
    "nothing_to_recheck_live": (
        lambda f: "nothing to re-check: no spoken answer was accepted and no face was monitored live",
        lambda f: "无需复核：没有被确认的口头回答，现场也未监测人脸",
    ),
    "rechecked_with_faces": (
        lambda f: (
            f"{f['accepted']} accepted answers heard again in the recording; "
            f"face figures agree over {f['frames']} frames"
        ),
        lambda f: (
            f"录像中重新识别 {f['accepted']} 个已确认回答，结果一致；{f['frames']} 帧人脸数据与现场一致"
        ),
    ),
    "rechecked": (
        lambda f: f"{f['accepted']} accepted answers heard again in the recording",
        lambda f: f"录像中重新识别 {f['accepted']} 个已确认回答，结果一致",
    ),
    "time_backwards": (lambda f: "event times go backwards", lambda f: "事件时间出现倒序"),
    "signer_clock_skewed": (
        lambda f: f"the signer's clock differs from system time by over {f['skew_s']} s",
        lambda f: f"签署人设备时钟与系统时间相差超过 {f['skew_s']} 秒",
    ),
    "trace_unreadable": (
        lambda f: f"the page's operation trace cannot be read back: {f['error']}",
        lambda f: f"页面操作轨迹无法读取：{f['error']}",
    ),
    "trace_missing": (
        lambda f: "the page sent no operation trace: the screens and operations cannot be replayed",
        lambda f: "页面未上传操作轨迹：无法回溯签署人看到的页面和所做的操作",
    ),
    "trace_not_read": (
        lambda f: f"{f['batches']} trace batches stored but not read for the check",
        lambda f: f"已保存 {f['batches']} 批操作轨迹，但质检未读取",
    ),
    "trace_batches_missing": (
        lambda f: f"trace batches missing (lost, never re-sent): {f['missing']}",
        lambda f: f"操作轨迹缺少批次（丢失且未补传）：{f['missing']}",
    ),
    "trace_incomplete": (
        lambda f: f"the operation trace does not show: {f['missing']}",
        lambda f: f"操作轨迹未显示：{f['missing']}",
    ),
    "trace_covers": (
        lambda f: (
            f"{f['entries']} operations in {f['batches']} batches: {f['screens']} screens, "
            f"{f['documents']} documents displayed; "
            f"{f.get('texts', 0)} displayed texts as the server sent them"
        ),
        lambda f: (
            f"共 {f['batches']} 批 {f['entries']} 条操作记录：{f['screens']} 个页面，"
            f"展示 {f['documents']} 份文件；{f.get('texts', 0)} 段显示文本与服务器下发一致"
        ),
    ),
    "time_in_order": (
        lambda f: "every event stamped by the server clock, in order",
        lambda f: "所有事件均由服务器时钟记录，顺序正确",
    ),
}


def finding_text(code: str, facts: Facts, language: str) -> str:
    """A finding in words; ``KeyError`` for an unknown code or a figure the wording needs but lacks."""
    en, zh = FINDINGS[code]
    return (zh if language == "zh" else en)(facts)
