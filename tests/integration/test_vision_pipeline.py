"""Vision pipeline on real dlib engines: identity margins, face counting, liveness clips, recordings.

The clips are built from photos (tests/vision_media.py); they test the pipeline, not accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from dualsign.application.perception.vision import analyze, liveness_sample, reference_embedding
from dualsign.application.qc.video_analysis import analyze_recording, reconcile
from dualsign.domain.liveness import ChallengeStep, judge_step
from dualsign.domain.templates import LivenessAction as A
from dualsign.domain.templates import parse_template
from dualsign.engines.face_dlib import DlibEmbedder, DlibFaceDetector, DlibLandmarks
from dualsign.engines.vision_base import VisionEngines
from dualsign.media.video import decode_image
from tests.vision_media import FACES, edited, encode_video, frame, jpeg

ENGINES = VisionEngines(
    DlibFaceDetector(), DlibFaceDetector(detect_width=800, upsample=1), DlibLandmarks(), DlibEmbedder()
)
FPS = 10


def photo_embedding(name: str) -> Any:
    return reference_embedding((FACES / f"{name}.jpg").read_bytes(), ENGINES)


def test_same_person_from_different_photos_verifies_and_different_people_do_not() -> None:
    threshold = ENGINES.embedder.match_threshold
    same = [
        photo_embedding(a).distance(photo_embedding(b))
        for a, b in (("obama", "obama2"), ("obama", "obama3"), ("obama2", "obama3"))
    ]
    different = [
        photo_embedding(a).distance(photo_embedding(b))
        for a, b in (
            ("obama", "biden"),
            ("obama", "grace_hopper"),
            ("biden", "grace_hopper"),
            ("obama2", "astronaut"),
        )
    ]
    assert max(same) < threshold < min(different)
    print(f"same person ≤ {max(same):.3f}, different ≥ {min(different):.3f}, threshold {threshold}")


@pytest.mark.parametrize(
    ("picture", "count"), [(None, 0), ("obama", 1), (["obama", "biden"], 2), ("cat", 0), ("coffee", 0)]
)
def test_faces_are_counted(picture: Any, count: int) -> None:
    image = decode_image(jpeg(frame(picture, seed=3)))
    assert len(analyze(image, ENGINES).faces) == count


def clip(picture_at: Callable[[int], Any], seconds: float = 3.0, moved: bool = False) -> list[Any]:
    samples = []
    for i in range(int(seconds * FPS)):
        t = i / FPS
        kwargs = (
            {
                "dx": int(25 * math.sin(2.1 * t)),
                "dy": int(15 * math.cos(1.7 * t)),
                "scale": 0.9 + 0.1 * math.sin(3 * t),
            }
            if moved
            else {}
        )
        image = decode_image(jpeg(frame(picture_at(i), seed=i, **kwargs)))
        samples.append(liveness_sample(image, t, ENGINES))
    return samples


STEP = {a: ChallengeStep(a, 0.0, 3.0) for a in A}


@pytest.mark.parametrize("moved", [False, True], ids=["still", "jittered-still"])
@pytest.mark.parametrize("action", list(A))
def test_a_photo_held_still_or_moved_by_hand_fails_every_challenge(action: A, moved: bool) -> None:
    result = judge_step(STEP[action], clip(lambda i: "grace_hopper", moved=moved))
    assert not result.passed, result


def test_a_looping_replay_fails_even_with_a_blink_in_it() -> None:
    loop = clip(lambda i: edited("grace_hopper", eyes_closed=True) if i == 2 else "grace_hopper", seconds=0.5)
    replay = [type(s)(i / FPS, s.features, s.frame_digest) for i, s in enumerate(loop * 6)]
    result = judge_step(STEP[A.BLINK], replay)
    assert not result.passed and "repeats" in result.reason


@pytest.mark.parametrize("person", ["grace_hopper", "astronaut"])
def test_simulated_blink_and_open_mouth_pass_their_challenges(person: str) -> None:
    blink = clip(lambda i: edited(person, eyes_closed=True) if 14 <= i < 17 else person)
    assert judge_step(STEP[A.BLINK], blink).passed
    mouth = clip(lambda i: edited(person, mouth_open=True) if 12 <= i < 20 else person)
    assert judge_step(STEP[A.OPEN_MOUTH], mouth).passed
    assert not judge_step(STEP[A.OPEN_MOUTH], blink).passed  # each clip passes only its own action


@pytest.mark.parametrize(("fmt", "codec"), [("webm", "libvpx"), ("mp4", "libx264")])
def test_recording_analysis_gives_the_statistics_and_flags_disagreements(fmt: str, codec: str) -> None:
    template = parse_template(
        {
            "key": "recording-check",
            "title": "t",
            "scenario": "other",
            "language": "en-US",
            "consent": {"recording": "r", "biometric": "b"},
            "questions": [{"id": "q", "category": "other", "prompt": "?", "acceptable": ["yes"]}],
        }
    )
    script = [("obama", 4), (None, 3), (["obama", "biden"], 2), ("obama", 3)]
    frames = [
        frame(who, seed=k * 100 + i) for k, (who, seconds) in enumerate(script) for i in range(seconds * 5)
    ]
    recording = encode_video(frames, fps=5, fmt=fmt, codec=codec)
    result = analyze_recording(recording, template, ENGINES, photo_embedding("obama"))
    stats = result.stats
    assert result.frames == 24  # 12 s at 2 fps
    assert 2.0 <= float(stats["longest_absence_s"]) <= 3.0  # type: ignore[arg-type]
    assert 1.0 <= float(stats["several_faces_s"]) <= 2.5  # type: ignore[arg-type]
    assert 0.65 <= float(stats["face_present_ratio"]) <= 0.85  # type: ignore[arg-type]
    assert [w.kind.value for w in result.warnings] == ["no_face", "several_faces"]
    assert reconcile(stats, stats) == []
    live = {**stats, "longest_absence_s": 0.0}  # the live channel missed the absence (e.g. frames dropped)
    assert [d.measure for d in reconcile(live, stats)] == ["longest_absence_s"]
