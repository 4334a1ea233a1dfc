"""Media shared by the engines and the application: audio and pictures as arrays, decoded once.

What crosses every engine port is defined here: audio as 16 kHz mono float32 in [-1, 1], pictures as RGB
uint8 arrays (H×W×3). ``media.audio`` and ``media.video`` turn bytes (WAV, webm/opus, JPEG/PNG, whole
recordings) into them and back.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
Audio = npt.NDArray[np.float32]
Image = npt.NDArray[np.uint8]
