"""API keys of the calling tenant: issue (shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from dualsign.api.deps import ContainerDep, TenantId
from dualsign.api.schemas import ApiKeyCreate, ApiKeyIssued, ApiKeyOut
from dualsign.application.integrator.tenants import issue_api_key, list_api_keys, revoke_api_key
from dualsign.application.outbox.webhooks import tenant_secret

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])


@router.post("", status_code=status.HTTP_201_CREATED, name="create_api_key")
def create_api_key(body: ApiKeyCreate, tenant: TenantId, c: ContainerDep) -> ApiKeyIssued:
    issued = issue_api_key(c.new_uow(), c.clock, tenant, body.label)
    key = next(k for k in list_api_keys(c.new_uow(), tenant) if k.id == issued.key_id)
    return ApiKeyIssued(**ApiKeyOut.of(key).model_dump(), key=issued.secret)


@router.get("", name="list_api_keys")
def list_keys(tenant: TenantId, c: ContainerDep) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(k) for k in list_api_keys(c.new_uow(), tenant)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, name="revoke_api_key")
def revoke_key(key_id: str, tenant: TenantId, c: ContainerDep) -> Response:
    revoke_api_key(c.new_uow(), c.clock, tenant, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


webhook_secret = APIRouter(prefix="/v1/webhook-secret", tags=["webhooks"])


@webhook_secret.get("", name="get_webhook_secret")
def get_webhook_secret(tenant: TenantId, c: ContainerDep) -> dict[str, str]:
    """The key your receiver uses to check X-DualSign-Signature (HMAC-SHA256 over "<timestamp>.<body>")."""
    return {"secret_hex": tenant_secret(c.settings.secret_key, tenant).hex(), "algorithm": "HMAC-SHA256"}
