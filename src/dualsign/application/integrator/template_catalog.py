"""Scenario templates as versions: publish (a new version only when the content changed), look up, list.

Built-in templates belong to no tenant and every tenant sees them; a tenant's own templates are seen by
that tenant only, and may not take a built-in key. Versions are never edited: a session pins the version
(content hash) it ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from dualsign.application.event_store import template_of
from dualsign.application.integrator.prompts import StoredRecording, store_prompt_recording
from dualsign.application.ports import BlobStore, Clock, IdFactory, UnitOfWork, UnitOfWorkFactory
from dualsign.application.records import TemplateVersion
from dualsign.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound, TemplateInvalid
from dualsign.domain.templates import Template, parse_template
from dualsign.scenarios import builtin_sources

MAX_TEMPLATE_CHARS = 512 * 1024
MAX_YAML_DEPTH = 32  # a real template nests 5 deep; PyYAML's composer recurses once per level


def _check_shape(text: str, source: str) -> None:
    """Refuse a huge or deeply nested document before it is composed (PyYAML recurses per level)."""
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateInvalid(
            [FieldProblem("", f"the template is longer than {MAX_TEMPLATE_CHARS} characters")], source
        )
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):  # the event parser keeps a stack, no recursion
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                mark = event.start_mark
                where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
                raise TemplateInvalid(
                    [FieldProblem(where, f"nested deeper than {MAX_YAML_DEPTH} levels")], source
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def parse_template_yaml(text: str, source: str = "template") -> Template:
    try:
        _check_shape(text, source)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f"line {mark.line + 1}, column {mark.column + 1}"
        reason = getattr(exc, "problem", None) or str(exc)
        raise TemplateInvalid([FieldProblem(where, f"not valid YAML: {reason}")], source) from None
    return parse_template(data, source)


@dataclass(frozen=True)
class Published:
    version: TemplateVersion
    created: bool  # False: identical content was already published


def _may_name(uow: UnitOfWork, blobs: BlobStore | None, tenant_id: str | None, sha256: str) -> bool:
    """A tenant names only recordings it uploaded; the platform (built-ins, the operator) any stored one."""
    if tenant_id is not None:
        return uow.prompt_audio.owns(tenant_id, sha256)
    return blobs is not None and blobs.exists(sha256)


def upload_prompt_audio(
    uow: UnitOfWork, clock: Clock, blobs: BlobStore, tenant_id: str, audio: bytes
) -> StoredRecording:
    """A tenant's prompt recording, normalised and stored; only this tenant's templates may name it."""
    stored = store_prompt_recording(blobs, audio)
    with uow:
        uow.prompt_audio.add(tenant_id, stored.sha256, clock.now())
        uow.commit()
    return stored


def publish_template(
    uow: UnitOfWork,
    clock: Clock,
    ids: IdFactory,
    tenant_id: str | None,
    text: str,
    source: str = "template",
    blobs: BlobStore | None = None,
) -> Published:
    template = parse_template_yaml(text, source)
    digest = template.content_hash()
    with uow:
        missing = [  # one answer for "another tenant's" and "none": nobody learns what others stored
            FieldProblem(
                f"questions.{i}.prompt_audio", f"no prompt audio you uploaded has digest {q.prompt_audio}"
            )
            for i, q in enumerate(template.questions)
            if q.prompt_audio and not _may_name(uow, blobs, tenant_id, q.prompt_audio)
        ]
        if missing:
            raise TemplateInvalid(missing, source)
        if tenant_id is not None and uow.templates.versions(None, template.key):
            raise Conflict(f"template key {template.key!r} is built in; give your template another key")
        existing = uow.templates.find(tenant_id, template.key, digest)
        if existing is not None:
            return Published(existing, created=False)
        number = len(uow.templates.versions(tenant_id, template.key)) + 1
        version = TemplateVersion(
            ids.new_id("tpl"),
            tenant_id,
            template.key,
            number,
            digest,
            template.to_document(),
            text,
            clock.now(),
        )
        uow.templates.add(version)
        uow.commit()
    return Published(version, created=True)


def sync_builtin_templates(uow_factory: UnitOfWorkFactory, clock: Clock, ids: IdFactory) -> int:
    """Publish the packaged templates (a new version of each one that changed). Returns how many."""
    created = 0
    for name, text in builtin_sources():
        created += publish_template(uow_factory(), clock, ids, None, text, f"scenarios/{name}").created
    return created


def resolve_template(
    uow: UnitOfWork, tenant_id: str, key: str, version: str | None = None
) -> TemplateVersion:
    """A template version visible to ``tenant_id``: newest by default, else by number or content hash."""
    with uow:
        for scope in (tenant_id, None):
            versions = list(uow.templates.versions(scope, key))
            if versions:
                break
        else:
            raise NotFound("template", key)
    if version is None or version == "":
        return versions[-1]
    for v in versions:
        if version in (str(v.number), v.content_hash) or (
            len(version) >= 8 and v.content_hash.startswith(version)
        ):
            return v
    raise NotFound("template version", f"{key}@{version}")


def list_templates(uow: UnitOfWork, tenant_id: str | None) -> list[TemplateVersion]:
    with uow:
        builtin = list(uow.templates.latest_per_key(None))
        own = list(uow.templates.latest_per_key(tenant_id)) if tenant_id else []
    return builtin + own


@dataclass(frozen=True)
class PromptAttached:
    published: Published
    sha256: str
    duration_s: float


def attach_prompt_audio(
    uow: UnitOfWork,
    clock: Clock,
    ids: IdFactory,
    blobs: BlobStore,
    tenant_id: str,
    key: str,
    question_id: str,
    audio: bytes,
) -> PromptAttached:
    """An operator's recording becomes what a question plays: a new version of the tenant's template.

    The newest version is copied with the question's ``prompt_audio`` set to the recording (normalised
    to WAV and stored by digest); sessions already running keep the version they pinned.
    """
    with uow:
        versions = list(uow.templates.versions(tenant_id, key))
        builtin = not versions and bool(uow.templates.versions(None, key))
    if builtin:
        raise Conflict(f"template {key!r} is built in: publish it under your own key to record its prompts")
    if not versions:
        raise NotFound("template", key)
    document = template_of(versions[-1]).to_document()
    questions: list[dict[str, Any]] = document["questions"]  # type: ignore[assignment]
    target = next((q for q in questions if q["id"] == question_id), None)
    if target is None:
        known = ", ".join(q["id"] for q in questions)
        raise InvalidInput(
            [FieldProblem("question_id", f"{key!r} has no question {question_id!r} ({known})")]
        )
    stored = upload_prompt_audio(uow, clock, blobs, tenant_id, audio)
    target["prompt_audio"] = stored.sha256
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    published = publish_template(uow, clock, ids, tenant_id, text, f"{key} + prompt audio", blobs)
    return PromptAttached(published, stored.sha256, stored.duration_s)
