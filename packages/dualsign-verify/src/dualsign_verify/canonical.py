"""Canonical JSON: the one byte form every hashed or signed DualSign record takes.

UTF-8, keys sorted, no insignificant white space, non-ASCII kept as is, no floats that are not finite.
Two parties that hold the same record get the same bytes, hence the same digest.
"""

from __future__ import annotations

import json


def canonical_json(value: object) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")
