"""The platform keys as the sealing use case needs them (the ``EvidenceKeys`` port)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from dualsign.signing.pki import PlatformPki
from dualsign_verify.checkpoint import Checkpoint, sign


class PlatformEvidenceKeys:
    def __init__(self, pki: PlatformPki) -> None:
        self.pki = pki

    def sign_manifest(self, data: bytes) -> bytes:
        return self.pki.signer_key.sign(data, ec.ECDSA(hashes.SHA256()))

    def sign_checkpoint(self, origin: str, size: int, root: bytes) -> str:
        return sign(Checkpoint(origin, size, root), self.pki.log_name, self.pki.log_key)

    def certificates(self) -> dict[str, bytes]:
        p = self.pki
        return {"root": p.pem(p.root_cert), "platform": p.pem(p.signer_cert), "tsa": p.pem(p.tsa_cert)}

    def log_key_json(self) -> bytes:
        return self.pki.log_public_json()
