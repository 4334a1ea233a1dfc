"""``dualsign keys``: the platform PKI (root, issuing CA, CRLs), the trust file and the blob key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dualsign.application.integrator.organisations import certificate_holder
from dualsign.bootstrap.admin import KEY_ALGORITHMS, encrypted_blobs, init_keys, revoke_certificate
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import pki_folder
from dualsign.cli import shared

app = typer.Typer(help="The platform PKI (root, issuing CA, CRLs) and blob keys.", no_args_is_help=True)


@app.command("init")
def keys_init(
    algorithm: Annotated[str, typer.Option(help="ec (ECDSA P-256) or rsa (RSA 3072) for the CAs")] = "ec",
) -> None:
    """Create the platform root, issuing CA, sealing key, local TSA and CRLs (keeps existing keys)."""
    if algorithm not in KEY_ALGORITHMS:
        shared.err.print(f"[red]--algorithm must be one of {', '.join(KEY_ALGORITHMS)}[/red]")
        raise typer.Exit(2)
    settings = load_settings()
    folder = pki_folder(settings)
    created, pki = init_keys(settings, algorithm)
    shared.out.print(("created" if created else "already present") + f": {folder} ({pki.algorithm})")
    for label, cert in (("root", pki.root_cert), ("issuing CA", pki.ca_cert)):
        shared.out.print(f"{label:>11}: {cert.subject.rfc4514_string()}  serial {cert.serial_number:x}")
    shared.out.print(
        f"       CRLs: {folder / 'root.crl'}, {folder / 'ca.crl'}  (served at /pki/root.crl, /pki/ca.crl)"
    )


@app.command("revoke")
def keys_revoke(serial: str) -> None:
    """Revoke a certificate issued by the issuing CA (hex serial) and re-issue its CRL. An
    organisation's certificate is refused: revoke the organisation (``dualsign organisation revoke``)."""
    settings = load_settings()
    try:
        number = int(serial, 16)
    except ValueError:
        shared.err.print(f"[red]{serial!r} is not a hexadecimal serial number[/red]")
        raise typer.Exit(2) from None
    with shared.service() as c:
        holder = certificate_holder(c.new_uow(), number)
    if holder is not None:  # the CRL alone would leave the organisation active: refused, said how
        who = f"{serial} is a certificate of organisation {holder.id} ({holder.name})"
        if holder.revoked_at is not None:
            said = f"{who}, revoked at {holder.revoked_at:%Y-%m-%d %H:%M:%S} UTC: the CRL lists it already"
        else:
            said = (
                f"{who}: revoke the organisation instead, so that its sessions stop and the revocation is "
                f"on record: dualsign organisation revoke {holder.id} --reason <reason> "
                f"(or POST /v1/organisations/{holder.id}/revoke)"
            )
        shared.err.print(said, style="red", markup=False, highlight=False)
        raise typer.Exit(2)
    pki = revoke_certificate(settings, number)
    shared.out.print(f"revoked {serial}; the CA's CRL lists {len(list(pki.ca_crl))} certificate(s)")


@app.command("export-trust")
def keys_export_trust(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the trust file here (default: stdout)")
    ] = None,
) -> None:
    """The platform's trust file for dualsign-verify --trust: its root, the external TSA's root and the
    transparency log's key. Publish it where verifiers get it independently of any bundle."""
    from dualsign.application.evidence.sealing import platform_trust

    with shared.errors(), shared.service() as c:
        policy = platform_trust(c.evidence_keys, c.tsa)
    data = policy.to_json() + b"\n"
    if output is None:
        sys.stdout.write(data.decode())
    else:
        output.write_bytes(data)
        shared.err.print(f"trust file written: {output}")
    for anchor in policy.platform_roots:
        shared.err.print(f"platform root  sha256:{anchor.sha256}")
    for anchor in policy.tsa_roots:
        shared.err.print(f"TSA root       sha256:{anchor.sha256}")
    for log in policy.logs:
        shared.err.print(f"log            {log.origin} ({log.name})")


@app.command("rotate-blobs")
def keys_rotate_blobs(
    reencrypt: Annotated[
        bool, typer.Option(help="also rewrite every blob of an older key (or none) under the new key")
    ] = False,
) -> None:
    """A new data key for blobs at rest; new blobs are encrypted with it, older keys still decrypt."""
    store = encrypted_blobs(load_settings())
    if store is None:
        shared.err.print(
            "[red]blobs are not encrypted (DUALSIGN_ENCRYPT_BLOBS=false): no key to rotate[/red]"
        )
        raise typer.Exit(2)
    key_id = store.rotate()
    shared.out.print(f"new blob key {key_id}; keys: {', '.join(store.keys.ids())}")
    if reencrypt:
        moved = store.reencrypt()
        shared.out.print(
            f"re-encrypted under {key_id}: "
            + (", ".join(f"{n} from {k}" for k, n in moved.items()) or "none")
        )
