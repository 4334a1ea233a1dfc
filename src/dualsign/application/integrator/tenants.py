"""Tenants and their API keys. Keys are shown once; only a hash of the secret is stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from dualsign.application.ports import Clock, IdFactory, UnitOfWork
from dualsign.application.records import ApiKey, Tenant
from dualsign.domain.errors import FieldProblem, InvalidInput, NotFound, Unauthorized

KEY_PREFIX = "dsk"
_KEY_FORMAT = re.compile(r"^dsk_([0-9a-f]{16})_([A-Za-z0-9_-]{32,64})$")


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    tenant_id: str
    secret: str  # the whole key as the integrator sends it; never stored

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"IssuedKey(key_id={self.key_id!r}, tenant_id={self.tenant_id!r})"


def _hash(secret: str) -> str:
    # The secret is 256 random bits: a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


def create_tenant(uow: UnitOfWork, clock: Clock, ids: IdFactory, name: str) -> tuple[Tenant, IssuedKey]:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput([FieldProblem("name", "must be 1 to 200 characters")])
    with uow:
        tenant = Tenant(ids.new_id("ten"), name, clock.now())
        uow.tenants.add(tenant)
        key = _new_key(uow, clock, tenant.id, "initial key")
        uow.commit()
    return tenant, key


def get_tenant(uow: UnitOfWork, tenant_id: str) -> Tenant | None:
    with uow:
        return uow.tenants.get(tenant_id)


def issue_api_key(uow: UnitOfWork, clock: Clock, tenant_id: str, label: str) -> IssuedKey:
    with uow:
        if uow.tenants.get(tenant_id) is None:
            raise NotFound("tenant", tenant_id)
        key = _new_key(uow, clock, tenant_id, label.strip()[:200] or "api key")
        uow.commit()
    return key


def _new_key(uow: UnitOfWork, clock: Clock, tenant_id: str, label: str) -> IssuedKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    uow.api_keys.add(ApiKey(key_id, tenant_id, _hash(secret), label, clock.now()))
    return IssuedKey(key_id, tenant_id, f"{KEY_PREFIX}_{key_id}_{secret}")


def list_api_keys(uow: UnitOfWork, tenant_id: str) -> list[ApiKey]:
    with uow:
        return list(uow.api_keys.list_for(tenant_id))


def revoke_api_key(uow: UnitOfWork, clock: Clock, tenant_id: str, key_id: str) -> None:
    with uow:
        key = uow.api_keys.get(key_id)
        if key is None or key.tenant_id != tenant_id:
            raise NotFound("api key", key_id)
        if key.revoked_at is None:
            uow.api_keys.revoke(key_id, clock.now())
            uow.commit()


def authenticate(uow: UnitOfWork, presented: str) -> str:
    """The tenant id a presented API key belongs to; ``Unauthorized`` for anything else."""
    return authenticate_key(uow, presented).tenant_id


def authenticate_key(uow: UnitOfWork, presented: str) -> ApiKey:
    """The API key presented (its id names who acted in records and logs); ``Unauthorized`` for a key
    that is malformed, unknown or revoked."""
    m = _KEY_FORMAT.match(presented.strip())
    if not m:
        raise Unauthorized("malformed API key")
    with uow:
        key = uow.api_keys.get(m.group(1))
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(m.group(2))):
        raise Unauthorized("unknown API key")
    if key.revoked_at is not None:
        raise Unauthorized("API key revoked")
    return key
