"""Liveness rules on synthetic landmark sequences: real movements pass, a moved flat photo does not."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from dualsign.domain.liveness import (
    ChallengeStep,
    Point,
    Sample,
    features,
    issue_challenge,
    judge_step,
    nods,
)
from dualsign.domain.templates import LivenessAction as A

# 68 landmarks that dlib found on tests/assets/faces/obama.jpg (frontal, eyes open, mouth closed)
FACE: list[Point] = [
    (182.0, 109.0),
    (184.0, 125.0),
    (187.0, 142.0),
    (190.0, 158.0),
    (195.0, 173.0),
    (204.0, 187.0),
    (215.0, 199.0),
    (228.0, 207.0),
    (243.0, 210.0),
    (259.0, 206.0),
    (272.0, 196.0),
    (283.0, 184.0),
    (292.0, 170.0),
    (297.0, 155.0),
    (299.0, 140.0),
    (301.0, 124.0),
    (301.0, 108.0),
    (195.0, 103.0),
    (202.0, 94.0),
    (212.0, 90.0),
    (224.0, 90.0),
    (235.0, 93.0),
    (253.0, 93.0),
    (263.0, 89.0),
    (275.0, 89.0),
    (285.0, 94.0),
    (291.0, 102.0),
    (244.0, 103.0),
    (244.0, 114.0),
    (244.0, 124.0),
    (244.0, 135.0),
    (229.0, 141.0),
    (236.0, 142.0),
    (244.0, 144.0),
    (251.0, 142.0),
    (259.0, 140.0),
    (208.0, 107.0),
    (215.0, 104.0),
    (222.0, 103.0),
    (228.0, 107.0),
    (221.0, 108.0),
    (215.0, 108.0),
    (260.0, 107.0),
    (266.0, 103.0),
    (273.0, 103.0),
    (279.0, 107.0),
    (273.0, 107.0),
    (266.0, 107.0),
    (213.0, 159.0),
    (223.0, 155.0),
    (235.0, 153.0),
    (244.0, 155.0),
    (253.0, 153.0),
    (264.0, 153.0),
    (274.0, 157.0),
    (265.0, 169.0),
    (253.0, 176.0),
    (244.0, 178.0),
    (235.0, 177.0),
    (223.0, 171.0),
    (215.0, 160.0),
    (235.0, 157.0),
    (244.0, 158.0),
    (253.0, 157.0),
    (271.0, 158.0),
    (253.0, 168.0),
    (244.0, 170.0),
    (235.0, 169.0),
]

Shape = list[Point]


def moved(points: Shape, idx: range | list[int], dx: float = 0.0, dy: float = 0.0) -> Shape:
    out = list(points)
    for i in idx:
        out[i] = (out[i][0] + dx, out[i][1] + dy)
    return out


def eyes_closed(p: Shape) -> Shape:
    p = moved(p, [37, 38, 43, 44], dy=+4.0)
    return moved(p, [41, 40, 47, 46], dy=-2.0)


def mouth_open(p: Shape) -> Shape:
    return moved(p, [65, 66, 67, 55, 56, 57, 58, 59, 8, 7, 9], dy=+14.0)


def yawed(p: Shape, d: float) -> Shape:
    p = moved(p, range(27, 36), dx=d)
    return moved(p, range(48, 68), dx=d * 0.6)


def pitched(p: Shape, d: float) -> Shape:
    return moved(p, range(27, 36), dy=d)


def affine(p: Shape, sx: float, sy: float, angle: float, shear: float, tx: float, ty: float) -> Shape:
    c, s = math.cos(angle), math.sin(angle)
    out = []
    for x, y in p:
        x, y = x * sx + shear * y, y * sy
        out.append((c * x - s * y + tx, s * x + c * y + ty))
    return out


def sequence(shape_at: Callable[[float], Shape], seconds: float = 3.0, fps: int = 15) -> list[Sample]:
    return [Sample(i / fps, features(shape_at(i / fps)), f"frame-{i}") for i in range(int(seconds * fps))]


STEP = {a: ChallengeStep(a, 0.0, 3.0) for a in A}


def test_features_of_a_frontal_face() -> None:
    f = features(FACE)
    assert abs(f.yaw) < 0.05
    assert 0.4 < f.pitch < 0.7


@pytest.mark.parametrize(
    ("action", "motion"),
    [
        (A.BLINK, lambda t: eyes_closed(FACE) if 1.0 <= t < 1.2 else FACE),
        (A.OPEN_MOUTH, lambda t: mouth_open(FACE) if 1.0 <= t < 2.0 else FACE),
        (A.TURN_LEFT, lambda t: yawed(FACE, 16.0 * min(1.0, t))),
        (A.TURN_RIGHT, lambda t: yawed(FACE, -16.0 * min(1.0, t))),
        (A.NOD, lambda t: pitched(FACE, 9.0 * math.sin(math.pi * t / 1.5)) if t < 1.5 else FACE),
    ],
)
def test_each_real_movement_passes_its_own_challenge(action: A, motion: Callable[[float], Shape]) -> None:
    result = judge_step(STEP[action], sequence(motion))
    assert result.passed, result


def test_turning_the_wrong_way_fails() -> None:
    assert not judge_step(STEP[A.TURN_LEFT], sequence(lambda t: yawed(FACE, -16.0 * min(1.0, t)))).passed


def hand_moved(t: float) -> Callable[[Shape], Shape]:
    """A printed photo moved by hand: scaled, tilted, turned, sheared, shifted, differently each frame."""
    return lambda p: affine(
        p,
        0.6 + 0.5 * abs(math.sin(3 * t)),
        0.6 + 0.5 * abs(math.cos(2 * t)),
        0.4 * math.sin(t),
        0.2 * math.sin(5 * t),
        40 * math.sin(t),
        30 * math.cos(t),
    )


@pytest.mark.parametrize("action", list(A))
def test_a_flat_photo_moved_tilted_and_turned_by_hand_fails_every_challenge(action: A) -> None:
    samples = sequence(lambda t: hand_moved(t)(FACE))
    assert not judge_step(STEP[action], samples).passed


@pytest.mark.parametrize("action", list(A))
def test_a_still_picture_fails_every_challenge(action: A) -> None:
    assert not judge_step(STEP[action], sequence(lambda t: FACE)).passed


def test_a_replayed_loop_of_a_real_blink_fails() -> None:
    blink = sequence(lambda t: eyes_closed(FACE) if 0.2 <= t < 0.4 else FACE, seconds=0.6)
    loop = [Sample(i / 15, s.features, s.frame_digest) for i, s in enumerate(blink * 5)]
    result = judge_step(STEP[A.BLINK], loop)
    assert not result.passed
    assert "repeats" in result.reason


def test_no_face_on_most_frames_fails() -> None:
    samples = [Sample(i / 15, features(FACE) if i % 3 == 0 else None) for i in range(45)]
    assert "visible" in judge_step(STEP[A.BLINK], samples).reason


def test_challenges_are_random_distinct_and_back_to_back() -> None:
    orders = set()
    for seed in range(20):
        steps = issue_challenge(list(A), 3, 4.0, random.Random(seed))
        assert len({s.action for s in steps}) == 3
        assert [(s.start_s, s.end_s) for s in steps] == [(0.0, 4.0), (4.0, 8.0), (8.0, 12.0)]
        orders.add(tuple(s.action for s in steps))
    assert len(orders) > 5


def test_nod_is_an_answer_modality() -> None:
    assert nods(
        sequence(lambda t: pitched(FACE, 9.0 * math.sin(math.pi * t / 1.5)) if t < 1.5 else FACE, 2.0)
    )
    assert not nods(sequence(lambda t: yawed(FACE, 16.0 * min(1.0, t)), 2.0))
