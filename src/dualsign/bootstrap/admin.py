"""What the operator's commands do outside a running service: the platform's keys, the blob key, the
engines' availability. Built from the settings like the container, so that the CLI builds nothing itself."""

from __future__ import annotations

from pathlib import Path

from dualsign.bootstrap.config import Settings
from dualsign.bootstrap.container import blob_store, pki_folder, speech_settings, vision_settings
from dualsign.engines.registry import EngineReport, check_all, check_vision
from dualsign.engines.whisper_bundled import ModelAssemblyError as ModelAssemblyError
from dualsign.engines.whisper_bundled import assemble_base, base_ready
from dualsign.signing.pki import ALGORITHMS, PlatformPki, init_pki, load_or_create, revoke
from dualsign.storage.blobs_encrypted import EncryptingBlobStore

KEY_ALGORITHMS = ALGORITHMS  # of the root and the issuing CA


def init_keys(settings: Settings, algorithm: str) -> tuple[bool, PlatformPki]:
    """Create the platform root, issuing CA, sealing key, local TSA and CRLs (existing keys are kept);
    whether anything was created, and the PKI as it now is."""
    created = init_pki(pki_folder(settings), algorithm, settings.public_url)
    return created, load_or_create(pki_folder(settings), public_url=settings.public_url)


def revoke_certificate(settings: Settings, serial: int) -> PlatformPki:
    """Revoke a certificate the issuing CA issued and re-issue its CRL; the PKI as it now is."""
    revoke(pki_folder(settings), serial)
    return load_or_create(pki_folder(settings), public_url=settings.public_url)


def encrypted_blobs(settings: Settings) -> EncryptingBlobStore | None:
    """The blob store with its keyring, to rotate its data key (None: blobs are not encrypted at rest)."""
    store = blob_store(settings)
    return store if isinstance(store, EncryptingBlobStore) else None


def engine_reports(settings: Settings) -> list[EngineReport]:
    """Every engine, selected or not: can it run here, which model, and what is missing."""
    return check_all(speech_settings(settings)) + check_vision(vision_settings(settings))


def prepare_models(settings: Settings) -> tuple[Path, bool]:
    """Join the packaged parts of the bundled models once (Whisper base; digest checked): the folder,
    and whether it was ready already. ``ModelAssemblyError`` says what is wrong."""
    cache = settings.speech.model_cache
    was_ready = base_ready(cache)
    return assemble_base(cache), was_ready
