"""Named dependencies for the routes: the container, the calling tenant, the signer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dualsign.api.rate_counters import RateLimiter
from dualsign.application.integrator.tenants import authenticate_key
from dualsign.application.records import ApiKey
from dualsign.bootstrap.container import Container
from dualsign.domain.errors import TokenInvalid, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer dsk_…`")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_rate_limiter(request: Request) -> RateLimiter:
    """The app's request counter (shared by the request limits and the console's sign-in guard)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def current_key(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    if credentials is None:
        raise Unauthorized("an API key is required: Authorization: Bearer dsk_…")
    return authenticate_key(container.new_uow(), credentials.credentials)


CallerKey = Annotated[ApiKey, Depends(current_key)]  # the calling API key (who acted: its id)


def current_tenant(key: CallerKey) -> str:
    return key.tenant_id


TenantId = Annotated[str, Depends(current_tenant)]


def signer_token(x_signer_token: Annotated[str | None, Header()] = None) -> str:
    if not x_signer_token:
        raise TokenInvalid("the X-Signer-Token header (the token of the signer link) is required")
    return x_signer_token


SignerToken = Annotated[str, Depends(signer_token)]
