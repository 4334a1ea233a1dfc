"""Settings: the only place that reads environment variables.

Embedded defaults need nothing set: SQLite and files under ``./var``, a secret generated on first run.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from dualsign.application.integrator.sessions import is_time_zone

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 120 * MiB  # whole request
    max_document_bytes: int = 20 * MiB  # one PDF
    max_documents: int = 10
    max_photo_bytes: int = 5 * MiB
    max_template_bytes: int = 256 * 1024
    max_session_seconds: int = 30 * 24 * 3600


@dataclass(frozen=True)
class SpeechConfig:
    asr: str = "faster-whisper"  # faster-whisper | sherpa-onnx | vosk | fake
    asr_model_dir: Path | None = None  # None: the bundled models (Whisper tiny.en for en, base for zh)
    asr_threads: int = 2
    asr_window_s: float = 15.0  # Whisper's encoder window (30 = the model's full window)
    # the bundled Mandarin model's window: answers are short, and the candidates are scored on it too
    asr_window_zh_s: float = 6.0
    tts: str = "espeak"  # espeak | fake
    vad: str = "silero"  # silero | energy
    # where bundled models that ship in parts are joined once (Whisper base): DUALSIGN_MODEL_CACHE
    model_cache: Path = field(default_factory=lambda: _default_model_cache(os.environ))


@dataclass(frozen=True)
class VisionConfig:
    face: str = "dlib"  # dlib | fake
    landmarks: str = "dlib"  # dlib | mediapipe | fake
    landmarks_model: Path | None = None  # face_landmarker.task for mediapipe
    processes: int = 0  # DUALSIGN_FACE_PROCESSES: dlib's face worker processes; 0 = one per core


@dataclass(frozen=True)
class BlobConfig:
    store: str = "fs"  # fs: files under the data directory | s3: an S3-compatible bucket with Object Lock
    s3_bucket: str = ""
    s3_endpoint_url: str | None = None  # None: AWS; else MinIO, Ceph, an object store's S3 endpoint
    s3_region: str | None = None
    s3_prefix: str = ""  # keys are <prefix>sha256/<digest>; credentials come from the AWS_* variables
    encrypt: bool = True  # every blob AES-256-GCM encrypted at rest (keys under <data>/keys/blobs)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    public_url: str
    secret_key: bytes
    host: str = "127.0.0.1"
    port: int = 8000
    # proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (the TLS proxy before the console)
    forwarded_allow_ips: str = "127.0.0.1"
    limits: Limits = field(default_factory=Limits)
    speech: SpeechConfig = field(default_factory=SpeechConfig)
    vision: VisionConfig = field(default_factory=VisionConfig)
    tsa_url: str | None = None  # an external RFC 3161 TSA; None: the built-in self-attested one
    tsa_root: Path | None = None  # PEM of the external TSA's trust anchor
    signature_level: str = "B-T"  # PAdES level of document signatures: B-T or B-LTA
    worker: str = "inline"  # inline: the API process runs due jobs; off: separate `dualsign worker` processes
    recording_grace_seconds: int = 120  # sealing waits this long for the page to close the recording
    job_lease_seconds: int = 120  # a job whose worker died is taken again after this long
    # a live frame that only feeds monitoring and waited longer is skipped when a newer one waits
    live_frame_lag_s: float = 1.0
    # the closed recording re-checked against the live decisions before QC and sealing (a job)
    post_hoc: bool = True
    # how `dualsign worker` processes get jobs: table (each polls the job table) or rq (RQ on Redis)
    job_queue: str = "table"
    redis_url: str | None = None  # shared state of several API processes (request limits, RQ jobs)
    # requests a minute from one address to the signer and verify pages (a branch's NAT: many signers)
    rate_limit_client: int = 6000
    rate_limit_token: int = 600  # requests a minute with one signer link
    webhook_allow_networks: tuple[str, ...] = ()  # internal networks callbacks may reach (CIDR)
    # a session whose template's language no working recogniser hears: refused (422) or created with
    # a warning (warn: e.g. answers typed or judged by a person)
    speech_language_check: str = "refuse"
    blobs: BlobConfig = field(default_factory=BlobConfig)
    # the local time of sessions created without their own time_zone (IANA name), as the report shows it
    time_zone: str = "Asia/Shanghai"
    # DUALSIGN_PUBLIC_URL was given: links, CRLs and the report's verification QR point where signers,
    # relying parties and courts can reach (else they name this host, which only works on this machine)
    public_url_set: bool = False
    log_format: str = "json"  # json: one object per line (secrets and ID numbers masked) | text

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


N = TypeVar("N", int, float)


def _default_model_cache(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dualsign" / "models"


def _number(env: dict[str, str], name: str, default: N, kind: type[N], what: str) -> N:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise SystemExit(f"{name} must be {what}, got {raw!r}") from None


def _int(env: dict[str, str], name: str, default: int) -> int:
    return _number(env, name, default, int, "a whole number")


def _float(env: dict[str, str], name: str, default: float) -> float:
    return _number(env, name, default, float, "a number")


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or ("true" if default else "false")).lower()
    if raw not in ("true", "false"):
        raise SystemExit(f"{name} must be true or false, got {raw!r}")
    return raw == "true"


def _secret(env: dict[str, str], data_dir: Path) -> bytes:
    given = env.get("DUALSIGN_SECRET_KEY")
    if given:
        if len(given) < 32:
            raise SystemExit("DUALSIGN_SECRET_KEY must be at least 32 characters")
        return given.encode()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip().encode()


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DUALSIGN_DATA_DIR") or "var").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    host = env.get("DUALSIGN_HOST", "127.0.0.1")
    port = _int(env, "DUALSIGN_PORT", 8000)
    limits = Limits(
        max_body_bytes=_int(env, "DUALSIGN_MAX_BODY_BYTES", Limits.max_body_bytes),
        max_document_bytes=_int(env, "DUALSIGN_MAX_DOCUMENT_BYTES", Limits.max_document_bytes),
        max_documents=_int(env, "DUALSIGN_MAX_DOCUMENTS", Limits.max_documents),
        max_photo_bytes=_int(env, "DUALSIGN_MAX_PHOTO_BYTES", Limits.max_photo_bytes),
    )
    model_dir = env.get("DUALSIGN_ASR_MODEL_DIR")
    speech = SpeechConfig(
        asr=env.get("DUALSIGN_ASR") or SpeechConfig.asr,
        asr_model_dir=Path(model_dir).resolve() if model_dir else None,
        asr_threads=_int(env, "DUALSIGN_ASR_THREADS", SpeechConfig.asr_threads),
        asr_window_s=_float(env, "DUALSIGN_ASR_WINDOW_S", SpeechConfig.asr_window_s),
        asr_window_zh_s=_float(env, "DUALSIGN_ASR_WINDOW_ZH_S", SpeechConfig.asr_window_zh_s),
        tts=env.get("DUALSIGN_TTS") or SpeechConfig.tts,
        vad=env.get("DUALSIGN_VAD") or SpeechConfig.vad,
        model_cache=Path(env["DUALSIGN_MODEL_CACHE"]).resolve()
        if env.get("DUALSIGN_MODEL_CACHE")
        else _default_model_cache(env),
    )
    landmarks_model = env.get("DUALSIGN_LANDMARKS_MODEL")
    vision = VisionConfig(
        face=env.get("DUALSIGN_FACE") or VisionConfig.face,
        landmarks=env.get("DUALSIGN_LANDMARKS") or VisionConfig.landmarks,
        landmarks_model=Path(landmarks_model).resolve() if landmarks_model else None,
        processes=_int(env, "DUALSIGN_FACE_PROCESSES", VisionConfig.processes),
    )
    tsa_root = env.get("DUALSIGN_TSA_ROOT")
    worker = env.get("DUALSIGN_WORKER") or Settings.worker
    if worker not in ("inline", "off"):
        raise SystemExit(f"DUALSIGN_WORKER must be inline or off, got {worker!r}")
    job_queue = env.get("DUALSIGN_JOB_QUEUE") or Settings.job_queue
    if job_queue not in ("table", "rq"):
        raise SystemExit(f"DUALSIGN_JOB_QUEUE must be table or rq, got {job_queue!r}")
    if job_queue == "rq" and not env.get("DUALSIGN_REDIS_URL"):
        raise SystemExit("DUALSIGN_JOB_QUEUE=rq needs DUALSIGN_REDIS_URL (redis://host:6379/0)")
    level = env.get("DUALSIGN_SIGNATURE_LEVEL") or Settings.signature_level
    if level not in ("B-T", "B-LTA"):
        raise SystemExit(f"DUALSIGN_SIGNATURE_LEVEL must be B-T or B-LTA, got {level!r}")
    allow = tuple(n.strip() for n in env.get("DUALSIGN_WEBHOOK_ALLOW_NETWORKS", "").split(",") if n.strip())
    for network in allow:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise SystemExit(f"DUALSIGN_WEBHOOK_ALLOW_NETWORKS: {network!r} is not an IP network") from None
    log_format = env.get("DUALSIGN_LOG_FORMAT") or Settings.log_format
    if log_format not in ("json", "text"):
        raise SystemExit(f"DUALSIGN_LOG_FORMAT must be json or text, got {log_format!r}")
    store = env.get("DUALSIGN_BLOBS") or BlobConfig.store
    if store not in ("fs", "s3"):
        raise SystemExit(f"DUALSIGN_BLOBS must be fs or s3, got {store!r}")
    if store == "s3" and not env.get("DUALSIGN_S3_BUCKET"):
        raise SystemExit("DUALSIGN_BLOBS=s3 needs DUALSIGN_S3_BUCKET (a bucket with Object Lock enabled)")
    blobs = BlobConfig(
        encrypt=_flag(env, "DUALSIGN_ENCRYPT_BLOBS", BlobConfig.encrypt),
        store=store,
        s3_bucket=env.get("DUALSIGN_S3_BUCKET", ""),
        s3_endpoint_url=env.get("DUALSIGN_S3_ENDPOINT_URL") or None,
        s3_region=env.get("DUALSIGN_S3_REGION") or None,
        s3_prefix=env.get("DUALSIGN_S3_PREFIX", ""),
    )
    speech_check = env.get("DUALSIGN_SPEECH_LANGUAGE_CHECK") or Settings.speech_language_check
    if speech_check not in ("refuse", "warn"):
        raise SystemExit(f"DUALSIGN_SPEECH_LANGUAGE_CHECK must be refuse or warn, got {speech_check!r}")
    time_zone = env.get("DUALSIGN_TIME_ZONE") or Settings.time_zone
    if not is_time_zone(time_zone):
        raise SystemExit(
            f"DUALSIGN_TIME_ZONE must be an IANA time zone (e.g. Asia/Shanghai), got {time_zone!r}"
        )
    return Settings(
        time_zone=time_zone,
        public_url_set=bool(env.get("DUALSIGN_PUBLIC_URL")),
        speech_language_check=speech_check,
        redis_url=env.get("DUALSIGN_REDIS_URL") or None,
        job_queue=job_queue,
        rate_limit_client=_int(env, "DUALSIGN_RATE_LIMIT_CLIENT", Settings.rate_limit_client),
        rate_limit_token=_int(env, "DUALSIGN_RATE_LIMIT_TOKEN", Settings.rate_limit_token),
        job_lease_seconds=_int(env, "DUALSIGN_JOB_LEASE_SECONDS", Settings.job_lease_seconds),
        live_frame_lag_s=_float(env, "DUALSIGN_LIVE_FRAME_LAG_S", Settings.live_frame_lag_s),
        post_hoc=_flag(env, "DUALSIGN_POST_HOC", Settings.post_hoc),
        blobs=blobs,
        log_format=log_format,
        webhook_allow_networks=allow,
        recording_grace_seconds=_int(
            env, "DUALSIGN_RECORDING_GRACE_SECONDS", Settings.recording_grace_seconds
        ),
        signature_level=level,
        worker=worker,
        tsa_url=env.get("DUALSIGN_TSA_URL") or None,
        tsa_root=Path(tsa_root).resolve() if tsa_root else None,
        vision=vision,
        speech=speech,
        data_dir=data_dir,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'dualsign.db'}",
        public_url=(env.get("DUALSIGN_PUBLIC_URL") or f"http://{host}:{port}").rstrip("/"),
        secret_key=_secret(env, data_dir),
        host=host,
        port=port,
        forwarded_allow_ips=env.get("DUALSIGN_FORWARDED_ALLOW_IPS", Settings.forwarded_allow_ips),
        limits=limits,
    )
