"""The RFC 3161 exchange both TSAs share, and the local TSA built on pyHanko's public TimeStamper API."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import inspect

import pytest
from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from dualsign.signing.rfc3161 import TimestampRefused, timestamp_token
from dualsign.signing.tsa_local import SELF_ATTESTED_POLICY, InsecureLocalTSA, LocalTimeStamper

AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)


class _Clock:
    def now(self) -> dt.datetime:
        return AT


@pytest.fixture(scope="module")
def tsa() -> InsecureLocalTSA:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test local TSA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(AT - dt.timedelta(days=1))
        .not_valid_after(AT + dt.timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return InsecureLocalTSA(cert, key, _Clock())


def _info(token: cms.ContentInfo) -> tsp.TSTInfo:
    info: tsp.TSTInfo = token["content"]["encap_content_info"]["content"].parsed
    return info


def test_a_local_token_is_over_the_data_under_the_self_attested_policy_and_signed_by_the_tsa(
    tsa: InsecureLocalTSA,
) -> None:
    token = cms.ContentInfo.load(tsa.timestamp(b"manifest signature"))
    info = _info(token)
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(b"manifest signature").digest()
    assert info["policy"].dotted == SELF_ATTESTED_POLICY and info["gen_time"].native == AT
    signer = token["content"]["signer_infos"][0]
    attrs = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
    content = token["content"]["encap_content_info"]["content"].contents
    assert attrs["message_digest"].native == hashlib.sha256(content).digest()
    assert attrs["content_type"].native == "tst_info"
    certs = token["content"]["certificates"]
    assert [c.chosen.dump() for c in certs] == [tsa.cert.public_bytes(serialization.Encoding.DER)]
    public = tsa.cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(  # raises unless the TSA's key signed exactly these attributes
        signer["signature"].native, signer["signed_attrs"].untag().dump(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_the_local_timestamper_serves_pyhankos_own_timestamp_call(tsa: InsecureLocalTSA) -> None:
    """PAdES signing asks through ``TimeStamper.async_timestamp`` (pyHanko's request and its nonce
    check): the answer comes from the transport hook alone."""
    stamper = tsa.pdf_timestamper()
    digest = hashlib.sha256(b"a PDF's signature").digest()
    token = asyncio.run(stamper.async_timestamp(digest, "sha256"))
    assert _info(token)["message_imprint"]["hashed_message"].native == digest


def test_the_local_timestamper_overrides_no_private_method_of_pyhanko() -> None:
    assert issubclass(LocalTimeStamper, TimeStamper) and not issubclass(LocalTimeStamper, DummyTimeStamper)
    own = {
        n for n, _ in inspect.getmembers(LocalTimeStamper, inspect.isfunction) if n in vars(LocalTimeStamper)
    }
    assert own == {"__init__", "respond", "async_request_tsa_response"}


def test_an_answer_that_is_not_for_this_request_is_refused(tsa: InsecureLocalTSA) -> None:
    stamper = tsa.pdf_timestamper()

    def rejected(_: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return tsp.TimeStampResp({"status": tsp.PKIStatusInfo({"status": tsp.PKIStatus("rejection")})})

    def other_data(req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        _, other = stamper.request_cms(hashlib.sha256(b"other").digest(), "sha256")
        other["nonce"] = req["nonce"]
        return stamper.respond(other)

    def other_nonce(_: tsp.TimeStampReq) -> tsp.TimeStampResp:
        _, other = stamper.request_cms(hashlib.sha256(b"data").digest(), "sha256")
        return stamper.respond(other)

    for respond, why in [
        (rejected, "answered rejection"),
        (other_data, "timestamped other data"),
        (other_nonce, "answered another request"),
    ]:
        with pytest.raises(TimestampRefused, match=f"the TSA {why}"):
            timestamp_token(stamper, b"data", respond, "the TSA")
