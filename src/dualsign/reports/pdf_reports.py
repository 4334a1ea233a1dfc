"""The ``ReportMaker`` port: render the evidence report and PAdES-sign it with the platform keys."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization

from dualsign.application.report_data import ReportData
from dualsign.reports.evidence_report import render, sign_report
from dualsign.signing.pki import PlatformPki


class PdfReportMaker:
    def __init__(self, pki: PlatformPki) -> None:
        der = serialization.Encoding.DER
        pkcs8 = (serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        self._certs = (
            pki.signer_cert.public_bytes(der),
            pki.root_cert.public_bytes(der),
            pki.tsa_cert.public_bytes(der),
        )
        self._signer_key = pki.signer_key.private_bytes(*pkcs8)
        self._tsa_key = pki.tsa_key.private_bytes(*pkcs8)

    def make(self, data: ReportData) -> bytes:
        signer, root, tsa = self._certs
        reason = "DualSign 出证报告" if data.language == "zh" else "DualSign evidence report"
        return sign_report(render(data), signer, self._signer_key, root, tsa, self._tsa_key, reason)
