"""The ``ReportMaker`` port: render the evidence report and PAdES-sign it with the platform's sealing
certificate and the configured TSA (the same signer as documents)."""

from __future__ import annotations

from dualsign.application.evidence.ports import ReportData
from dualsign.reports.evidence_report import render
from dualsign.signing.authority import IssuedKey
from dualsign.signing.pades import PadesSigner, SignatureSpec


class PdfReportMaker:
    def __init__(self, pades: PadesSigner, sealing: IssuedKey) -> None:
        self.pades = pades
        self._sealing = sealing

    def make(self, data: ReportData) -> bytes:
        reason = "DualSign 出证报告" if data.language == "zh" else "DualSign evidence report"
        spec = SignatureSpec("DualSignReport", None, None, reason)
        return self.pades.sign(render(data), self._sealing, spec)
