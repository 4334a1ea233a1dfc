"""The evidence report's words for the session's events, states, actions and warnings, in each language.

A code the report has no word for is shown as the code itself (a newer event read by an older report
still says what happened); ``tests/unit/test_report_terms.py`` keeps every code of the domain covered.
"""

from __future__ import annotations

from typing import Any

EVENTS: dict[str, dict[str, str]] = {
    "zh": {
        "session_created": "会话创建",
        "signer_opened": "签署人打开链接",
        "consent_given": "签署人授权同意",
        "consent_refused": "签署人拒绝授权",
        "identity_attempt_failed": "人脸比对未通过（本次）",
        "identity_verified": "身份核验通过",
        "identity_waived": "身份核验豁免",
        "identity_failed": "身份核验失败",
        "liveness_challenge_issued": "下发活体动作指令",
        "liveness_attempt_failed": "活体检测未通过（本次）",
        "liveness_passed": "活体检测通过",
        "liveness_waived": "活体检测豁免",
        "liveness_failed": "活体检测失败",
        "question_asked": "播报问题",
        "question_repeated": "重复播报问题",
        "prompt_played": "页面报告播放情况",
        "answer_judged": "回答判定",
        "question_passed": "问题确认",
        "question_flagged": "问题标记待复核",
        "question_failed": "问题未获确认",
        "questions_completed": "问答完成",
        "document_viewed": "阅读文件",
        "documents_reviewed": "文件阅读完成",
        "document_signed": "文件签署（PAdES）",
        "signature_applied": "签署完成",
        "monitoring_warning": "监控提示",
        "monitoring_summary": "人脸监测汇总",
        "artifact_stored": "证据文件保存",
        "recording_closed": "录像结束",
        "recording_analysed": "录像事后复核",
        "qc_evaluated": "自动质检",
        "review_decided": "人工质检结论",
        "session_failed": "会话失败",
        "session_cancelled": "会话取消",
        "session_expired": "会话过期",
        "evidence_sealed": "证据封存",
        "sealing_failed": "封存失败",
        "legal_hold_placed": "司法保全冻结",
        "legal_hold_released": "解除司法保全",
        "evidence_deleted": "证据删除（留存期满）",
    },
    "en": {
        "session_created": "session created",
        "signer_opened": "signer opened the link",
        "consent_given": "consent given",
        "consent_refused": "consent refused",
        "identity_attempt_failed": "face match attempt failed",
        "identity_verified": "identity verified",
        "identity_waived": "identity check waived",
        "identity_failed": "identity check failed",
        "liveness_challenge_issued": "liveness actions issued",
        "liveness_attempt_failed": "liveness attempt failed",
        "liveness_passed": "liveness passed",
        "liveness_waived": "liveness waived",
        "liveness_failed": "liveness failed",
        "question_asked": "question asked",
        "question_repeated": "question repeated",
        "prompt_played": "prompt playback reported",
        "answer_judged": "answer judged",
        "question_passed": "question affirmed",
        "question_flagged": "question flagged for review",
        "question_failed": "question not affirmed",
        "questions_completed": "questions completed",
        "document_viewed": "document viewed",
        "documents_reviewed": "documents reviewed",
        "document_signed": "document signed (PAdES)",
        "signature_applied": "signing complete",
        "monitoring_warning": "monitoring warning",
        "monitoring_summary": "face monitoring summary",
        "artifact_stored": "evidence file stored",
        "recording_closed": "recording closed",
        "recording_analysed": "recording re-checked",
        "qc_evaluated": "automatic quality check",
        "review_decided": "review decision",
        "session_failed": "session failed",
        "session_cancelled": "session cancelled",
        "session_expired": "session expired",
        "evidence_sealed": "evidence sealed",
        "sealing_failed": "sealing failed",
        "legal_hold_placed": "legal hold placed",
        "legal_hold_released": "legal hold released",
        "evidence_deleted": "evidence deleted (retention over)",
    },
}

STATES: dict[str, dict[str, str]] = {
    "zh": {
        "created": "已创建（未打开）",
        "consent": "待授权",
        "identity": "身份核验中",
        "liveness": "活体检测中",
        "questions": "问答中",
        "document_review": "阅读文件中",
        "signing": "签署中",
        "signed": "已签署",
        "sealed": "已签署并封存",
        "refused": "签署人拒绝授权",
        "failed": "未完成（失败）",
        "cancelled": "已取消",
        "expired": "已过期",
    },
    "en": {
        "created": "created (not opened)",
        "consent": "awaiting consent",
        "identity": "identity check",
        "liveness": "liveness check",
        "questions": "questions",
        "document_review": "document review",
        "signing": "signing",
        "signed": "signed",
        "sealed": "signed and sealed",
        "refused": "consent refused",
        "failed": "failed",
        "cancelled": "cancelled",
        "expired": "expired",
    },
}

