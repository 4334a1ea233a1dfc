"""The FastAPI application factory. The use cases come in through the container; the HTTP protections
(body size, request limits, security headers, timing) are the app's own, set from the settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

import dualsign
from dualsign.api import problems
from dualsign.api.limits import BodyLimitMiddleware
from dualsign.api.rate_counters import rate_limiter
from dualsign.api.rate_limit import RateLimitMiddleware
from dualsign.api.routes import (
    console,
    keys,
    operations,
    organisations,
    pki,
    recording,
    sessions,
    signer,
    templates,
    trace,
    verification,
)
from dualsign.api.security_headers import SecurityHeadersMiddleware
from dualsign.api.timing import TimingMiddleware
from dualsign.bootstrap.container import Container


def _operation_id(route: APIRoute) -> str:
    return route.name  # stable operation ids: the route's name, never derived from the path


_log = logging.getLogger("dualsign.startup")


def _warn_when_unreachable(container: Container) -> None:
    """Links and the report's verification QR name the public URL: say so when it is only the default."""
    s = container.settings
    if not s.public_url_set:
        _log.warning(
            "DUALSIGN_PUBLIC_URL is not set: signer links, certificate CRLs and the verification QR code "
            "in every evidence report point to %s, which only this machine can open. Set it to the "
            "address signers and courts reach before sealing evidence that leaves this machine.",
            s.public_url,
        )


def create_app(container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _warn_when_unreachable(container)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="DualSign",
        version=dualsign.__version__,
        description="Audio+video dual-recorded electronic signing (双录电子签): integrator API. "
        "Errors are RFC 9457 problem details (application/problem+json).",
        generate_unique_id_function=_operation_id,
    )
    app.state.container = container
    problems.install(app)
    for router in (
        keys.router,
        organisations.router,
        templates.router,
        sessions.router,
        signer.router,
        recording.router,
        trace.router,
        console.router,
        console.pages,
        signer.pages,
        verification.router,
        verification.pages,
        verification.log,
        pki.router,
        keys.webhook_secret,
        operations.router,
    ):
        app.include_router(router)

    app.add_middleware(BodyLimitMiddleware, max_bytes=container.settings.limits.max_body_bytes)
    s = container.settings
    # one limiter for the request limits and the console's sign-in guard (in Redis when configured)
    app.state.rate_limiter = rate_limiter(s.redis_url)
    app.add_middleware(
        RateLimitMiddleware,
        limiter=app.state.rate_limiter,
        per_client=s.rate_limit_client,
        per_token=s.rate_limit_token,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(TimingMiddleware, metrics=container.metrics)
    return app
