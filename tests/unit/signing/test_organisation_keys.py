"""The issuing CA's revocation list: each entry keeps the time and the reason it was revoked with, and
keeps them when the service starts again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dualsign.signing.pki import load_or_create, revoke

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def test_unspecified_has_no_reason_code_and_a_listed_certificate_keeps_its_first_revocation(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "pki"
    load_or_create(folder, now=NOW)
    revoke(folder, 42, at=NOW, reason="unspecified")
    revoke(folder, 42, at=NOW + timedelta(days=1), reason="key_compromise")
    revoke(folder, 43)  # the operator's `dualsign keys revoke`: now, no reason
    with pytest.raises(ValueError, match="not an RFC 5280"):
        revoke(folder, 44, reason="stolen")
    crl = load_or_create(folder, now=NOW + timedelta(days=2)).ca_crl
    first = crl.get_revoked_certificate_by_serial_number(42)
    assert first is not None and first.revocation_date_utc == NOW
    assert not list(first.extensions)  # RFC 5280: no reasonCode for "unspecified"
    assert crl.get_revoked_certificate_by_serial_number(43) is not None
    assert crl.get_revoked_certificate_by_serial_number(44) is None
