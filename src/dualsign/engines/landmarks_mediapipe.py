"""Face landmarks with MediaPipe FaceLandmarker (Apache-2.0 code and model): the commercial-use option.

No registry package ships the model: the mediapipe wheel holds no face model, and ``face_landmarker.task``
is published only on Google's model storage. Deploy it by downloading ``face_landmarker.task`` where
there is internet, copying it to the server, and setting ``DUALSIGN_LANDMARKS=mediapipe`` and
``DUALSIGN_LANDMARKS_MODEL=/path/face_landmarker.task`` (``pip install mediapipe``, which brings its own
OpenCV build). The 478 mesh points are mapped to the 68-point iBUG layout the domain reads.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from dualsign.engines._lazy import LazyModel
from dualsign.engines.base import Availability
from dualsign.engines.vision_base import FaceBox, Image, Landmarks

# MediaPipe face-mesh index for each of the 68 iBUG points (jaw, brows, nose, eyes, lips).
MESH_TO_IBUG = (
    127,
    234,
    93,
    132,
    58,
    172,
    136,
    150,
    152,
    379,
    365,
    397,
    288,
    361,
    323,
    454,
    356,
    70,
    63,
    105,
    66,
    107,
    336,
    296,
    334,
    293,
    300,
    168,
    197,
    5,
    4,
    75,
    97,
    2,
    326,
    305,
    33,
    160,
    158,
    133,
    153,
    144,
    362,
    385,
    387,
    263,
    373,
    380,
    61,
    39,
    37,
    0,
    267,
    269,
    291,
    405,
    314,
    17,
    84,
    181,
    78,
    82,
    13,
    312,
    308,
    317,
    14,
    87,
)


class MediapipeLandmarks:
    name = "mediapipe-face-landmarker"
    licence = "Apache-2.0"

    def __init__(self, model_path: Path | None) -> None:
        self.model_path = model_path
        self._landmarker: LazyModel[Any] = LazyModel(
            self.name, self.is_available, self._open, lambda: str(self.model_path)
        )

    def is_available(self) -> Availability:
        if importlib.util.find_spec("mediapipe") is None:
            return Availability.no("mediapipe is not installed (pip install mediapipe)")
        if self.model_path is None:
            return Availability.no("no model: set DUALSIGN_LANDMARKS_MODEL to a face_landmarker.task file")
        if not self.model_path.is_file():
            return Availability.no(f"{self.model_path} does not exist")
        return Availability.yes(f"FaceLandmarker model {self.model_path}")

    def _load(self) -> Any:
        return self._landmarker.get()

    def _open(self) -> Any:
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)), num_faces=1
        )
        return vision.FaceLandmarker.create_from_options(options)

    def landmarks(self, image: Image, box: FaceBox) -> Landmarks:
        import mediapipe as mp

        result = self._load().detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=image))
        if not result.face_landmarks:
            return Landmarks((), self.name)
        h, w = image.shape[:2]
        mesh = result.face_landmarks[0]
        return Landmarks(tuple((mesh[i].x * w, mesh[i].y * h) for i in MESH_TO_IBUG), self.name)
