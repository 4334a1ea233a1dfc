"""Built-in scenario templates shipped with the product (YAML files beside this module)."""

from __future__ import annotations

from importlib import resources


def builtin_sources() -> list[tuple[str, str]]:
    """(file name, YAML text) of every built-in template, in name order."""
    root = resources.files(__name__)
    files = sorted((f for f in root.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    return [(f.name, f.read_text(encoding="utf-8")) for f in files]


def mandated_items_source() -> str:
    """YAML text of ``rules/mandated-items.yaml``: what each scenario's confirmation must cover."""
    return (resources.files(__name__) / "rules" / "mandated-items.yaml").read_text(encoding="utf-8")
