"""Online verification: the same verdict as ``dualsign-verify``, for a bundle uploaded here, and a
look-up of a manifest digest in the platform's transparency log. Public: no API key, no personal data."""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from dualsign.api.deps import ContainerDep
from dualsign.application.evidence.sealing import (
    consistency,
    current_checkpoint,
    lookup_manifest,
    platform_trust,
)
from dualsign.domain.errors import FieldProblem, InvalidInput
from dualsign_verify.bundle import MalformedBundle, read_bundle
from dualsign_verify.trust import TrustPolicy
from dualsign_verify.verifier import verify

router = APIRouter(prefix="/verify", tags=["verification"])
pages = APIRouter(include_in_schema=False)


def _verify(data: bytes, trust: TrustPolicy) -> dict[str, Any]:
    try:
        report = verify(read_bundle(data), trust, sm3=True)  # the platform checks both digests
    except MalformedBundle as exc:
        raise InvalidInput([FieldProblem("body", f"not a readable DualSign bundle: {exc}")]) from None
    result = report.to_dict()
    result["trust_policy"] = {  # what this page trusted, to compare with the operator's published file
        "platform_roots": [f"sha256:{a.sha256}" for a in trust.platform_roots],
        "tsa_roots": [f"sha256:{a.sha256}" for a in trust.tsa_roots],
        "logs": [{"origin": k.origin, "name": k.name} for k in trust.logs],
    }
    return result


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
    """Verify an evidence bundle against this platform's own trust policy (its root, TSA root and log
    key); the report has the numbered steps and the fingerprints trusted."""
    data = await request.body()
    return await run_in_threadpool(_verify, data, platform_trust(c.evidence_keys, c.tsa))


@router.get("/trust", name="trust_policy")
def trust_policy(c: ContainerDep) -> Response:
    """This platform's trust file (the same as ``dualsign keys export-trust``): what ``POST /verify``
    trusts. Verifiers should compare it with the copy the operator publishes elsewhere."""
    return Response(platform_trust(c.evidence_keys, c.tsa).to_json(), media_type="application/json")


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
