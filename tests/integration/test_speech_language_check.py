"""A session whose questions are answered aloud in a language no working recogniser hears is refused at
creation (422 naming what is missing), or by option created with a warning kept in its evidence."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers


def english_only_model(tmp_path: Path) -> Path:
    # a deployed faster-whisper folder (DUALSIGN_ASR_MODEL_DIR) is English-only: it cannot hear Mandarin
    folder = tmp_path / "whisper-tiny.en"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\0")
    (folder / "config.json").write_text("{}")
    return folder


def test_a_mandarin_session_on_an_english_only_recogniser_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    c = make_container(
        tmp_path, database_url, FixedClock(), DUALSIGN_ASR_MODEL_DIR=str(english_only_model(tmp_path))
    )
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Bank")
        r = create(client, headers)  # insurance-epolicy-zh
        assert r.status_code == 422, r.text
        (problem,) = r.json()["errors"]
        assert problem["field"] == "template"
        assert "zh-CN" in problem["reason"] and "only recognises: en" in problem["reason"]
        assert "configure a zh model" in problem["reason"]
        assert client.get("/v1/sessions", headers=headers).json() == []  # nothing was created
        english = create(client, headers, template="insurance-epolicy-en", signer_name="Ann Lee")
        assert english.status_code == 201, english.text
        assert english.json()["warnings"] == []
    c.close()


def test_by_option_it_is_created_with_the_warning_in_its_evidence(tmp_path: Path, database_url: str) -> None:
    c = make_container(
        tmp_path,
        database_url,
        FixedClock(),
        DUALSIGN_ASR_MODEL_DIR=str(english_only_model(tmp_path)),
        DUALSIGN_SPEECH_LANGUAGE_CHECK="warn",
    )
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Bank")
        r = create(client, headers)
        assert r.status_code == 201, r.text
        (warning,) = r.json()["warnings"]
        assert "only recognises: en" in warning
        events = client.get(f"/v1/sessions/{r.json()['id']}/events", headers=headers).json()
        assert events[0]["payload"]["speech_warnings"] == [warning]
    c.close()


def test_a_recogniser_that_is_not_installed_is_named(tmp_path: Path, database_url: str) -> None:
    c = make_container(tmp_path, database_url, FixedClock(), DUALSIGN_ASR="vosk")
    with TestClient(create_app(c)) as client:
        r = create(client, tenant_headers(c, "Bank"))
        assert r.status_code == 422, r.text
        reason = r.json()["errors"][0]["reason"]
        assert "vosk" in reason, reason
    c.close()
