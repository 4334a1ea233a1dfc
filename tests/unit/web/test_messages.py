"""The signer page's message catalogue (web/messages.json): one per language, complete, and covering
every code the server sends the page (verdicts, warnings, actions, identity and ending reasons)."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest

from dualsign.domain.matching import Verdict
from dualsign.domain.monitoring import WarningKind
from dualsign.domain.outcome import FAILURE_CODES, REASON_CODES
from dualsign.domain.templates import LivenessAction

WEB = resources.files("dualsign.web")
LANGS = ("zh-CN", "en")
PLACEHOLDER = re.compile(r"\{\w+\}")
CJK = re.compile(r"[\u3400-\u9fff]")


def catalogue() -> dict[str, dict[str, str]]:
    data: dict[str, Any] = json.loads(WEB.joinpath("messages.json").read_text(encoding="utf-8"))
    return data


def script() -> str:
    return WEB.joinpath("signer.js").read_text(encoding="utf-8")


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    zh, en = (catalogue()[lang] for lang in LANGS)
    assert sorted(zh) == sorted(en)
    for key in zh:
        # {Agent} is {agent} capitalised to open an English sentence
        zh_names, en_names = (sorted(p.lower() for p in PLACEHOLDER.findall(m[key])) for m in (zh, en))
        assert zh_names == en_names, key


def test_no_english_in_the_chinese_catalogue_and_no_chinese_in_the_english_one() -> None:
    zh, en = (catalogue()[lang] for lang in LANGS)
    for key, text in zh.items():
        assert not re.search(r"[A-Za-z]{2,}", PLACEHOLDER.sub("", text)), (key, text)
        assert text.strip(), key
    for key, text in en.items():
        assert not CJK.search(text), (key, text)
        assert text.strip(), key


def test_every_key_the_page_asks_for_is_in_the_catalogue() -> None:
    used = set(re.findall(r"\bt\('([A-Za-z_]+)'(?! \+)", script()))
    assert used, "the page reads no key: the pattern is stale"
    for lang in LANGS:
        assert used <= set(catalogue()[lang]), (lang, used - set(catalogue()[lang]))


# codes the server sends the page, looked up by prefix + code (never shown raw)
SERVER_CODES = (
    [v.value for v in Verdict]
    + ["NO_SPEECH", "ENGINE_FAILED"]
    + [w.value for w in WarningKind]
    + [a.value for a in LivenessAction]
    + ["identity_" + c for c in ("not_the_signer", "poor_frames", "several_faces", "failed")]
    + ["identity_" + c for c in ("agent_missing", "extra_face", "not_the_agent")]  # an agent on camera
    + ["reason_" + c for c in [*REASON_CODES.values(), *FAILURE_CODES]]
    + ["err_token_invalid", "err_rate_limited", "err_generic", "err_network"]
)


@pytest.mark.parametrize("key", SERVER_CODES)
def test_every_server_code_has_a_message_in_both_languages(key: str) -> None:
    for lang in LANGS:
        assert key in catalogue()[lang], (lang, key)


def test_the_page_itself_holds_no_signer_text() -> None:
    # every text is in the catalogue: the script has no Chinese but the language switch's own label
    src = script()
    assert set(CJK.findall(src)) <= set("中文"), sorted(set(CJK.findall(src)))
    assert "e.message" not in src and "m.detail" not in src, "server English detail shown to the signer"


def test_the_catalogue_is_served_with_the_page() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from dualsign.api.routes.signer import pages

    app = FastAPI()
    app.include_router(pages)
    r = TestClient(app).get("/static/messages.json")
    assert r.status_code == 200
    assert r.json()["zh-CN"]["NO_SPEECH"]
