"""For operators and orchestrators: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from dualsign.api.deps import ContainerDep
from dualsign.application.operations import readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", name="healthz")
def healthz() -> dict[str, str]:
    """The process answers (restart it if not)."""
    return {"status": "ok"}


@router.get("/readyz", name="readyz", responses={503: {"description": "a dependency is not usable"}})
async def readyz(c: ContainerDep) -> JSONResponse:
    """Whether this process can serve: its database, blob store and job worker (503 names what is not)."""
    r = await run_in_threadpool(readiness, c.readiness_probes())
    body: dict[str, Any] = {
        "status": "ready" if r.ready else "not ready",
        "checks": {x.name: {"ok": x.ok, "detail": x.detail} for x in r.checks},
    }
    return JSONResponse(body, status_code=200 if r.ready else 503)


@router.get("/metrics", name="metrics", response_class=Response)
async def metrics(c: ContainerDep) -> Response:
    """Prometheus text exposition."""
    data = await run_in_threadpool(c.metrics.exposition)
    return Response(data, media_type="text/plain; version=0.0.4; charset=utf-8")
