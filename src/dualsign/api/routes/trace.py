"""The page's operation trace (屏幕操作过程), sent by the signer page in numbered batches.

``PUT /signer/v1/trace/{batch}`` with the batch as JSON (``domain.trace.Batch``, at most 64 KiB):
201 when stored, 200 when the same batch was stored before, 409 when another batch holds the number
or the evidence is sealed, 422 naming the field that is wrong. ``GET /signer/v1/trace`` says which
batches are held (a reloaded page numbers on from there). Limited per signer link, like the recording.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool

from dualsign.api.bodies import typed_body
from dualsign.api.deps import ContainerDep, SignerToken
from dualsign.application.signer import trace
from dualsign.domain.trace import MAX_BATCH_BYTES

router = APIRouter(prefix="/signer/v1/trace", tags=["signer"])


@router.put(
    "/{batch}",
    name="signer_trace_batch",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "a batch: {version: 1, entries: [{t, step, op, target?, doc?, page?, "
            "sha256?, question?, attempt?, value?}]} (domain.trace.Batch)",
            "content": {"application/json": {}},
        }
    },
)
async def put_batch(
    batch: int, request: Request, response: Response, token: SignerToken, c: ContainerDep
) -> trace.BatchAck:
    body = await typed_body(request, ("application/json",), MAX_BATCH_BYTES)
    ack = await run_in_threadpool(trace.upload_batch, c.new_uow(), c.signer_services, token, batch, body)
    if ack.duplicate:
        response.status_code = status.HTTP_200_OK
    return ack


@router.get("", name="signer_trace_status")
def get_status(token: SignerToken, c: ContainerDep) -> dict[str, Any]:
    return trace.status(c.new_uow(), c.signer_services, token)
