"""Demo assets for the embedded run: an identity photo and a PDF to sign.

- ``identity-photo.jpg``: official portrait of Barack Obama (public domain, work of the U.S. federal
  government), as shipped in the ``tests/test_images`` of the face_recognition 1.3.0 sdist; resized.
- ``policy-application.pdf``: a demonstration policy application made with reportlab; no legal effect.
"""

from __future__ import annotations

from importlib import resources


def asset(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()
