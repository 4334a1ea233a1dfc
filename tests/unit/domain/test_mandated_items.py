"""Every built-in template covers its scenario's mandated items, each question citing its clause."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from dualsign.domain.templates import Expects, Scenario, Template, parse_template
from dualsign.domain.variables import placeholders
from dualsign.scenarios import builtin_sources, mandated_items_source

ITEMS: dict[str, list[dict[str, Any]]] = yaml.safe_load(mandated_items_source())["scenarios"]
TEMPLATES = [parse_template(yaml.safe_load(text), name) for name, text in builtin_sources()]


def test_every_product_scenario_has_a_list() -> None:
    assert set(ITEMS) == {s.value for s in Scenario} - {Scenario.OTHER.value}


def _covers(t: Template, item: dict[str, Any]) -> bool:
    for q in t.questions:
        if item["cites"] not in (q.clause or ""):
            continue
        if not set(item.get("reads", ())) <= set(placeholders(q.prompt)):
            continue
        if "expects" in item and q.polarity is not Expects(item["expects"]):
            continue
        return True
    return False


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_the_template_covers_every_mandated_item(template: Template) -> None:
    missing = [i["id"] for i in ITEMS[template.scenario.value] if not _covers(template, i)]
    assert missing == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_every_question_cites_its_clause_and_facts_are_variables(template: Template) -> None:
    assert all(q.clause for q in template.questions)
    assert template.variables, "the facts of the deal are read from variables"
    read = {name for q in template.questions for name in placeholders(q.prompt)}
    assert read == {v.name for v in template.variables}  # every declared fact is read aloud


def test_a_template_missing_an_item_fails_the_check() -> None:
    loan = next(t for t in TEMPLATES if t.key == "bank-loan-zh")
    without = loan.model_copy(
        update={"questions": tuple(q for q in loan.questions if "受托支付" not in (q.clause or ""))}
    )
    item = next(i for i in ITEMS["bank_loan"] if i["id"] == "payment_method")
    assert _covers(loan, item) and not _covers(without, item)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_the_consent_says_what_the_page_records(template: Template) -> None:
    """The page's operation trace (屏幕操作过程) is described as it is kept: screens, document pages and
    how long they were shown, the buttons pressed — and never what the signer types."""
    text = template.consent.recording
    if template.language.startswith("zh"):
        assert "屏幕操作过程" in text and "文件每一页" in text and "不记录您输入的任何文字" in text
    else:
        assert "each document page" in text and "nothing you type is recorded" in text
