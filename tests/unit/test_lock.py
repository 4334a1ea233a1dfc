"""The install is reproducible: requirements.lock pins every package at the version the suite runs on."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = PIN.match(line.strip())
        assert m, f"requirements.lock: {line!r} is not an exact 'name==version' pin"
        pins[_canonical(m.group(1))] = m.group(2)
    return pins


def _requirement_names(spec: str) -> str:
    return _canonical(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0])


def test_every_dependency_the_commands_install_is_pinned() -> None:
    pins = _lock()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in ("dev", "s3"):  # what scripts/lock.sh resolves; mediapipe is an operator's own choice
        wanted += project["optional-dependencies"][extra]
    verify = tomllib.loads((ROOT / "packages/dualsign-verify/pyproject.toml").read_text())["project"]
    wanted += verify.get("dependencies", [])
    names = {_requirement_names(s) for s in wanted} - {"dualsign-verify"}
    missing = sorted(n for n in names if n not in pins)
    assert not missing, f"not in requirements.lock (run scripts/lock.sh): {missing}"
    for tool in ("pip", "setuptools", "wheel"):
        assert tool in pins, f"the installer's own {tool} is not pinned"


def test_the_suite_runs_on_the_locked_versions() -> None:
    pins = _lock()
    drift = []
    for dist in metadata.distributions():
        name = _canonical(dist.metadata["Name"])
        if name in ("dualsign", "dualsign-verify"):
            continue
        if name in pins and pins[name] != dist.version:
            drift.append(f"{name} {dist.version} installed, {pins[name]} locked")
    assert not drift, "installed versions differ from requirements.lock: " + "; ".join(drift)
