"""The ``dualsign`` command line as an operator uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualsign.cli.main import app

runner = CliRunner()
ROOT = Path(__file__).parents[2]


def test_match_prints_the_verdict_as_json() -> None:
    result = runner.invoke(app, ["match", "--expected", "知晓|知道", "我不知道"])
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "REJECT"
    assert verdict["rule"] == "negated_phrase"
    assert verdict["matched_phrase"] == "知道"
    english = json.loads(runner.invoke(app, ["match", "--expected", "yes|I agree", "yes, I agree"]).stdout)
    assert english["verdict"] == "ACCEPT"


@pytest.mark.parametrize(
    ("args", "verdict"),
    [
        (["--expects", "deny", "--lang", "zh", "没人"], "ACCEPT"),
        (["--expects", "deny", "--lang", "zh", "有"], "REJECT"),
        (["--expects", "deny", "--lang", "en", "yes"], "REJECT"),
        (["--expects", "affirm", "--lang", "zh", "好的"], "ACCEPT"),
        (["--expects", "affirm", "--lang", "zh", "没有"], "REJECT"),
        (["--expects", "affirm", "--expected", "我同意", "--lang", "zh", "我同意"], "ACCEPT"),
    ],
)
def test_match_judges_by_the_expected_polarity(args: list[str], verdict: str) -> None:
    result = runner.invoke(app, ["match", *args])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == verdict


def test_match_refuses_a_yes_listed_for_a_deny_question() -> None:
    result = runner.invoke(app, ["match", "--expects", "deny", "--expected", "是的", "是的"])
    assert result.exit_code == 2


def test_simulate_reasks_after_a_negative_answer_and_completes() -> None:
    # q2 (the seller's identity) is re-asked; q10 expects "no" (有人强迫…?)
    answers = "知晓,不知道,确认,知道,清楚,是,明白,清楚,清楚,清楚,清楚,没有,确认,是的"
    result = runner.invoke(
        app, ["simulate", "--template", "insurance-epolicy-zh", "--answers", answers], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "q2 · attempt 2" in out  # the re-ask
    assert "请您明确回答“确认”或“已确认”或“是”" in out  # the reminder names the acceptable answers
    assert "销售人员是李四" in out  # the template's example values are read when no --var is given
    assert out.index("不知道") < out.index("q2 · attempt 2")
    assert "questions complete" in out
    assert "identity_waived" in out  # the timeline shows what text mode could not check


def test_three_non_accepting_answers_fail_the_question() -> None:
    result = runner.invoke(
        app,
        ["simulate", "--template", "insurance-epolicy-zh", "--answers", "知晓,不知道,可能吧,没听懂"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 1
    assert "question_failed" in result.stdout
    assert "session failed" in result.stdout


def test_simulate_english_template_with_silence_as_an_attempt() -> None:
    answers = "yes,,yes I understand,yes,yes,yes,yes,no,yes,yes,yes,yes,yes"
    result = runner.invoke(
        app, ["simulate", "--template", "insurance-epolicy-en", "--answers", answers], env={"COLUMNS": "200"}
    )
    assert "NO_SPEECH" in result.stdout
    assert "Sorry, I did not hear an answer." in result.stdout


def test_simulate_stops_clearly_when_scripted_answers_run_out() -> None:
    result = runner.invoke(app, ["simulate", "--template", "bank-loan-zh", "--answers", "是"])
    assert result.exit_code == 3
    assert "ran out" in result.stderr


def test_template_validate_names_file_field_and_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")  # a narrow terminal must not break the file's name over lines
    good = ROOT / "src/dualsign/scenarios/bank-loan-zh.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        good.read_text(encoding="utf-8").replace("category: risk_disclosure", "category: chat", 1),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["template", "validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert "bank-loan-zh.yaml: ok" in result.stdout
    assert str(bad) in result.stderr
    assert ".category" in result.stderr
    assert "Input should be" in result.stderr


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migrate_tenant_and_template_list(db: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = {"DUALSIGN_DATA_DIR": str(tmp_path)}
    if db == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("database_url_pg")
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0  # idempotent
    created = runner.invoke(app, ["tenant", "create", "Cathay Life"], env=env)
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["api_key"].startswith("dsk_")
    listing = runner.invoke(app, ["template", "list"], env={**env, "COLUMNS": "250"})
    assert "insurance-epolicy-zh" in listing.stdout
    assert "bidding-documents-zh" in listing.stdout


def test_simulate_a_spoken_english_session_from_audio_files(tmp_path: Path) -> None:
    """A whole English session from WAV answers through the real VAD and Whisper, with one re-ask."""
    from dualsign.engines.tts_espeak import EspeakTts

    spoken = [
        "Yes, I understand.",
        "No, I don't understand.",
        "Yes, I have.",
        *["Yes."] * 8,
        "No.",
        "Yes, I confirm.",
        "Yes.",
    ]
    tts = EspeakTts()
    for i, text in enumerate(spoken):
        (tmp_path / f"{i:02d}.wav").write_bytes(tts.synthesize(text, "en-US").wav)
    env = {"DUALSIGN_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    result = runner.invoke(
        app,
        [
            "simulate",
            "--template",
            "insurance-epolicy-en",
            "--audio",
            str(tmp_path),
            "--prompts-out",
            str(tmp_path / "prompts"),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "heard “No, I don't understand.”" in out
    assert "q2 · attempt 2" in out and "q3 · attempt 2" not in out
    assert out.count("→ ACCEPT") == 13  # in the timeline: thirteen questions accepted
    assert "questions complete" in out
    prompts = sorted(p.name for p in (tmp_path / "prompts").iterdir())
    assert "q2-2.wav" in prompts and len(prompts) == 14  # thirteen questions, q2 asked twice


def test_models_check_lists_every_engine_and_what_is_missing(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["models", "check"], env={"DUALSIGN_DATA_DIR": str(tmp_path), "COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    for name in ("faster-whisper", "sherpa-onnx", "vosk", "espeak", "silero", "tiny.en"):
        assert name in result.stdout
    assert "DUALSIGN_ASR_MODEL_DIR" in result.stdout
    broken = runner.invoke(
        app,
        ["models", "check"],
        env={"DUALSIGN_DATA_DIR": str(tmp_path), "DUALSIGN_ASR": "vosk", "COLUMNS": "250"},
    )
    assert broken.exit_code == 1  # the selected engine cannot run here


def test_worker_once_runs_the_due_jobs(tmp_path: Path) -> None:
    env = {"DUALSIGN_DATA_DIR": str(tmp_path), "DUALSIGN_SECRET_KEY": "w" * 40}
    result = runner.invoke(app, ["worker", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "ran 0 job(s)" in result.stdout


def test_blob_keys_rotate_and_old_blobs_are_reencrypted(tmp_path: Path) -> None:
    from dualsign.bootstrap.config import load_settings
    from dualsign.bootstrap.container import blob_store
    from dualsign.storage.blobs_encrypted import EncryptingBlobStore, key_of

    env = {"DUALSIGN_DATA_DIR": str(tmp_path)}
    store = blob_store(load_settings(env))
    assert isinstance(store, EncryptingBlobStore)
    ref = store.put(b"a face snapshot")
    first = store.keys.current
    rotated = runner.invoke(app, ["keys", "rotate-blobs", "--reencrypt"], env=env)
    assert rotated.exit_code == 0, rotated.output
    after = blob_store(load_settings(env))
    assert isinstance(after, EncryptingBlobStore) and after.keys.current != first
    assert f"re-encrypted under {after.keys.current}: 1 from {first}" in rotated.stdout
    assert key_of(after.inner.get(ref.sha256)) == after.keys.current
    assert after.get(ref.sha256) == b"a face snapshot"
    plain = runner.invoke(app, ["keys", "rotate-blobs"], env={**env, "DUALSIGN_ENCRYPT_BLOBS": "false"})
    assert plain.exit_code == 2 and "not encrypted" in plain.output