ACTIONS: dict[str, dict[str, str]] = {
    "zh": {
        "blink": "眨眼",
        "open_mouth": "张嘴",
        "turn_left": "向左转头",
        "turn_right": "向右转头",
        "nod": "点头",
    },
    "en": {
        "blink": "blink",
        "open_mouth": "open mouth",
        "turn_left": "turn left",
        "turn_right": "turn right",
        "nod": "nod",
    },
}

WARNINGS: dict[str, dict[str, str]] = {
    "zh": {
        "no_face": "画面中无人脸",
        "several_faces": "画面中有多人",
        "not_the_signer": "画面中不是签署人本人",
        "face_too_small": "人脸过小",
        "too_dark": "光线过暗",
        "blurred": "画面模糊",
        "party_missing": "签署人或业务人员离开画面",
        "extra_face": "画面中出现第三人",
        "unknown_face": "画面中有身份不明的人",
    },
    "en": {
        "no_face": "no face in view",
        "several_faces": "several faces in view",
        "not_the_signer": "not the signer in view",
        "face_too_small": "face too small",
        "too_dark": "too dark",
        "blurred": "blurred",
        "party_missing": "the signer or the agent out of view",
        "extra_face": "a third person in view",
        "unknown_face": "an unknown person in view",
    },
}

ROLES: dict[str, dict[str, str]] = {
    "zh": {
        "identity_photo": "证件照",
        "agent_photo": "业务人员照片",
        "document": "待签文件",
        "signed_document": "已签文件",
        "signature_mark": "手写签名",
        "organisation_seal": "单位电子印章图样",
        "seal_authorisation": "授权委托书",
        "face_snapshot": "人脸抓拍",
        "liveness_frame": "活体检测画面",
        "answer_audio": "回答录音",
        "prompt_audio": "播报音频",
        "recording_chunk": "录像片段",
        "recording": "录像",
        "operation_trace": "页面操作轨迹",
    },
    "en": {
        "identity_photo": "ID photo",
        "agent_photo": "agent's photo",
        "document": "document",
        "signed_document": "signed document",
        "signature_mark": "handwritten signature",
        "organisation_seal": "organisation seal picture",
        "seal_authorisation": "authorisation (power of attorney)",
        "face_snapshot": "face snapshot",
        "liveness_frame": "liveness frame",
        "answer_audio": "answer audio",
        "prompt_audio": "prompt audio",
        "recording_chunk": "recording chunk",
        "recording": "recording",
        "operation_trace": "page operation trace",
    },
}

# in what capacity the signer applied an organisation's seal (``domain.organisations.SealRole``)
SEAL_ROLES: dict[str, dict[str, str]] = {
    "zh": {"legal_representative": "法定代表人", "authorised_agent": "授权代理人"},
    "en": {"legal_representative": "legal representative", "authorised_agent": "authorised agent"},
}

# who was on camera (the monitoring's presence runs)
PRESENCE: dict[str, dict[str, str]] = {
    "zh": {
        "signer": "签署人",
        "both": "签署人与业务人员同框",
        "agent": "仅业务人员",
        "several": "多人（超出约定人员）",
        "other": "身份不明的人",
        "none": "无人",
    },
    "en": {
        "signer": "the signer",
        "both": "the signer and the agent",
        "agent": "the agent alone",
        "several": "more people than declared",
        "other": "someone unknown",
        "none": "nobody",
    },
}

# how an answer was given
INPUTS: dict[str, dict[str, str]] = {
    "zh": {"speech": "语音", "text": "文字输入", "nod": "点头"},
    "en": {"speech": "spoken", "text": "typed", "nod": "nodded"},
}

VERDICTS: dict[str, dict[str, str]] = {
    "zh": {"ACCEPT": "肯定", "REJECT": "否定", "UNCLEAR": "不明确", "NO_SPEECH": "未作答"},
    "en": {"ACCEPT": "ACCEPT", "REJECT": "REJECT", "UNCLEAR": "UNCLEAR", "NO_SPEECH": "no answer"},
}


def term(table: dict[str, dict[str, str]], language: str, code: Any) -> str:
    """The word for ``code`` in ``language`` (zh for any Chinese session), or the code itself."""
    words = table["zh" if language == "zh" else "en"]
    return words.get(str(code), str(code))


