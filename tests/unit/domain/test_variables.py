"""Template variables: values validated with the field named, money and rates read as on a contract."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dualsign.domain.errors import InvalidInput, TemplateInvalid
from dualsign.domain.session import SigningSession
from dualsign.domain.templates import parse_template
from dualsign.domain.variables import (
    Variable,
    integer_en,
    integer_zh,
    money_en,
    money_zh,
    percent_zh,
    render,
    spoken,
    validate_values,
    with_agent,
)

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("500000", "人民币伍拾万元整"),
        ("100000", "人民币壹拾万元整"),
        ("1050000", "人民币壹佰零伍万元整"),
        ("100500", "人民币壹拾万零伍佰元整"),
        ("1234.56", "人民币壹仟贰佰叁拾肆元伍角陆分"),
        ("1234.06", "人民币壹仟贰佰叁拾肆元零陆分"),
        ("3600.50", "人民币叁仟陆佰元伍角整"),
        ("100010000", "人民币壹亿零壹万元整"),
        ("0.5", "人民币伍角整"),
        ("0", "人民币零元整"),
    ],
)
def test_money_in_mandarin_capitals(amount: str, words: str) -> None:
    assert money_zh(Decimal(amount)) == words


@pytest.mark.parametrize(
    ("rate", "words"),
    [("3.85", "百分之三点八五"), ("12", "百分之十二"), ("0.5", "百分之零点五"), ("100", "百分之一百")],
)
def test_percent_in_mandarin(rate: str, words: str) -> None:
    assert percent_zh(Decimal(rate)) == words


def test_integers_and_money_in_english_and_mandarin() -> None:
    assert integer_zh(36) == "三十六"
    assert integer_zh(10) == "十"
    assert integer_zh(105) == "一百零五"
    assert integer_en(123456) == "one hundred twenty-three thousand four hundred fifty-six"
    assert money_en(Decimal("500000")) == "five hundred thousand yuan"
    assert money_en(Decimal("12.50")) == "twelve yuan and fifty fen"


def test_spoken_values_by_type_and_language() -> None:
    term = Variable(name="term", type="integer", unit="个月")
    assert spoken(term, "36", "zh") == "三十六个月"
    assert spoken(Variable(name="term", type="integer", unit="months"), "36", "en") == "36 months"
    day = Variable(name="d", type="date")
    assert spoken(day, "2026-12-06", "zh") == "二〇二六年十二月六日"
    assert spoken(day, "2026-12-06", "en") == "6 December 2026"
    assert spoken(Variable(name="r", type="percent"), "3.85", "en") == "3.85 percent"
    assert (
        spoken(Variable(name="m", type="money", format="digits"), "500000.00", "zh") == "人民币500,000.00元"
    )


def test_values_are_validated_and_problems_name_the_field() -> None:
    declared = [
        Variable(name="loan_amount", type="money", min=Decimal(1)),
        Variable(name="annual_rate", type="percent", max=Decimal(24)),
        Variable(name="term_months", type="integer"),
        Variable(name="repayment", type="enum", values=("等额本息", "等额本金")),
        Variable(name="start", type="date", required=False),
        Variable(name="plate", type="text", format=r"[\u4e00-\u9fff][A-Z][A-Z0-9]{5,6}"),
    ]
    values, problems = validate_values(
        declared,
        {
            "loan_amount": "500,000",
            "annual_rate": "3.85%",
            "term_months": 36,
            "repayment": "等额本息",
            "plate": "京A12345",
        },
    )
    assert problems == []
    assert values == {
        "loan_amount": "500000.00",
        "annual_rate": "3.85",
        "term_months": "36",
        "repayment": "等额本息",
        "plate": "京A12345",
    }
    _, problems = validate_values(
        declared,
        {
            "loan_amount": "12.345",
            "annual_rate": "36",
            "term_months": "three",
            "repayment": "随借随还",
            "plate": "A12345",
            "unknown": "x",
        },
    )
    fields = {p.path for p in problems}
    assert fields == {
        "variables.loan_amount",
        "variables.annual_rate",
        "variables.term_months",
        "variables.repayment",
        "variables.plate",
        "variables.unknown",
    }
    _, missing = validate_values(declared, {})
    assert {p.path for p in missing} == {
        f"variables.{n}" for n in ("loan_amount", "annual_rate", "term_months", "repayment", "plate")
    }
    _, braces = validate_values([Variable(name="t", type="text")], {"t": "{t}"})
    assert braces and braces[0].path == "variables.t"


def test_render_fills_placeholders() -> None:
    assert render(
        "借款金额{amount}，年化利率{rate}。", {"amount": "人民币伍拾万元整", "rate": "百分之三点八五"}
    ) == ("借款金额人民币伍拾万元整，年化利率百分之三点八五。")


def _loan_template() -> dict[str, object]:
    return {
        "key": "loan-vars",
        "title": "贷款",
        "scenario": "bank_loan",
        "language": "zh-CN",
        "consent": {"recording": "录音录像", "biometric": "人脸"},
        "identity": {"required": False},
        "liveness": {"required": False},
        "variables": [
            {"name": "amount", "type": "money", "label": "借款金额"},
            {"name": "rate", "type": "percent", "label": "年化利率"},
        ],
        "questions": [
            {
                "id": "q1",
                "category": "informed_confirmation",
                "prompt": "您本次借款金额为{amount}，年化利率为{rate}，请问您是否确认？",
            }
        ],
    }


def test_a_template_may_only_read_declared_required_variables() -> None:
    doc = _loan_template()
    doc["questions"] = [{"id": "q1", "category": "other", "prompt": "期限{term}，是否确认？"}]
    with pytest.raises(TemplateInvalid, match="term"):
        parse_template(doc)


def test_the_session_records_values_and_reads_them_aloud() -> None:
    t = parse_template(_loan_template())
    s = SigningSession("ses_1", t)
    with pytest.raises(InvalidInput) as refused:
        s.create(AT, {}, {"amount": "abc", "rate": "3.85"})
    assert [p.path for p in refused.value.problems] == ["variables.amount"]
    created = s.create(AT, {}, {"amount": "500000", "rate": "3.85"})
    assert created.payload["variables"] == {
        "amount": {"type": "money", "value": "500000.00", "spoken": "人民币伍拾万元整"},
        "rate": {"type": "percent", "value": "3.85", "spoken": "百分之三点八五"},
    }
    s.open(AT)
    s.give_consent(AT)
    prompt = s.next_prompt()
    assert prompt is not None
    assert prompt.text == "您本次借款金额为人民币伍拾万元整，年化利率为百分之三点八五，请问您是否确认？"
    replayed = SigningSession.replay("ses_1", t, s.events)
    assert replayed.next_prompt() == prompt


def test_a_template_without_variables_keeps_its_hash_and_needs_no_values() -> None:
    doc = _loan_template()
    doc.pop("variables")
    doc["questions"] = [{"id": "q1", "category": "other", "prompt": "是否确认？", "acceptable": ["确认"]}]
    t = parse_template(doc)
    assert "variables" not in t.to_document()
    assert "expects" not in t.to_document()["questions"][0]  # type: ignore[index]
    created = SigningSession("s", t).create(AT, {"signer_name": "张三"})
    assert "variables" not in created.payload


def test_the_documented_example_is_valid_and_reads_as_documented() -> None:
    import re
    from pathlib import Path

    import yaml

    doc = (Path(__file__).parents[3] / "docs/templates.md").read_text(encoding="utf-8")
    example = doc.split("## A full example", 1)[1]
    source = re.search(r"```yaml\n(.*?)```", example, re.S)
    assert source is not None
    t = parse_template(yaml.safe_load(source.group(1)), "docs/templates.md")
    s = SigningSession("doc", t)
    s.create(AT, {}, t.example_values())
    q2 = s.prompt_text(t.questions[1])
    documented = example.rsplit("q2 is read as:", 1)[1].replace("\n", "").strip()
    assert q2 == documented


def test_numbers_in_text_can_be_read_digit_by_digit() -> None:
    licence = Variable(name="licence", type="text", spell=True)
    assert spoken(licence, "ZB-2026-0001", "zh") == "ZB-二零二六-零零零一"
    assert spoken(licence, "No. 0200", "en") == "No. 0 2 0 0"
    assert spoken(Variable(name="t", type="text"), "0200", "zh") == "0200"
    with pytest.raises(ValueError, match="spell applies to text"):
        Variable(name="n", type="integer", spell=True)


def test_a_variable_taken_from_the_agent_is_given_once_and_must_agree() -> None:
    declared = [
        Variable(name="seller_name", type="text", source="agent.name"),
        Variable(name="seller_license", type="text", source="agent.number", spell=True),
        Variable(name="insurer", type="text"),
    ]
    filled, problems = with_agent(declared, {"insurer": "示例人寿"}, " 李四 ", "ag-0046")
    assert problems == []
    assert filled == {"insurer": "示例人寿", "seller_name": "李四", "seller_license": "AG-0046"}
    given = {"seller_name": "王五", "seller_license": "AG-0046"}
    _, problems = with_agent(declared, given, "李四", "ag-0046")
    assert [p.path for p in problems] == ["variables.seller_name"]
    assert "taken from agent.name ('李四')" in problems[0].reason
    _, missing = validate_values(declared, {"insurer": "示例人寿"})  # no agent registered
    assert "taken from agent.name" in {p.path: p.reason for p in missing}["variables.seller_name"]


def test_only_a_template_with_an_agent_takes_text_variables_from_it() -> None:
    with pytest.raises(ValueError, match="source applies to text"):
        Variable(name="premium", type="money", source="agent.number")
    doc = _loan_template()
    doc["variables"].append({"name": "officer", "type": "text", "source": "agent.name"})  # type: ignore[attr-defined]
    with pytest.raises(TemplateInvalid, match="taken from the agent"):
        parse_template(doc)
