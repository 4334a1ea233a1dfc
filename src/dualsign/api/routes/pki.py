"""The platform's public certificates and revocation lists (named in every certificate it issues)."""

from __future__ import annotations

from typing import Literal

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter
from fastapi.responses import Response

from dualsign.api.deps import ContainerDep
from dualsign.domain.errors import NotFound

router = APIRouter(prefix="/pki", tags=["pki"])


@router.get(
    "/{name}.crl",
    name="pki_crl",
    response_class=Response,
    responses={200: {"content": {"application/pkix-crl": {}}}},
)
def crl(name: Literal["root", "ca"], c: ContainerDep) -> Response:
    """The list as last published by any process (a revocation through the API re-issues ``ca.crl`` at
    once); the one this process issued at start when the file is missing."""
    if c.pki is None:
        raise NotFound("revocation list", name)
    published = c.pki.folder / f"{name}.crl"
    if published.is_file():
        return Response(published.read_bytes(), media_type="application/pkix-crl")
    lst = c.pki.root_crl if name == "root" else c.pki.ca_crl
    return Response(lst.public_bytes(serialization.Encoding.DER), media_type="application/pkix-crl")


@router.get(
    "/{name}.pem",
    name="pki_certificate",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
def certificate(name: Literal["root", "ca"], c: ContainerDep) -> Response:
    if c.pki is None:
        raise NotFound("certificate", name)
    cert = c.pki.root_cert if name == "root" else c.pki.ca_cert
    return Response(cert.public_bytes(serialization.Encoding.PEM), media_type="application/x-pem-file")
