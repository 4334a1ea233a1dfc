"""Signing: PAdES signatures per second on this machine, beside a naive baseline.

Both sides use the same platform PKI (issuing CA, one fresh event certificate per document), the same
RFC 3161 TSA (the platform's local TSA behind HTTP on 127.0.0.1, which also serves the CRLs) and the
same documents (the 1-page demo application and a 20-page contract), two at a time on the 2 cores:

- DualSign: two worker processes, each with one ``PadesDocumentSigner`` (keys, chain and CRLs parsed
  once, appearances as pictures: handwriting + name seal, in the field placed by anchor text at session
  creation);
- naive: one ``pyhanko sign addsig`` process per document (key and certificates read from PEM files,
  pyHanko's default text appearance), two processes at a time.

Printed: signatures/s for each, and the ratio (targets: ≥3× the baseline, ≥20 B-T signatures/s); then
B-T on the 1-page document with the embedded default's local TSA in each worker (no HTTP hop).
Run: ``.venv/bin/python bench/signing.py [--docs 40] [--naive-docs 12]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asn1crypto import tsp
from cryptography.hazmat.primitives import serialization

from dualsign.application.integrator.ports import Placed
from dualsign.demo import asset
from dualsign.domain.templates import SignatureField
from dualsign.signing import marks
from dualsign.signing.authority import IssuingAuthority
from dualsign.signing.document_signer import PadesDocumentSigner
from dualsign.signing.pades import PadesSigner
from dualsign.signing.pki import PlatformPki, load_or_create
from dualsign.signing.placement import place
from dualsign.signing.tsa_local import InsecureLocalTSA

STROKES = [[[10, 60], [40, 20], [70, 80], [100, 30], [130, 70]], [[150, 50], [200, 45], [260, 20]]]
FIELD = SignatureField(role="signer", anchor="Policyholder (signature):")


def twenty_pages() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for page in range(1, 21):
        c.setFont("Helvetica", 10)
        for line in range(60):
            c.drawString(
                56, 800 - line * 12, f"Clause {page}.{line + 1}: the parties agree to the terms set out here."
            )
        if page == 20:
            c.drawString(56, 60, "Policyholder (signature):")
        c.showPage()
    c.save()
    return buf.getvalue()


class _Tsa(BaseHTTPRequestHandler):
    pki: PlatformPki
    tsa: InsecureLocalTSA

    def do_POST(self) -> None:
        request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
        stamper = self.tsa.pdf_timestamper()  # the platform's local TSA, at the current time
        self._send(stamper.request_tsa_response(request).dump(), "application/timestamp-reply")

    def do_GET(self) -> None:
        crl = {"/pki/ca.crl": self.pki.ca_crl, "/pki/root.crl": self.pki.root_crl}.get(self.path)
        if crl is None:
            self.send_error(404)
            return
        self._send(crl.public_bytes(serialization.Encoding.DER), "application/pkix-crl")

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


_worker: PadesDocumentSigner | None = None
_docs: dict[str, bytes] = {}
_placed: dict[str, Placed] = {}


def _init(folder: str, url: str, level: str, docs: dict[str, bytes], local_tsa: bool) -> None:
    from pyhanko.sign.timestamps import HTTPTimeStamper

    global _worker
    pki = load_or_create(Path(folder), public_url=url)
    http = HTTPTimeStamper(f"{url}/tsr")
    stamper = InsecureLocalTSA(pki.tsa_cert, pki.tsa_key).pdf_timestamper if local_tsa else (lambda: http)
    pades = PadesSigner(
        pki.root_cert, (pki.ca_cert, pki.root_cert), (pki.root_crl, pki.ca_crl), stamper, level=level
    )  # type: ignore[arg-type]
    _worker = PadesDocumentSigner(IssuingAuthority(pki, url), pades)
    _docs.update(docs)
    for name, data in docs.items():  # as at session creation: fields are placed once, then kept
        p = place(data, anchor=FIELD.anchor)
        _placed[name] = Placed("signer", p.page, p.box)


def _sign(doc: str) -> int:
    assert _worker is not None
    mark = _worker.handwriting(STROKES, 300, 100)
    signed = _worker.sign_as_signer(
        _docs[doc],
        field=FIELD,
        placed=_placed[doc],
        field_name="DualSignSigner1",
        marks=[mark],
        seal_name="张三",
        signer_name="张三",
        id_hash="ab" * 16,
        session_id="ses_bench",
        reason="bench",
        at=dt.datetime.now(dt.UTC),
    )
    return len(signed.data)


def ours(
    folder: Path, url: str, level: str, docs: dict[str, bytes], name: str, n: int, local_tsa: bool = False
) -> float:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2, initializer=_init, initargs=(str(folder), url, level, docs, local_tsa)) as pool:
        pool.map(_sign, [name] * 4)  # warm: imports, first TSA connection
        t = time.perf_counter()
        pool.map(_sign, [name] * n, chunksize=1)
        return n / (time.perf_counter() - t)


def naive(folder: Path, pki: PlatformPki, url: str, level: str, pdf: Path, n: int) -> float:
    authority = IssuingAuthority(pki, url)
    pyhanko = str(Path(sys.executable).with_name("pyhanko"))
    jobs = []
    for i in range(n):
        issued = authority.event_certificate("张三", "ab" * 16, "ses_bench", dt.datetime.now(dt.UTC))
        key, cert = folder / f"k{i}.pem", folder / f"c{i}.pem"
        key.write_bytes(
            issued.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        cert.write_bytes(issued.cert.public_bytes(serialization.Encoding.PEM))
        cmd = [pyhanko, "sign", "addsig", "--field", "-1/72,56,232,120/Sig", "--timestamp-url", f"{url}/tsr"]
        cmd += (
            ["--use-pades-lta", "--with-validation-info", "--trust", str(folder / "root.pem")]
            if level == "B-LTA"
            else ["--use-pades"]
        )
        cmd += [
            "pemder",
            "--key",
            str(key),
            "--cert",
            str(cert),
            "--chain",
            str(folder / "ca.pem"),
            "--no-pass",
        ]
        cmd += [str(pdf), str(folder / f"out{i}.pdf")]
        jobs.append(cmd)

    def run(cmd: list[str]) -> None:
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"pyhanko failed: {r.stderr[-800:]}")

    t = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, jobs))
    return n / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--naive-docs", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = HTTPServer(("127.0.0.1", 0), _Tsa)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        pki = load_or_create(folder / "pki", public_url=url)
        _Tsa.pki, _Tsa.tsa = pki, InsecureLocalTSA(pki.tsa_cert, pki.tsa_key)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        (folder / "root.pem").write_bytes(pki.pem(pki.root_cert))
        (folder / "ca.pem").write_bytes(pki.pem(pki.ca_cert))
        docs = {"1 page": asset("policy-application.pdf"), "20 pages": twenty_pages()}
        for name, data in docs.items():
            (folder / f"{name}.pdf").write_bytes(data)
        marks.round_seal("warm")  # the CJK font, once, outside the timings
        print(f"{'level':>6} {'document':>9} {'DualSign sig/s':>15} {'naive sig/s':>12} {'ratio':>6}")
        for level in ("B-T", "B-LTA"):
            for name in docs:
                fast = ours(folder / "pki", url, level, docs, name, args.docs)
                slow = naive(folder, pki, url, level, folder / f"{name}.pdf", args.naive_docs)
                print(f"{level:>6} {name:>9} {fast:>15.1f} {slow:>12.2f} {fast / slow:>6.1f}")
        embedded = ours(folder / "pki", url, "B-T", docs, "1 page", args.docs, local_tsa=True)
        print(f"B-T, 1 page, the embedded default's in-process local TSA: {embedded:.1f} signatures/s")
        server.shutdown()
    print(f"cores: {os.cpu_count()}; targets: ratio ≥ 3, B-T ≥ 20 signatures/s")


if __name__ == "__main__":
    main()
