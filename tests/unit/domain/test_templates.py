"""Scenario templates: the built-ins are valid and realistic; bad ones are refused with the field named."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from dualsign.domain.errors import TemplateInvalid
from dualsign.domain.templates import Language, Scenario, Template, parse_template
from dualsign.scenarios import builtin_sources

BUILTINS = {name: yaml.safe_load(text) for name, text in builtin_sources()}


def builtin(key: str) -> Template:
    return parse_template(BUILTINS[f"{key}.yaml"], key)


def test_every_product_scenario_has_a_chinese_template_and_key_scenarios_an_english_one() -> None:
    templates = [parse_template(doc, name) for name, doc in BUILTINS.items()]
    zh = {t.scenario for t in templates if t.language is Language.ZH_CN}
    en = {t.scenario for t in templates if t.language is Language.EN_US}
    assert zh == set(Scenario) - {Scenario.OTHER}
    assert {Scenario.INSURANCE_E_POLICY, Scenario.BANK_LOAN} <= en
    for name, doc in BUILTINS.items():
        assert doc["key"] == name.removesuffix(".yaml")


def test_insurance_opens_with_the_recording_notice_then_the_seller() -> None:
    q1, q2 = builtin("insurance-epolicy-zh").questions[:2]
    assert q1.prompt.startswith(
        "此次录音录像过程对于今后您维护权益非常关键，请您认真阅读您签署文件的具体内容"
    )
    assert "知晓" in q1.acceptable
    # the reminder 保监消保〔2017〕265号 prescribes, read word for word (test_mandated_items checks the text)
    assert q1.category.value == "verbatim_regulatory" and "265号" in (q1.clause or "")
    assert all(w in q2.prompt for w in ("{seller_name}", "{seller_license}", "{seller_institution}"))
    english = builtin("insurance-epolicy-en").questions[0]
    assert english.category.value == "informed_confirmation"  # a translation is not the prescribed text


def test_bank_loan_reads_amount_term_and_rate() -> None:
    q2 = builtin("bank-loan-zh").questions[1]
    for name in ("{loan_amount}", "{term_months}", "{annual_rate}"):
        assert name in q2.prompt
    assert "合同中载明" not in q2.prompt


def test_real_estate_is_kept_permanently() -> None:
    assert builtin("real-estate-registration-zh").retention.years == "permanent"


def test_builtins_include_a_question_whose_acceptable_answer_is_negative() -> None:
    for name, doc in BUILTINS.items():
        t = parse_template(doc, name)
        assert any(
            any(a.startswith(("没", "否", "不", "no", "No")) for a in q.acceptable) for q in t.questions
        ), name


def _with(path: str, value: Any) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(yaml.safe_dump(BUILTINS["insurance-epolicy-zh.yaml"]))
    *parents, last = path.split(".")
    node: Any = doc
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    if value is _DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return doc


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "reason"),
    [
        ("questions.2.expects", "deny", "questions.2", "a question that expects deny cannot accept"),
        ("questions.2.expects", "maybe", "questions.2.expects", "Input should be"),
        ("questions.0.max_attempts", 0, "questions.0.max_attempts", "greater than or equal to 1"),
        ("questions.1.category", "small_talk", "questions.1.category", "Input should be"),
        ("questions.1.id", "q1", "questions", "used twice"),
        ("language", "fr-FR", "language", "Input should be"),
        ("consent", _DELETE, "consent", "Field required"),
        ("questions.3.colour", "red", "questions.3.colour", "Extra inputs are not permitted"),
        ("liveness.count", 9, "liveness.count", "less than or equal to 5"),
        ("monitoring.min_face_present_ratio", 1.5, "monitoring.min_face_present_ratio", "less than or equal"),
    ],
)
def test_invalid_template_names_the_field_and_reason(path: str, value: Any, field: str, reason: str) -> None:
    with pytest.raises(TemplateInvalid) as err:
        parse_template(_with(path, value), "bad.yaml")
    problems = {p.path: p.reason for p in err.value.problems}
    assert field in problems, problems
    assert reason in problems[field]
    assert "bad.yaml" in err.value.diagnostics()


def test_content_hash_is_the_version_any_edit_changes_it() -> None:
    t = builtin("bank-loan-zh")
    same = parse_template(yaml.safe_load(yaml.safe_dump(BUILTINS["bank-loan-zh.yaml"])), "copy")
    assert t.content_hash() == same.content_hash()
    edited = _with("questions.0.prompt", "改过的问题？")
    edited["key"] = "bank-loan-zh"
    edited["scenario"] = "bank_loan"
    assert parse_template(edited, "x").content_hash() != builtin("insurance-epolicy-zh").content_hash()
    assert len(t.content_hash()) == 64


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(TemplateInvalid, match="mapping"):
        parse_template(["not", "a", "template"], "list.yaml")
