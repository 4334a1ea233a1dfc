"""Online verification: the same verdict as ``dualsign-verify``, for a bundle uploaded here, and a
look-up of a manifest digest in the platform's transparency log. Public: no API key, no personal data."""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from dualsign.api.deps import ContainerDep
from dualsign.application.sealing import consistency, current_checkpoint, lookup_manifest
from dualsign.domain.errors import FieldProblem, InvalidInput
from dualsign.signing.timestamp_binding import binding_problem
from dualsign_verify.bundle import Bundle, MalformedBundle, read_bundle
from dualsign_verify.verifier import verify

router = APIRouter(prefix="/verify", tags=["verification"])
TIMESTAMP_STEP = 7
pages = APIRouter(include_in_schema=False)


def _verify(data: bytes, root_pem: bytes) -> dict[str, Any]:
    from cryptography import x509

    try:
        bundle = read_bundle(data)
    except MalformedBundle as exc:
        raise InvalidInput([FieldProblem("body", f"not a readable DualSign bundle: {exc}")]) from None
    report = verify(bundle, [x509.load_pem_x509_certificate(root_pem)]).to_dict()
    _bind_timestamp(bundle, root_pem, report)
    return report


def _bind_timestamp(bundle: Bundle, root_pem: bytes, report: dict[str, Any]) -> None:
    """Step 7 also fails when the token's unsigned bytes (carried certificates, signer identifier)
    disagree with the TSA certificate it was validated against (``signing.timestamp_binding``)."""
    step = next((s for s in report["steps"] if s["step"] == TIMESTAMP_STEP), None)
    token, tsa = bundle.files.get("manifest.tsr"), bundle.files.get("certs/tsa.pem")
    if step is None or step["status"] != "PASSED" or token is None or tsa is None:
        return
    issuers = [
        root_pem,
        *([bundle.files["certs/tsa-root.pem"]] if "certs/tsa-root.pem" in bundle.files else []),
    ]
    problem = binding_problem(token, tsa, issuers)
    if problem is not None:
        step["status"], step["reason"] = "FAILED", problem
        report["verdict"] = "FAILED"


@router.post(
    "",
    name="verify_bundle",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def verify_bundle(request: Request, c: ContainerDep) -> dict[str, Any]:
    """Verify an evidence bundle against this platform's root; the report has the numbered steps."""
    data = await request.body()
    return await run_in_threadpool(_verify, data, c.evidence_keys.certificates()["root"])


@router.get("/manifests/{manifest_sha256}", name="lookup_manifest")
def manifest(manifest_sha256: str, c: ContainerDep) -> dict[str, Any]:
    """Is a manifest with this SHA-256 sealed here, and where is it in the transparency log?"""
    return lookup_manifest(c.new_uow(), manifest_sha256)


log = APIRouter(prefix="/log", tags=["transparency log"])


@log.get("/checkpoint", name="log_checkpoint", response_class=PlainTextResponse)
def checkpoint(c: ContainerDep) -> PlainTextResponse:
    """The platform log's signed checkpoint (C2SP tlog-checkpoint signed note), for external witnesses."""
    return PlainTextResponse(current_checkpoint(c.new_uow(), c.seal_services))


@log.get("/key", name="log_key")
def log_key(c: ContainerDep) -> dict[str, Any]:
    """The log's public key: checkpoints verify against it."""
    result: dict[str, Any] = json.loads(c.evidence_keys.log_key_json())
    return result


@log.get("/consistency", name="log_consistency")
def log_consistency(
    c: ContainerDep, old: Annotated[int, Query()], new: Annotated[int, Query()]
) -> dict[str, Any]:
    """Proof that the log at size ``old`` is a prefix of the log at size ``new`` (it only grew)."""
    return consistency(c.new_uow(), old, new)


@pages.get("/verify", response_class=HTMLResponse)
def page() -> HTMLResponse:
    html = resources.files("dualsign.web").joinpath("verify.html").read_text(encoding="utf-8")
    return HTMLResponse(html)
