"""A registered organisation's keys on disk: a renewal adds a key and certificate and keeps the old ones,
a seal is made only with the certificate asked for, and a revocation is on the issuing CA's CRL at once,
with its time and reason, and stays there when the service starts again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from dualsign.signing.authority import IssuingAuthority
from dualsign.signing.org_seals import PlatformOrganisationKeys
from dualsign.signing.pki import load_or_create, revoke

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
CODE = "91350100M000100Y43"


def _crl(folder: Path) -> x509.CertificateRevocationList:
    return x509.load_der_x509_crl((folder / "ca.crl").read_bytes())


def _number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_a_renewal_keeps_the_old_key_and_a_seal_uses_only_the_certificate_named(tmp_path: Path) -> None:
    pki = load_or_create(tmp_path / "pki", now=NOW)
    keys = PlatformOrganisationKeys(IssuingAuthority(pki, "http://x"))
    first = keys.issue("org_1", "示例公司", CODE, NOW)
    second = keys.renew("org_1", "示例公司", CODE, NOW + timedelta(days=400))
    assert first.serial != second.serial and first.subject == second.subject
    assert second.not_before > first.not_before and second.not_after - second.not_before >= timedelta(
        days=3 * 365
    )
    assert len(second.sha256) == 64 and second.sha256 != first.sha256

    fresh = IssuingAuthority(load_or_create(tmp_path / "pki", now=NOW), "http://x")  # another process
    assert format(fresh.organisation_key("org_1", first.serial).cert.serial_number, "x") == first.serial
    assert format(fresh.organisation_key("org_1", second.serial).cert.serial_number, "x") == second.serial
    with pytest.raises(FileNotFoundError, match="no certificate with serial"):
        fresh.organisation_key("org_1", "abc")
    with pytest.raises(ValueError, match="never registered"):
        keys.renew("org_2", "示例公司", CODE, NOW)


def test_a_revocation_is_published_at_once_with_its_time_and_reason(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    pki = load_or_create(folder, now=NOW)
    authority = IssuingAuthority(pki, "http://x")
    keys = PlatformOrganisationKeys(authority)
    cert = keys.issue("org_1", "示例公司", CODE, NOW)
    before = _crl(folder)
    assert not authority.is_revoked(int(cert.serial, 16))
    revoked_at = NOW + timedelta(minutes=3)
    keys.revoke([cert.serial], revoked_at, "key_compromise")

    crl = _crl(folder)
    assert crl.is_signature_valid(pki.ca_cert.public_key())  # type: ignore[arg-type]
    assert _number(crl) > _number(before)  # the same second as the start: still a newer list
    entry = crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16))
    assert entry is not None and entry.revocation_date_utc == revoked_at
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.key_compromise
    assert authority.is_revoked(int(cert.serial, 16))  # the signer's second guard: it never seals under it

    restarted = load_or_create(folder, now=NOW + timedelta(days=2))  # the next start re-issues the lists
    again = restarted.ca_crl.get_revoked_certificate_by_serial_number(int(cert.serial, 16))
    assert again is not None and again.revocation_date_utc == revoked_at  # its time, not the restart's
    assert _number(restarted.ca_crl) > _number(crl)
    assert len(list(restarted.root_crl)) == 0


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
