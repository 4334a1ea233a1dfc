"""The whole-session recording, uploaded by the signer page in numbered, hashed chunks.

``PUT /signer/v1/recording/{segment}/{index}`` with the chunk as the body and headers
``X-Content-SHA256`` (required), ``X-Chunk-Started-Ms`` / ``X-Chunk-Ended-Ms`` (the page's clock):
201 when stored, 200 when the same chunk was stored before, 409 when another chunk holds the number.
``GET /signer/v1/recording`` says what is stored (for resuming); ``POST /signer/v1/recording/finish``
closes the recording with the number of chunks the page recorded per segment.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dualsign.api.deps import ContainerDep, SignerToken
from dualsign.application.signer import recording

router = APIRouter(prefix="/signer/v1/recording", tags=["signer"])


class FinishRecording(BaseModel):
    segments: dict[int, Annotated[int, Field(ge=0, le=100_000)]] = Field(
        description="segment number → how many chunks the page recorded in it"
    )


@router.put("/{segment}/{index}", name="signer_recording_chunk", status_code=status.HTTP_201_CREATED)
async def put_chunk(
    segment: int,
    index: int,
    request: Request,
    response: Response,
    token: SignerToken,
    c: ContainerDep,
    x_content_sha256: Annotated[str, Header(min_length=64, max_length=64)],
    x_chunk_started_ms: Annotated[int, Header(ge=0)] = 0,
    x_chunk_ended_ms: Annotated[int, Header(ge=0)] = 0,
) -> recording.ChunkAck:
    data = await request.body()
    ack = await run_in_threadpool(
        recording.upload_chunk,
        c.new_uow(),
        c.signer_services,
        token,
        segment=segment,
        index=index,
        data=data,
        declared_sha256=x_content_sha256,
        started_ms=x_chunk_started_ms,
        ended_ms=x_chunk_ended_ms or x_chunk_started_ms,
    )
    if ack.duplicate:
        response.status_code = status.HTTP_200_OK
    return ack


@router.get("", name="signer_recording_status")
def get_status(token: SignerToken, c: ContainerDep) -> dict[str, Any]:
    return recording.status(c.new_uow(), c.signer_services, token)


@router.post("/finish", name="signer_recording_finish")
def finish(body: FinishRecording, token: SignerToken, c: ContainerDep) -> dict[str, Any]:
    return recording.finish(c.new_uow(), c.signer_services, token, dict(body.segments))
