"""Scenario templates: list, read, validate, publish a new version (YAML in the body)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from dualsign.api.bodies import typed_body
from dualsign.api.deps import ContainerDep, TenantId
from dualsign.api.schemas import (
    PromptAudioStored,
    TemplateDetail,
    TemplateProblem,
    TemplateSummary,
    TemplateValidation,
)
from dualsign.application.integrator.template_catalog import (
    list_templates,
    parse_template_yaml,
    publish_template,
    resolve_template,
)
from dualsign.application.integrator.template_catalog import (
    upload_prompt_audio as store_tenant_prompt_audio,
)
from dualsign.domain.errors import (
    FieldProblem,
    InvalidInput,
    TemplateInvalid,
)

router = APIRouter(prefix="/v1/templates", tags=["templates"])
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
_YAML_BODY = {
    "requestBody": {"required": True, "content": {t: {"schema": {"type": "string"}} for t in YAML_TYPES}}
}


async def _yaml_body(request: Request, limit: int) -> str:
    raw = await typed_body(request, YAML_TYPES, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput([FieldProblem("body", "the template must be UTF-8 text")]) from None


@router.get("", name="list_templates")
def list_all(tenant: TenantId, c: ContainerDep) -> list[TemplateSummary]:
    return [TemplateSummary.of(v) for v in list_templates(c.new_uow(), tenant)]


@router.post("/validate", name="validate_template", openapi_extra=_YAML_BODY)
async def validate(request: Request, tenant: TenantId, c: ContainerDep) -> TemplateValidation:
    text = await _yaml_body(request, c.settings.limits.max_template_bytes)
    try:
        template = parse_template_yaml(text, "body")
    except TemplateInvalid as exc:
        return TemplateValidation(
            valid=False, errors=[TemplateProblem(field=p.path, reason=p.reason) for p in exc.problems]
        )
    return TemplateValidation(valid=True, content_hash=template.content_hash())


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    name="publish_template",
    openapi_extra=_YAML_BODY,
    responses={200: {"description": "Identical content was already published: that version"}},
)
async def publish(request: Request, response: Response, tenant: TenantId, c: ContainerDep) -> TemplateDetail:
    text = await _yaml_body(request, c.settings.limits.max_template_bytes)
    published = publish_template(c.new_uow(), c.clock, c.ids, tenant, text, "body", c.blobs)
    if not published.created:
        response.status_code = status.HTTP_200_OK
    return TemplateDetail.of(published.version)


AUDIO_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/ogg", "audio/webm", "audio/mp4")
MAX_PROMPT_AUDIO = 10 * 1024 * 1024


@router.post(
    "/prompt-audio",
    status_code=status.HTTP_201_CREATED,
    name="upload_prompt_audio",
    openapi_extra={"requestBody": {"required": True, "content": {t: {} for t in AUDIO_TYPES}}},
)
async def upload_prompt_audio(request: Request, tenant: TenantId, c: ContainerDep) -> PromptAudioStored:
    """A recorded prompt; put the returned sha256 in a question's ``prompt_audio`` and publish."""
    raw = await typed_body(request, AUDIO_TYPES, MAX_PROMPT_AUDIO)
    stored = await run_in_threadpool(store_tenant_prompt_audio, c.new_uow(), c.clock, c.blobs, tenant, raw)
    return PromptAudioStored(sha256=stored.sha256, duration_s=stored.duration_s)


@router.get("/{key}", name="get_template")
def get_one(
    key: str,
    tenant: TenantId,
    c: ContainerDep,
    version: Annotated[str | None, Query(description="number or content hash; newest if absent")] = None,
) -> TemplateDetail:
    return TemplateDetail.of(resolve_template(c.new_uow(), tenant, key, version))
