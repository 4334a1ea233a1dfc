"""Every built-in template covers its scenario's mandated items, each question citing its clause; a
sentence a rule prescribes is read word for word, and only such a sentence is marked verbatim."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from dualsign.domain.templates import (
    Expects,
    Language,
    Question,
    QuestionCategory,
    Scenario,
    Template,
    parse_template,
)
from dualsign.domain.variables import placeholders
from dualsign.scenarios import builtin_sources, mandated_items_source

ITEMS: dict[str, list[dict[str, Any]]] = yaml.safe_load(mandated_items_source())["scenarios"]
TEMPLATES = [parse_template(yaml.safe_load(text), name) for name, text in builtin_sources()]
VERBATIM = Language.ZH_CN  # the language of the prescribed sentences (the rules are published in Chinese)

# 保监消保〔2017〕265号 二、明确提示, as confirmed against two independent copies of the published notice
# (docs/templates.md, "Sentences carried verbatim"). Pinned here as well, so that the data file's sentence
# cannot drift with the templates' unnoticed.
NOTICE_265_REMINDER = (
    "此次录音录像过程对于今后您维护权益非常关键，请您认真阅读您签署文件的具体内容，如实回答相关问题。"
    "如果销售人员向您作出任何与书面文件内容不一致的承诺，建议您与销售人员通过书面形式予以确认，"
    "以便更好地维护您的合法权益"
)


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


# --- sentences a rule prescribes ------------------------------------------------------------------------


def _verbatim_items(scenario: Scenario) -> list[dict[str, Any]]:
    return [i for i in ITEMS.get(scenario.value, ()) if "verbatim" in i]


def _carries(t: Template, item: dict[str, Any]) -> bool:
    """Some question marked verbatim_regulatory cites the item and reads its sentence unbroken."""
    return any(
        q.category is QuestionCategory.VERBATIM_REGULATORY
        and item["cites"] in (q.clause or "")
        and item["verbatim"] in q.prompt
        for q in t.questions
    )


def _false_claims(t: Template) -> list[str]:
    """Questions marked verbatim_regulatory whose prompt holds no sentence listed for the scenario (with
    the clause citing that sentence's rule)."""
    items = _verbatim_items(t.scenario)

    def backed(q: Question) -> bool:
        return any(i["verbatim"] in q.prompt and i["cites"] in (q.clause or "") for i in items)

    return [q.id for q in t.questions if q.category is QuestionCategory.VERBATIM_REGULATORY and not backed(q)]


def test_the_insurance_reminder_is_listed_as_prescribed() -> None:
    sentences = [i["verbatim"] for i in _verbatim_items(Scenario.INSURANCE_E_POLICY)]
    assert sentences == [NOTICE_265_REMINDER]
    assert all(i["verbatim"].strip() == i["verbatim"] for s in Scenario for i in _verbatim_items(s))


@pytest.mark.parametrize("template", [t for t in TEMPLATES if t.language is VERBATIM], ids=lambda t: t.key)
def test_the_template_reads_every_prescribed_sentence_word_for_word(template: Template) -> None:
    """A template in another language carries a translation, which is not the text (and is not marked)."""
    missing = [i["id"] for i in _verbatim_items(template.scenario) if not _carries(template, i)]
    assert missing == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_no_question_claims_to_be_verbatim_without_a_listed_sentence(template: Template) -> None:
    assert _false_claims(template) == []


def test_the_chinese_insurance_templates_mark_the_reminder_and_the_english_one_does_not() -> None:
    by_key = {t.key: t for t in TEMPLATES}
    for key in ("insurance-epolicy-zh", "insurance-epolicy-inperson-zh"):
        marked = [q for q in by_key[key].questions if q.category is QuestionCategory.VERBATIM_REGULATORY]
        assert [q.id for q in marked] == ["q1"]
        assert marked[0].prompt.startswith(NOTICE_265_REMINDER + "。")
    english = by_key["insurance-epolicy-en"]
    assert all(q.category is not QuestionCategory.VERBATIM_REGULATORY for q in english.questions)
    assert "265号" in (english.questions[0].clause or "")  # the translation still cites the notice


def _altered(
    t: Template, question_id: str, prompt: str, category: QuestionCategory | None = None
) -> Template:
    questions = tuple(
        q.model_copy(update={"prompt": prompt, "category": category or q.category})
        if q.id == question_id
        else q
        for q in t.questions
    )
    return t.model_copy(update={"questions": questions})


@pytest.mark.parametrize("index", [0, 20, len(NOTICE_265_REMINDER) - 1])
def test_one_character_changed_fails_both_checks(index: int) -> None:
    """A prompt that differs from the prescribed sentence by one character neither carries it nor may
    keep the mark (a character replaced, or one dropped)."""
    t = next(t for t in TEMPLATES if t.key == "insurance-epolicy-zh")
    item = _verbatim_items(Scenario.INSURANCE_E_POLICY)[0]
    q1 = t.questions[0]
    assert _carries(t, item) and _false_claims(t) == []
    swapped = q1.prompt[:index] + ("的" if q1.prompt[index] != "的" else "之") + q1.prompt[index + 1 :]
    dropped = q1.prompt[:index] + q1.prompt[index + 1 :]
    for prompt in (swapped, dropped):
        changed = _altered(t, "q1", prompt)
        assert not _carries(changed, item)
        assert _false_claims(changed) == ["q1"]


def test_marking_a_paraphrase_verbatim_is_caught() -> None:
    """The mark cannot be claimed for the product's own wording, nor for a translation."""
    zh = next(t for t in TEMPLATES if t.key == "insurance-epolicy-zh")
    own = _altered(zh, "q3", zh.questions[2].prompt, QuestionCategory.VERBATIM_REGULATORY)
    assert _false_claims(own) == ["q3"]
    en = next(t for t in TEMPLATES if t.key == "insurance-epolicy-en")
    translated = _altered(en, "q1", en.questions[0].prompt, QuestionCategory.VERBATIM_REGULATORY)
    assert _false_claims(translated) == ["q1"]
