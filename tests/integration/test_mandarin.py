"""Mandarin on the default install: Whisper base joined from its packages, answers judged from audio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dualsign.engines.whisper_bundled import (
    BASE_SHA256,
    VERIFIED_MARKER,
    ModelAssemblyError,
    assemble_base,
    base_dir,
    base_ready,
)

pytestmark = pytest.mark.slow
DUALSIGN = [sys.executable, "-m", "dualsign.cli.main"]


def _say(text: str, out: Path, *, wpm: int = 175) -> Path:
    """espeak-ng Mandarin at its default speed (the corpus of bench/answer_latency measures the others)."""
    subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", str(wpm), "-w", str(out), text], check=True)
    return out


def test_whisper_base_is_joined_once_with_its_digest_checked(tmp_path: Path) -> None:
    folder = assemble_base(tmp_path)
    assert folder == base_dir(tmp_path)
    assert (folder / VERIFIED_MARKER).read_text().strip() == BASE_SHA256
    assert {p.name for p in folder.iterdir()} >= {"model.bin", "config.json", "tokenizer.json"}
    before = (folder / "model.bin").stat().st_mtime_ns
    assert assemble_base(tmp_path) == folder  # ready: nothing joined again
    assert (folder / "model.bin").stat().st_mtime_ns == before


def test_an_altered_model_is_never_used(tmp_path: Path) -> None:
    folder = assemble_base(tmp_path)
    (folder / VERIFIED_MARKER).write_text("0" * 64 + "\n")  # a marker that does not vouch for this model
    assert not base_ready(tmp_path)
    assemble_base(tmp_path)  # joined again from the packages, digest checked
    assert base_ready(tmp_path)


def test_parts_that_do_not_join_into_the_published_model_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dualsign.engines.whisper_bundled as wb

    monkeypatch.setattr(wb, "BASE_SHA256", "f" * 64)
    with pytest.raises(ModelAssemblyError, match="not the published"):
        wb.assemble_base(tmp_path)
    assert not any(p.name.startswith("whisper-base") for p in tmp_path.iterdir())


def test_models_check_shows_mandarin_recognition_ready(tmp_path: Path) -> None:
    env = {**os.environ, "DUALSIGN_DATA_DIR": str(tmp_path)}
    out = subprocess.run([*DUALSIGN, "models", "check"], env=env, capture_output=True, text=True, check=True)
    mandarin = next(line for line in out.stdout.splitlines() if line.startswith("Mandarin (zh) recognition"))
    assert "ready" in mandarin and "not ready" not in mandarin and "whisper-base" in mandarin
    english = next(line for line in out.stdout.splitlines() if line.startswith("English (en) recognition"))
    assert "not ready" not in english and "tiny.en" in english


def test_match_judges_mandarin_answers_from_audio_in_order(tmp_path: Path) -> None:
    yes = _say("我同意", tmp_path / "yes.wav")
    no = _say("我不同意", tmp_path / "no.wav")
    dont_know = _say("不知道", tmp_path / "dont-know.wav")
    env = {**os.environ, "DUALSIGN_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [
            *DUALSIGN,
            "match",
            "--lang",
            "zh",
            "--expected",
            "我同意|同意|是的",
            "--audio",
            str(yes),
            "--audio",
            str(no),
            "--audio",
            str(dont_know),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [Path(str(line["file"])).name for line in lines] == ["yes.wav", "no.wav", "dont-know.wav"]
    assert lines[0]["verdict"] == "ACCEPT"
    assert lines[1]["verdict"] == "REJECT" and lines[2]["verdict"] != "ACCEPT"
    for line in lines:
        assert line["transcript"] and "whisper-base" in str(line["model"])
        assert "rule" in line["explanation"]


def test_match_names_a_missing_file(tmp_path: Path) -> None:
    out = subprocess.run(
        [*DUALSIGN, "match", "--expected", "是的", "--audio", str(tmp_path / "nope.wav")],
        env={**os.environ, "DUALSIGN_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "nope.wav" in out.stderr