# the operation trace (屏幕操作过程): the page's screens, the operations listed, the buttons by id
SCREENS: dict[str, dict[str, str]] = {
    "zh": {
        "loading": "加载",
        "consent": "授权同意页",
        "refuse_confirm": "确认拒绝页",
        "permission": "摄像头/麦克风权限提示",
        "identity": "身份核验页",
        "liveness": "活体检测页",
        "question": "问答页",
        "documents": "文件阅读页",
        "signing": "手写签名页",
        "ended": "结束页",
        "error": "错误提示页",
    },
    "en": {
        "loading": "loading",
        "consent": "consent",
        "refuse_confirm": "confirm refusal",
        "permission": "camera/microphone help",
        "identity": "identity check",
        "liveness": "liveness check",
        "question": "question",
        "documents": "document reading",
        "signing": "handwritten signature",
        "ended": "final screen",
        "error": "error",
    },
}

TRACE_OPS: dict[str, dict[str, str]] = {
    "zh": {
        "click": "点击",
        "check": "勾选",
        "text_size": "大字模式",
        "language": "切换语言",
        "zoom": "文件缩放",
        "on": "开",
        "off": "关",
    },
    "en": {
        "click": "clicked",
        "check": "ticked",
        "text_size": "Large text",
        "language": "language",
        "zoom": "document zoom",
        "on": "on",
        "off": "off",
    },
}

TARGETS: dict[str, dict[str, str]] = {
    "zh": {
        "agree": "“同意并开始”",
        "refuse": "“拒绝”",
        "refuse-back": "“返回”",
        "refuse-confirm-yes": "“确认拒绝”",
        "c-rec": "录音录像授权",
        "c-bio": "生物特征信息授权",
        "consent-recording": "录音录像授权文本",
        "consent-biometric": "生物特征授权文本",
        "read-done": "“已阅读完毕”",
        "sign": "“提交签名”",
        "clear": "“清除签名”",
        "repeat": "“再听一遍”",
        "zoom-in": "“放大”",
        "zoom-out": "“缩小”",
        "elderly": "“大字”",
        "lang": "“中文/EN”",
        "retry": "“重试”",
    },
    "en": {
        "agree": "“Agree and start”",
        "refuse": "“Refuse”",
        "refuse-back": "“Back”",
        "refuse-confirm-yes": "“Yes, refuse”",
        "c-rec": "recording consent",
        "c-bio": "biometric consent",
        "consent-recording": "recording consent text",
        "consent-biometric": "biometric consent text",
        "read-done": "“I have read the documents”",
        "sign": "“Submit signature”",
        "clear": "“Clear”",
        "repeat": "“Repeat”",
        "zoom-in": "“Zoom in”",
        "zoom-out": "“Zoom out”",
        "elderly": "“Large text”",
        "lang": "“中文/EN”",
        "retry": "“Try again”",
    },
}

TRACE_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "trace": "操作轨迹",
        "trace_head": "共 {batches} 批、{entries} 条操作记录（签署人设备时钟 {start} 至 {end}）；"
        "离开页面 {away} 次，共 {away_s} 秒。",
        "trace_none": "页面未上传操作轨迹。",
        "trace_error": "操作轨迹无法读取：{error}",
        "screens": "页面及停留时间",
        "screen_visit": "{screen}",
        "screen_question": "{screen}（{question} 第{attempt}次）",
        "seconds": "{s} 秒",
        "documents": "文件阅读（每页展示时间）",
        "document": "文件 {n}（SHA-256 {digest}…）",
        "page": "第 {page} 页",
        "page_read": "已阅至页底",
        "page_not_read": "未阅至页底",
        "operations": "确认与选择操作",
        "clock_note": "页面时间为签署人设备时钟（{zone}）；事件时间以服务器时钟为准。",
    },
    "en": {
        "trace": "Operation trace",
        "trace_head": "{entries} operations in {batches} batches (signer's device clock {start} to "
        "{end}); left the page {away} times, {away_s} s in all.",
        "trace_none": "The page sent no operation trace.",
        "trace_error": "The operation trace cannot be read: {error}",
        "screens": "Screens and time on each",
        "screen_visit": "{screen}",
        "screen_question": "{screen} ({question}, attempt {attempt})",
        "seconds": "{s} s",
        "documents": "Documents read (time each page was on screen)",
        "document": "document {n} (SHA-256 {digest}…)",
        "page": "page {page}",
        "page_read": "read to its bottom edge",
        "page_not_read": "not read to its bottom edge",
        "operations": "Confirmations and choices",
        "clock_note": "Page times are the signer's device clock ({zone}); event times are the server's.",
    },
}
