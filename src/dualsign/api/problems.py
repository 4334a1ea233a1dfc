"""RFC 9457 problem details for every error the API returns: one builder (``problem``), used by the
exception handlers and, as an ASGI response, by the middlewares that answer before any route runs
(the body limit's 413, the rate limit's 429)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from dualsign.domain.errors import DualSignError
from dualsign.engines.base import EngineUnavailable

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, title: str, detail: str, code: str, instance: str = "", **extra: Any
) -> JSONResponse:
    """The problem document; ``extra`` adds members (``retry_after_s`` also sets ``Retry-After``)."""
    body: dict[str, Any] = {
        "type": f"https://dualsign.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if "retry_after_s" in extra:
        headers["Retry-After"] = str(extra["retry_after_s"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DualSignError)
    async def _domain(request: Request, exc: DualSignError) -> JSONResponse:
        return problem(exc.http_status, exc.title, str(exc), exc.code, request.url.path, **exc.extra())

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        # the client went away mid-body (a closed tab, a dropped network): nothing was stored, nobody
        # reads the answer, and it is no server error worth a traceback (the page retries the chunk)
        return Response(status_code=499)

    @app.exception_handler(EngineUnavailable)
    async def _engine(request: Request, exc: EngineUnavailable) -> JSONResponse:
        return problem(
            503, "Engine unavailable", str(exc), "engine_unavailable", request.url.path, engine=exc.engine
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path", "header")),
                "reason": e["msg"],
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem(422, "Invalid input", detail, "invalid_input", request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code, str(exc.detail), str(exc.detail), f"http_{exc.status_code}", request.url.path
        )
