"""The one composition root: settings in, wired services out."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from sqlalchemy import Engine, text

from dualsign.application.evidence.ports import EvidenceKeys, ReportMaker, Timestamper
from dualsign.application.evidence.sealing import (
    SealingFailed,
    SealServices,
    Waiting,
    ensure_report,
    seal_session,
)
from dualsign.application.integrator.organisations import OrganisationServices
from dualsign.application.integrator.ports import OrganisationKeys
from dualsign.application.integrator.sessions import SessionServices, UploadLimits
from dualsign.application.integrator.signer_links import SignerLinks
from dualsign.application.integrator.template_catalog import sync_builtin_templates
from dualsign.application.operations import store_figures
from dualsign.application.outbox.callback_policy import CallbackPolicy, parse_networks
from dualsign.application.outbox.jobs import (
    ANALYSE_RECORDING,
    RENDER_REPORT,
    SEAL_SESSION,
    JobRunner,
    RunAgain,
    check_version,
)
from dualsign.application.outbox.webhooks import DELIVER_WEBHOOK, Delivery, deliver
from dualsign.application.ports import BlobStore, Clock, IdFactory
from dualsign.application.qc.post_hoc import PostHocServices, analyse_recording
from dualsign.application.records import Job
from dualsign.application.review.console import ConsoleTokens
from dualsign.application.signer.documents import DocumentServices
from dualsign.application.signer.flow import SignerServices
from dualsign.application.signer.ports import DocumentSigner
from dualsign.bootstrap.config import Settings
from dualsign.bootstrap.system import RandomIds, SystemClock
from dualsign.engines.registry import (
    SpeechEngines,
    SpeechSettings,
    VisionSettings,
    build_speech,
    build_vision,
)
from dualsign.engines.vision_base import VisionEngines
from dualsign.jobs.worker import WorkerLoop
from dualsign.observability.metrics import Metrics
from dualsign.reports.pdf_reports import PdfReportMaker
from dualsign.runtime import (
    JOB_NICE,
    RankedThreadPool,
    defer_to_live_work,
    lower_thread_priority,
    usable_cores,
)
from dualsign.signing.authority import IssuedKey, IssuingAuthority
from dualsign.signing.document_signer import PadesDocumentSigner
from dualsign.signing.evidence_keys import PlatformEvidenceKeys
from dualsign.signing.org_seals import PlatformOrganisationKeys
from dualsign.signing.pades import PadesSigner
from dualsign.signing.passwords import Argon2Passwords
from dualsign.signing.pdf_inspect import PyHankoPdfInspector
from dualsign.signing.pdf_render import PdfiumPageRenderer
from dualsign.signing.pki import PlatformPki, load_or_create
from dualsign.signing.tsa_http import HttpTSA
from dualsign.signing.tsa_local import InsecureLocalTSA
from dualsign.storage.blobs_encrypted import EncryptingBlobStore, Keyring
from dualsign.storage.blobs_fs import FileBlobStore
from dualsign.storage.database import SqlUnitOfWork, SqlUnitOfWorkFactory, make_engine, migrate

if TYPE_CHECKING:
    from dualsign.jobs.rq import RqJobs
    from dualsign.storage.blobs_s3 import S3BlobStore


_log = logging.getLogger("dualsign.container")


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow: SqlUnitOfWorkFactory
    blobs: BlobStore
    clock: Clock
    ids: IdFactory
    links: SignerLinks
    pii_key: bytes
    upload_limits: UploadLimits
    speech: SpeechEngines
    vision: VisionEngines
    evidence_keys: EvidenceKeys
    tsa: Timestamper
    reports: ReportMaker
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=4))
    # live channels: audio (VAD and endpointing) and camera frames each have their own threads, so
    # neither waits for the other nor for database calls; frames run at a lower CPU priority. A frame
    # thread mostly waits for a face worker process (one per core): two threads per core keep every
    # worker busy while others decode frames or wait for an answer; a frame of a connection where a
    # warning is building up, or that a decision waits for, goes before routine frames
    live_speech: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="live-speech")
    )
    live_vision: RankedThreadPool = field(
        default_factory=lambda: RankedThreadPool(
            2 * usable_cores(), "live-vision", initializer=lower_thread_priority
        )
    )
    pki: PlatformPki | None = None
    document_signer: DocumentSigner | None = None
    organisation_keys: OrganisationKeys | None = None
    _worker: WorkerLoop | None = None
    passwords: Argon2Passwords = field(default_factory=Argon2Passwords)
    _metrics: Metrics | None = None
    _speech_prepared: set[str] = field(default_factory=set)
    _speech_prepared_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def metrics(self) -> Metrics:
        if self._metrics is None:
            self._metrics = Metrics(lambda: store_figures(self.new_uow()))
        return self._metrics

    @property
    def callbacks(self) -> CallbackPolicy:
        return CallbackPolicy(parse_networks(self.settings.webhook_allow_networks))

    @property
    def console_tokens(self) -> ConsoleTokens:
        return ConsoleTokens(self.settings.secret_key)

    @property
    def session_services(self) -> SessionServices:
        return SessionServices(
            self.blobs,
            self.clock,
            self.ids,
            self.links,
            self.pii_key,
            self.upload_limits,
            self.vision,
            PyHankoPdfInspector(),
            self.callbacks,
            self.speech.asr,
            self.settings.speech_language_check,
            self.settings.time_zone,
        )

    @property
    def organisation_services(self) -> OrganisationServices:
        if self.organisation_keys is None:
            raise RuntimeError("the container was built without organisation keys")
        return OrganisationServices(self.blobs, self.clock, self.ids, self.organisation_keys)

    @property
    def signer_services(self) -> SignerServices:
        return SignerServices(
            self.clock,
            self.links,
            self.blobs,
            self.ids.new_id,
            self.speech.tts,
            self.speech.vad,
            self.speech.asr,
            self.executor,
            self.vision,
            sealer=self,  # the Sealer port: seal_ended below
        )

    @property
    def seal_services(self) -> SealServices:
        return SealServices(
            self.blobs,
            self.clock,
            self.evidence_keys,
            self.tsa,
            self.reports,
            self.settings.public_url,
            dt.timedelta(seconds=self.settings.recording_grace_seconds),
            post_hoc=self.settings.post_hoc,
        )

    @property
    def post_hoc_services(self) -> PostHocServices:
        return PostHocServices(self.blobs, self.clock, self.speech.vad, self.speech.asr, self.vision)

    @property
    def document_services(self) -> DocumentServices:
        if self.document_signer is None:
            raise RuntimeError("the container was built without a document signer")
        return DocumentServices(
            self.signer_services, PyHankoPdfInspector(), self.document_signer, PdfiumPageRenderer()
        )

    def seal_ended(self, session_id: str) -> None:
        """Seal a session that has just ended (the signer's ``Sealer`` port); a failure is recorded as an
        event and retried by the job runner."""
        try:
            seal_session(self.new_uow(), self.seal_services, session_id)
        except SealingFailed:  # recorded and queued: the job runner seals it later
            return

    def new_uow(self) -> SqlUnitOfWork:
        return self.uow()

    def job_runner(self) -> JobRunner:
        def seal(job: Job) -> RunAgain | None:
            payload = check_version(job, 1)
            done = seal_session(self.new_uow(), self.seal_services, str(payload["session_id"]))
            if isinstance(done, Waiting) and done.until is not None:  # the recording's grace period
                return RunAgain(done.until, done.reason)
            return None  # sealed, or handed to the analysis, which queues the seal when it is done

        def report(job: Job) -> None:
            payload = check_version(job, 1)
            ensure_report(self.new_uow(), self.seal_services, str(payload["session_id"]))

        def webhook(job: Job) -> None:
            check_version(job, 1)
            deliver(job, self.settings.secret_key, self.clock.now(), http_send, self.callbacks, resolve_host)

        def analyse(job: Job) -> RunAgain | None:
            payload = check_version(job, 1)
            last = job.attempts >= job.max_attempts
            run = analyse_recording(
                self.new_uow(), self.post_hoc_services, str(payload["session_id"]), last_attempt=last
            )
            if run.result is not None:
                self.metrics.engine.labels("post-hoc", "analyse_recording").observe(run.result["compute_s"])
            return run.again

        handlers = {
            SEAL_SESSION: seal,
            ANALYSE_RECORDING: analyse,
            RENDER_REPORT: report,
            DELIVER_WEBHOOK: webhook,
        }
        return JobRunner(self.uow, self.clock, handlers, lease_seconds=self.settings.job_lease_seconds)

    def worker_loop(self, poll_seconds: float, *, background: bool = False) -> WorkerLoop:
        """A loop that polls the job table; ``background`` (the worker inside the API process): its
        thread yields the CPU, and the face worker processes to live frames (see ``runtime``)."""
        start = _background_worker if background else None
        return WorkerLoop(self.job_runner(), poll_seconds, on_start=start)

    def rq_jobs(self) -> RqJobs | None:
        """RQ on Redis carrying due jobs to ``dualsign worker`` processes when ``DUALSIGN_JOB_QUEUE=rq``
        and ``DUALSIGN_REDIS_URL`` are set; None: workers poll the job table."""
        if self.settings.job_queue != "rq" or not self.settings.redis_url:
            return None
        from dualsign.jobs.rq import RqJobs  # redis and rq are imported only where they are used

        return RqJobs(self.settings.redis_url, self.job_runner(), self.new_uow, self.clock)

    def prepare_speech(self, language: str) -> None:
        """Has the recogniser of ``language`` load and run once, in the background, the first time a
        signer of that language connects (a process that never serves a language never loads its
        model). Consent and the identity check come first and leave it seconds; otherwise the first
        answer after a start waits for it."""
        with self._speech_prepared_lock:
            if language in self._speech_prepared:
                return
            self._speech_prepared.add(language)
        threading.Thread(
            target=self._prepare_speech, args=(language,), name=f"prepare-asr-{language}", daemon=True
        ).start()

    def _prepare_speech(self, language: str) -> None:
        try:
            self.speech.asr.prepare(language)
        except Exception as exc:  # the first answer meets the failure again and records it
            _log.warning("preparing speech recognition for %s failed: %s", language, exc)

    def start_worker(self, poll_seconds: float = 2.0) -> None:
        """Run due jobs in a background thread of this process (the embedded default)."""
        if self._worker is None:
            # below the live channel: a recording re-checked after its session yields to live answers
            self._worker = self.worker_loop(poll_seconds, background=True)
            self._worker.start()

    def readiness_probes(self) -> dict[str, Callable[[], str]]:
        """What must work for this process to serve: the database, the blob store, its job worker."""

        def database() -> str:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return self.engine.dialect.name

        def blobs() -> str:
            ref = self.blobs.put(b"dualsign readiness probe\n")  # content-addressed: the same blob each time
            return f"writable ({ref.sha256[:12]})"

        probes = {"database": database, "blobs": blobs}
        if self.settings.worker == "inline":

            def worker() -> str:
                if self._worker is None or not self._worker.alive:
                    raise RuntimeError("the in-process job worker is not running")
                return "running"

            probes["worker"] = worker
        return probes

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        for pool in (self.executor, self.live_speech, self.live_vision):
            pool.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()


def _background_worker() -> None:
    """The job worker thread of an API process: below the live work (the live frames' threads too), on
    the CPU and at the face pool."""
    lower_thread_priority(JOB_NICE)
    defer_to_live_work()


def speech_settings(settings: Settings) -> SpeechSettings:
    s = settings.speech
    return SpeechSettings(
        asr=s.asr,
        asr_model_dir=s.asr_model_dir,
        asr_threads=s.asr_threads,
        asr_window_s=s.asr_window_s,
        asr_window_zh_s=s.asr_window_zh_s,
        model_cache=s.model_cache,
        tts=s.tts,
        vad=s.vad,
    )


def speech_from(settings: Settings) -> SpeechEngines:
    return build_speech(speech_settings(settings))


def _tsa(settings: Settings, pki: PlatformPki, clock: Clock | None) -> InsecureLocalTSA | HttpTSA:
    if settings.tsa_url:
        if settings.tsa_root is None or not settings.tsa_root.is_file():
            raise SystemExit("DUALSIGN_TSA_URL needs DUALSIGN_TSA_ROOT: the PEM of the TSA's trust anchor")
        return HttpTSA(settings.tsa_url, x509.load_pem_x509_certificate(settings.tsa_root.read_bytes()))
    return InsecureLocalTSA(pki.tsa_cert, pki.tsa_key, clock)


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (what the HTTP client may connect to)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def blob_store(settings: Settings) -> BlobStore:
    """Local files (the embedded default) or an S3 bucket with Object Lock, every blob encrypted at
    rest unless ``DUALSIGN_ENCRYPT_BLOBS=false``."""
    raw = _raw_store(settings)
    if not settings.blobs.encrypt:
        return raw
    return EncryptingBlobStore(raw, Keyring(settings.data_dir / "keys" / "blobs"))


def _raw_store(settings: Settings) -> FileBlobStore | S3BlobStore:
    if settings.blobs.store == "fs":
        return FileBlobStore(settings.blob_dir)
    import boto3  # the s3 extra: only a deployment on S3 needs it

    from dualsign.storage.blobs_s3 import ObjectLockMissing, S3BlobStore

    b = settings.blobs
    client = boto3.client("s3", endpoint_url=b.s3_endpoint_url, region_name=b.s3_region)
    store = S3BlobStore(client, b.s3_bucket, b.s3_prefix)
    try:
        store.check_object_lock()
    except ObjectLockMissing as exc:
        raise SystemExit(f"DUALSIGN_S3_BUCKET: {exc}") from None
    return store


def http_send(delivery: Delivery) -> int:
    """POST a webhook delivery (10 s timeout, no redirects followed)."""
    import httpx

    response = httpx.post(delivery.url, content=delivery.body, headers=delivery.headers, timeout=10.0)
    return response.status_code


def _pades(settings: Settings, pki: PlatformPki, tsa: InsecureLocalTSA | HttpTSA) -> PadesSigner:
    extra_roots = [tsa.root] if isinstance(tsa, HttpTSA) else []
    return PadesSigner(
        pki.root_cert,
        (pki.ca_cert, pki.root_cert),
        (pki.root_crl, pki.ca_crl),
        tsa.pdf_timestamper,
        level=settings.signature_level,  # type: ignore[arg-type]
        extra_roots=extra_roots,
    )


def vision_settings(settings: Settings) -> VisionSettings:
    v = settings.vision
    return VisionSettings(
        face=v.face, landmarks=v.landmarks, landmarks_model=v.landmarks_model, processes=v.processes
    )


def vision_from(settings: Settings) -> VisionEngines:
    return build_vision(vision_settings(settings))


def pki_folder(settings: Settings) -> Path:
    """Where the platform's root, issuing CA, sealing key, local TSA and log key live."""
    return settings.data_dir / "pki"


def build_container(
    settings: Settings,
    *,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
    speech: SpeechEngines | None = None,
    vision: VisionEngines | None = None,
    prepare: bool = True,
) -> Container:
    """Wire everything; with ``prepare`` also migrate the database and publish built-in templates."""
    engine = make_engine(settings.database_url)
    pki = load_or_create(
        pki_folder(settings), now=(clock or SystemClock()).now(), public_url=settings.public_url
    )
    tsa = _tsa(settings, pki, clock)
    pades = _pades(settings, pki, tsa)
    if prepare:
        migrate(engine)
    lim = settings.limits
    authority = IssuingAuthority(pki, settings.public_url)
    container = Container(
        settings=settings,
        engine=engine,
        uow=SqlUnitOfWorkFactory(engine),
        blobs=blob_store(settings),
        clock=clock or SystemClock(),
        ids=ids or RandomIds(),
        links=SignerLinks(settings.secret_key, settings.public_url),
        pii_key=hashlib.sha256(b"dualsign.pii.v1" + settings.secret_key).digest(),
        upload_limits=UploadLimits(
            lim.max_document_bytes, lim.max_documents, lim.max_photo_bytes, lim.max_session_seconds
        ),
        speech=speech or speech_from(settings),
        vision=vision or vision_from(settings),
        evidence_keys=PlatformEvidenceKeys(pki),
        tsa=tsa,
        reports=PdfReportMaker(pades, IssuedKey(pki.signer_key, pki.signer_cert, (pki.root_cert,))),
        pki=pki,
        document_signer=PadesDocumentSigner(authority, pades),
        organisation_keys=PlatformOrganisationKeys(authority),
    )
    if prepare:
        sync_builtin_templates(container.uow, container.clock, container.ids)
    return container
