"""Identity with an agent on camera: the signer's and the agent's faces, each against their own photo.

The same frames as the signer-alone check (``vision.verify_identity``), but a usable frame holds exactly
two clear faces; which is whose is the pairing with the smaller distances (``vision.pair_faces``). Both
must match on every usable frame.
"""

from __future__ import annotations

from dualsign.application.perception.vision import (
    IdentityOutcome,
    analyze,
    pair_faces,
    quality,
)
from dualsign.engines.vision_base import Embedding, Image, VisionEngines


def verify_identity_with_agent(
    images: list[Image],
    reference: Embedding,
    agent_reference: Embedding,
    engines: VisionEngines,
    min_good_frames: int,
) -> IdentityOutcome:
    threshold = engines.embedder.match_threshold
    signer: list[float] = []
    agent: list[float] = []
    indices: list[int] = []
    alone = extra = 0
    for i, image in enumerate(images):
        faces = analyze(image, engines).faces
        if len(faces) > 2:
            extra += 1
            continue
        if len(faces) == 1:
            alone += 1
            continue
        if len(faces) != 2 or not all(quality(image, box).good for box in faces):
            continue
        embeddings = [engines.embedder.embed(image, box) for box in faces]
        to_signer = [e.distance(reference) for e in embeddings]
        to_agent = [e.distance(agent_reference) for e in embeddings]
        s, a = pair_faces(to_signer, to_agent)
        signer.append(round(to_signer[s], 4))
        agent.append(round(to_agent[a], 4))
        indices.append(i)
    sums = [s + a for s, a in zip(signer, agent, strict=True)]
    best = indices[sums.index(min(sums))] if sums else None

    def outcome(passed: bool, reason: str, code: str) -> IdentityOutcome:
        return IdentityOutcome(
            passed, reason, tuple(signer), threshold, len(images), len(signer), best, code, tuple(agent)
        )

    if extra:
        return outcome(False, f"more than two faces on {extra} frames", "extra_face")
    if len(signer) < min_good_frames:
        if alone:
            return outcome(False, f"one face only on {alone} frames: both must be on camera", "agent_missing")
        return outcome(False, f"{len(signer)} usable frames of {min_good_frames} needed", "poor_frames")
    if max(signer) > threshold:
        reason = f"the signer is not the person in the ID photo (distance {max(signer):.3f} > {threshold})"
        return outcome(False, reason, "not_the_signer")
    if max(agent) > threshold:
        reason = f"the agent is not the person in the agent's photo (distance {max(agent):.3f} > {threshold})"
        return outcome(False, reason, "not_the_agent")
    return outcome(True, "the signer and the agent match their photos", "matched")
