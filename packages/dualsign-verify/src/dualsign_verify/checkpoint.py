"""Signed checkpoints of the platform transparency log (C2SP ``tlog-checkpoint`` in a ``signed-note``).

Body: ``<origin>\\n<tree size>\\n<base64 root hash>\\n``; then an empty line and one signature line
``— <key name> <base64(4-byte key id ‖ Ed25519 signature)>``. The key id is the first 4 bytes of
SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key), as in the signed-note spec for Ed25519 keys.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = b"\x01"
DASH = "\u2014"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public).digest()[:4]


def sign(checkpoint: Checkpoint, name: str, key: Ed25519PrivateKey) -> str:
    public = key.public_key().public_bytes_raw()
    body = checkpoint.body()
    sig = key.sign(body.encode())
    return f"{body}\n{DASH} {name} {base64.b64encode(key_id(name, public) + sig).decode()}\n"


def verifier_key(name: str, public: bytes) -> str:
    """The note verifier key string: ``<name>+<hex key id>+<base64(0x01 ‖ public key)>``."""
    return f"{name}+{key_id(name, public).hex()}+{base64.b64encode(ALG_ED25519 + public).decode()}"


class CheckpointError(Exception):
    pass


def parse_and_verify(note: str, name: str, public: bytes) -> Checkpoint:
    """The checkpoint in ``note`` if ``name``'s key signed it; ``CheckpointError`` otherwise."""
    body, sep, sigs = note.partition("\n\n")
    if not sep:
        raise CheckpointError("not a signed note (no blank line before the signatures)")
    body += "\n"
    lines = body.split("\n")
    if len(lines) < 4:
        raise CheckpointError("checkpoint body must have origin, size and root")
    try:
        size = int(lines[1])
        root_hash = base64.b64decode(lines[2], validate=True)
    except ValueError as exc:
        raise CheckpointError(f"malformed checkpoint body: {exc}") from None
    wanted = key_id(name, public)
    for line in sigs.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or parts[1] != name:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError:
            continue
        if blob[:4] != wanted:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], body.encode())
        except InvalidSignature:
            raise CheckpointError(f"the signature of {name} does not verify") from None
        return Checkpoint(lines[0], size, root_hash)
    raise CheckpointError(f"no signature by {name}")
