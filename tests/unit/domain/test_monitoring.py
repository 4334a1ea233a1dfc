"""Face monitoring: warnings when a condition has lasted its threshold, statistics for QC."""

from __future__ import annotations

from dualsign.domain.monitoring import FaceMonitor, Observation, WarningKind
from dualsign.domain.templates import Monitoring

FPS = 2


def run(frames: list[Observation], thresholds: Monitoring | None = None) -> tuple[FaceMonitor, list]:
    m = FaceMonitor(thresholds or Monitoring())
    raised = []
    for o in frames:
        raised += m.observe(o)
    return m, raised


def timeline(spec: list[tuple[float, dict]]) -> list[Observation]:
    """(seconds, fields) segments at 2 fps."""
    out, t = [], 0.0
    for seconds, fields in spec:
        for _ in range(int(seconds * FPS)):
            out.append(Observation(t=t, **{"faces": 1, "signer": True, **fields}))
            t += 1 / FPS
    return out


def test_each_condition_is_warned_within_two_seconds_of_starting() -> None:
    for fields, kind in [
        ({"faces": 0, "signer": None}, WarningKind.NO_FACE),
        ({"faces": 2}, WarningKind.SEVERAL_FACES),
        ({"signer": False}, WarningKind.NOT_THE_SIGNER),
    ]:
        _, raised = run(timeline([(5, {}), (4, fields), (3, {})]))
        assert [w.kind for w in raised] == [kind]
        assert raised[0].since == 5.0
        assert raised[0].raised_at - raised[0].since <= 2.0


def test_a_condition_is_warned_once_until_it_clears() -> None:
    _, raised = run(timeline([(1, {}), (6, {"faces": 0}), (2, {}), (3, {"faces": 0})]))
    assert [w.kind for w in raised] == [WarningKind.NO_FACE, WarningKind.NO_FACE]


def test_short_glitches_raise_nothing() -> None:
    _, raised = run(timeline([(3, {}), (1, {"faces": 0}), (3, {}), (0.5, {"faces": 2}), (3, {})]))
    assert raised == []


def test_statistics_for_qc() -> None:
    m, _ = run(
        timeline([(10, {}), (4, {"faces": 0, "signer": None}), (2, {"faces": 2}), (4, {"signer": False})])
    )
    stats = m.stats.to_dict()
    assert stats["frames"] == 40
    assert abs(stats["longest_absence_s"] - 3.5) < 0.01
    assert abs(stats["several_faces_s"] - 2.0) < 0.51
    assert abs(stats["mismatch_s"] - 4.0) < 0.51
    assert 0.75 < stats["face_present_ratio"] < 0.85
    assert stats["warnings"] == {"no_face": 1, "several_faces": 1, "not_the_signer": 1}


def test_template_thresholds_are_used() -> None:
    strict = Monitoring(no_face_seconds=0.5)
    _, raised = run(timeline([(2, {}), (1.5, {"faces": 0})]), strict)
    assert raised and raised[0].raised_at - raised[0].since == 0.5


def test_quality_problems_after_three_seconds() -> None:
    _, raised = run(timeline([(2, {}), (5, {"too_dark": True})]))
    assert [w.kind for w in raised] == [WarningKind.TOO_DARK]


def test_a_condition_is_building_up_from_its_first_frame_until_it_is_warned_or_clears() -> None:
    m = FaceMonitor(Monitoring())
    m.observe(Observation(t=0.0, faces=1, signer=True))
    assert m.building_up == frozenset()
    m.observe(Observation(t=0.5, faces=2))
    assert m.building_up == {WarningKind.SEVERAL_FACES}
    assert m.observe(Observation(t=1.5, faces=2))  # warned: no longer building up
    assert m.building_up == frozenset() and m.active == {WarningKind.SEVERAL_FACES}
    m.observe(Observation(t=2.0, faces=0))
    assert m.building_up == {WarningKind.NO_FACE}
    m.observe(Observation(t=2.5, faces=1, signer=True))  # back before its threshold
    assert m.building_up == frozenset()
