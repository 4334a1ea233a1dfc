"""Unified social credit codes (GB 32100) and the signer's authority to apply an organisation's seal;
templates that mark organisation seal spots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dualsign.domain.errors import TemplateInvalid
from dualsign.domain.organisations import (
    SealAuthority,
    SealRole,
    credit_code_check,
    credit_code_problem,
    seal_role,
)
from dualsign.domain.templates import parse_template
from dualsign.scenarios import builtin_sources

BUILTINS = {name: yaml.safe_load(text) for name, text in builtin_sources()}
SIGNING = Path(__file__).parents[2] / "integration" / "signing_template.yaml"


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the example printed in GB 32100-2015
        "911100007109288314",
        "12100000400000624D",  # a public institution (事业单位): category 1, kind 2
    ],
)
def test_valid_credit_codes_pass(code: str) -> None:
    assert credit_code_problem(code) is None
    assert credit_code_check(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y44", "expected 3, got 4"),
        ("91350100M000100Y4", "must be 18 characters"),
        ("91350100M000100Y433", "must be 18 characters"),
        ("91350100I000100Y43", "never uses: I"),
        ("91350100m000100Y43", "never uses: m"),
        ("91AB0100M000100Y43", "administrative division"),
    ],
)
def test_wrong_credit_codes_say_what_is_wrong(code: str, reason: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None and reason in problem


def test_every_single_character_typo_is_caught() -> None:
    code = "91350100M000100Y43"
    caught = 0
    typos = 0
    for i in range(17):
        for c in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if c == code[i] or (2 <= i < 8 and not c.isdigit()):
                continue
            typos += 1
            caught += credit_code_problem(code[:i] + c + code[i + 1 :]) is not None
    assert typos == 384 and caught == typos  # weights coprime to 31: one wrong character always shows


def test_the_seal_role_is_named_in_chinese_or_as_a_code() -> None:
    assert seal_role("法定代表人") is SealRole.LEGAL_REPRESENTATIVE
    assert seal_role("Legal_Representative ") is SealRole.LEGAL_REPRESENTATIVE
    assert seal_role("授权代理人") is seal_role("委托代理人") is SealRole.AUTHORISED_AGENT
    assert seal_role("股东") is None and seal_role("") is None
    assert (SealRole.AUTHORISED_AGENT.zh, SealRole.AUTHORISED_AGENT.en) == ("授权代理人", "authorised agent")


def test_an_agent_needs_the_authorisation_a_legal_representative_does_not() -> None:
    assert SealAuthority(SealRole.LEGAL_REPRESENTATIVE).problems() == []
    assert [f for f, _ in SealAuthority(SealRole.AUTHORISED_AGENT).problems()] == ["authorisation_ref"]
    assert SealAuthority(SealRole.AUTHORISED_AGENT, document_ref="SQWT-1").problems() == []
    assert SealAuthority(SealRole.AUTHORISED_AGENT, document_sha256="ab" * 32).problems() == []
    assert [f for f, _ in SealAuthority(SealRole.AUTHORISED_AGENT, "x" * 201).problems()] == [
        "authorisation_ref"
    ]


def _with_fields(fields: list[dict[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(SIGNING.read_text())
    doc["documents"]["signature"]["fields"] = fields
    return doc


def test_templates_mark_organisation_seal_spots() -> None:
    bidding = parse_template(BUILTINS["bidding-documents-zh.yaml"], "bidding")
    assert bidding.needs_organisation
    spots = [(f.anchor, f.signs_as) for f in bidding.documents.signature.fields]
    assert spots == [("法定代表人或其委托代理人：", "signer"), ("（盖单位章）", "organisation")]
    registration = parse_template(BUILTINS["company-registration-zh.yaml"], "registration")
    assert registration.takes_organisation and not registration.needs_organisation  # optional spot
    insurance = parse_template(BUILTINS["insurance-epolicy-zh.yaml"], "insurance")
    assert not insurance.takes_organisation


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ({"role": "institution", "seal": "organisation", "anchor": "x"}, "applied by the signer"),
        (
            {"role": "signer", "required": False, "anchor": "x"},
            "only an organisation seal spot may be optional",
        ),
        ({"role": "signer", "seal": "company", "anchor": "x"}, "Input should be"),
    ],
)
def test_wrong_seal_fields_are_refused_with_the_field_named(field: dict[str, Any], reason: str) -> None:
    with pytest.raises(TemplateInvalid) as err:
        parse_template(_with_fields([field]), "bad.yaml")
    problems = {p.path: p.reason for p in err.value.problems}
    hits = [r for path, r in problems.items() if path.startswith("documents.signature.fields.0")]
    assert hits and reason in hits[0], problems


def test_templates_without_organisation_seals_keep_their_version_id() -> None:
    # the content hash of tests/integration/signing_template.yaml before ``seal`` and ``required`` existed
    old = "87720ec0775de745bebd976d488c5d456aced66e070f07cbdb33003b2232e761"
    assert parse_template(yaml.safe_load(SIGNING.read_text()), "x").content_hash() == old
    sealed = _with_fields([{"role": "signer", "seal": "organisation", "anchor": "盖单位章"}])
    assert parse_template(sealed, "x").content_hash() != old
