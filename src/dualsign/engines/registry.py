"""Engine selection: one place maps settings to engines, and lists every engine with its availability."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dualsign.engines.asr_faster_whisper import FasterWhisperAsr
from dualsign.engines.asr_routed import LanguageRoutedAsr
from dualsign.engines.asr_sherpa_onnx import SherpaOnnxAsr
from dualsign.engines.asr_vosk import VoskAsr
from dualsign.engines.base import AsrEngine, Availability, TtsEngine, VadEngine
from dualsign.engines.face_dlib import DlibEmbedder, DlibFaceDetector, DlibLandmarks
from dualsign.engines.face_pool import FacePool
from dualsign.engines.fake import (
    EnergyVad,
    FakeTts,
    MarkerEmbedder,
    MarkerFaceDetector,
    MarkerLandmarks,
    ScriptedAsr,
)
from dualsign.engines.landmarks_mediapipe import MediapipeLandmarks
from dualsign.engines.tts_espeak import EspeakTts
from dualsign.engines.vad_silero import SileroVad
from dualsign.engines.vision_base import FaceDetector, FaceEmbedder, LandmarkEngine, VisionEngines

ASR_CHOICES = ("faster-whisper", "sherpa-onnx", "vosk", "fake")
TTS_CHOICES = ("espeak", "fake")
VAD_CHOICES = ("silero", "energy")


@dataclass(frozen=True)
class SpeechSettings:
    asr: str = "faster-whisper"
    asr_model_dir: Path | None = None
    asr_threads: int = 2
    asr_timeout_s: float = 15.0
    asr_window_s: float = 15.0
    asr_window_zh_s: float = 6.0
    tts: str = "espeak"
    vad: str = "silero"
    model_cache: Path | None = None  # where Whisper base is joined from its packages (None: no Mandarin)


@dataclass(frozen=True)
class SpeechEngines:
    tts: TtsEngine
    vad: VadEngine
    asr: AsrEngine


class UnknownEngine(ValueError):
    pass


def make_asr(
    kind: str,
    model_dir: Path | None,
    threads: int = 2,
    timeout_s: float = 15.0,
    window_s: float = 15.0,
    model_cache: Path | None = None,
    window_zh_s: float = 6.0,
) -> AsrEngine:
    if kind == "faster-whisper":
        if model_dir is None and model_cache is not None:
            # the bundled default: tiny.en for English, the multilingual base for Mandarin
            english = FasterWhisperAsr(cpu_threads=threads, timeout_s=timeout_s, window_s=window_s)
            mandarin = FasterWhisperAsr(
                model_cache=model_cache, cpu_threads=threads, timeout_s=timeout_s, window_s=window_zh_s
            )
            return LanguageRoutedAsr(kind, {"en": english, "zh": mandarin}, fallback="zh")
        return FasterWhisperAsr(model_dir, cpu_threads=threads, timeout_s=timeout_s, window_s=window_s)
    if kind == "sherpa-onnx":
        return SherpaOnnxAsr(model_dir, threads=threads, timeout_s=timeout_s)
    if kind == "vosk":
        return VoskAsr(model_dir, timeout_s=timeout_s)
    if kind == "fake":
        return ScriptedAsr()
    raise UnknownEngine(f"DUALSIGN_ASR={kind!r}: choose one of {', '.join(ASR_CHOICES)}")


def make_tts(kind: str) -> TtsEngine:
    if kind == "espeak":
        return EspeakTts()
    if kind == "fake":
        return FakeTts()
    raise UnknownEngine(f"DUALSIGN_TTS={kind!r}: choose one of {', '.join(TTS_CHOICES)}")


def make_vad(kind: str) -> VadEngine:
    if kind == "silero":
        return SileroVad()
    if kind == "energy":
        return EnergyVad()
    raise UnknownEngine(f"DUALSIGN_VAD={kind!r}: choose one of {', '.join(VAD_CHOICES)}")


def build_speech(s: SpeechSettings) -> SpeechEngines:
    return SpeechEngines(
        tts=make_tts(s.tts),
        vad=make_vad(s.vad),
        asr=make_asr(
            s.asr,
            s.asr_model_dir,
            s.asr_threads,
            s.asr_timeout_s,
            s.asr_window_s,
            s.model_cache,
            s.asr_window_zh_s,
        ),
    )


@dataclass(frozen=True)
class EngineReport:
    kind: str  # asr | tts | vad | face | embedding | landmarks | liveness
    name: str
    selected: bool
    availability: Availability
    model: str


def check_all(s: SpeechSettings) -> list[EngineReport]:
    """Every engine the product knows, whether it can run here and why (``dualsign models check``)."""
    reports: list[EngineReport] = []
    for kind in ASR_CHOICES:
        dir_for = s.asr_model_dir if kind == s.asr else None
        engine = make_asr(kind, dir_for, model_cache=s.model_cache)
        reports.append(EngineReport("asr", kind, kind == s.asr, engine.is_available(), engine.model_id))
    for kind in TTS_CHOICES:
        tts = make_tts(kind)
        reports.append(EngineReport("tts", kind, kind == s.tts, tts.is_available(), tts.name))
    for kind in VAD_CHOICES:
        vad = make_vad(kind)
        reports.append(EngineReport("vad", kind, kind == s.vad, vad.is_available(), vad.name))
    return reports


# --- vision -------------------------------------------------------------------------------------------
FACE_CHOICES = ("dlib", "fake")
LANDMARK_CHOICES = ("dlib", "mediapipe", "fake")


@dataclass(frozen=True)
class VisionSettings:
    face: str = "dlib"
    landmarks: str = "dlib"
    landmarks_model: Path | None = None
    processes: int = 0  # face worker processes (dlib): 0 = one per core


def build_vision(s: VisionSettings) -> VisionEngines:
    if s.face == "fake":
        detector: FaceDetector = MarkerFaceDetector()
        photo: FaceDetector = MarkerFaceDetector()
        embedder: FaceEmbedder = MarkerEmbedder()
    elif s.face == "dlib":
        pool = FacePool.shared(s.processes)
        detector, photo, embedder = (
            DlibFaceDetector(pool=pool),
            DlibFaceDetector(detect_width=800, upsample=1, pool=pool),
            DlibEmbedder(pool),
        )
    else:
        raise UnknownEngine(f"DUALSIGN_FACE={s.face!r}: choose one of {', '.join(FACE_CHOICES)}")
    landmarks: LandmarkEngine
    if s.landmarks == "dlib":
        landmarks = DlibLandmarks()
    elif s.landmarks == "mediapipe":
        landmarks = MediapipeLandmarks(s.landmarks_model)
    elif s.landmarks == "fake":
        landmarks = MarkerLandmarks()
    else:
        raise UnknownEngine(
            f"DUALSIGN_LANDMARKS={s.landmarks!r}: choose one of {', '.join(LANDMARK_CHOICES)}"
        )
    return VisionEngines(detector=detector, photo_detector=photo, landmarks=landmarks, embedder=embedder)


def check_vision(s: VisionSettings) -> list[EngineReport]:
    return [
        EngineReport("face", "dlib", s.face == "dlib", DlibFaceDetector().is_available(), "HOG detector"),
        EngineReport(
            "embedding", "dlib", s.face == "dlib", DlibEmbedder().is_available(), DlibEmbedder.model_id
        ),
        EngineReport(
            "landmarks",
            "dlib",
            s.landmarks == "dlib",
            DlibLandmarks().is_available(),
            f"shape_predictor_68 ({DlibLandmarks.licence})",
        ),
        EngineReport(
            "landmarks",
            "mediapipe",
            s.landmarks == "mediapipe",
            MediapipeLandmarks(s.landmarks_model).is_available(),
            "face_landmarker.task (Apache-2.0)",
        ),
        EngineReport(
            "liveness",
            "passive",
            False,
            Availability.no("no passive anti-spoofing model ships in a registry: liveness is action-based"),
            "-",
        ),
    ]
