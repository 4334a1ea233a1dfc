"""An integrator creates a loan session with its amount, term and rate, and the signer hears them read.

The built-in bank-loan-zh is published by a tenant with identity and liveness turned off, so that the
text-mode signer API reaches its questions; everything else is the built-in template as shipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.bootstrap.container import Container
from tests.integration.helpers import create, tenant_headers

LOAN = Path(__file__).parents[2] / "src/dualsign/scenarios/bank-loan-zh.yaml"
FACTS = {
    "lender_name": "示例银行股份有限公司",
    "loan_product": "个人消费贷款",
    "loan_amount": "500000",
    "term_months": "36",
    "annual_rate": "3.85",
    "repayment_method": "等额本息",
    "loan_purpose": "家庭装修",
    "guarantee": "信用（无担保）",
    "payment_method": "受托支付",
    "early_repayment": "提前还款无需支付违约金",
}


def _loan_yaml(key: str, typed: bool) -> bytes:
    text = LOAN.read_text(encoding="utf-8").replace("key: bank-loan-zh", f"key: {key}")
    text = text.replace("identity:\n  required: true", "identity:\n  required: false")
    text = text.replace("liveness:\n  required: true", "liveness:\n  required: false")
    if typed:
        text += "\ntyped_answers: true\n"
    return text.encode()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as c:
        yield c


@pytest.fixture
def headers(container: Container, client: TestClient) -> dict[str, str]:
    h = tenant_headers(container, "Bank")
    for key, typed in (("my-loan", True), ("my-loan-spoken", False)):
        r = client.post(
            "/v1/templates", headers={**h, "Content-Type": "application/yaml"}, content=_loan_yaml(key, typed)
        )
        assert r.status_code == 201, r.text
    return h


def _signer(created: dict[str, Any]) -> dict[str, str]:
    return {"X-Signer-Token": created["signer_url"].rsplit("/", 1)[1]}


def test_missing_or_wrong_values_are_refused_naming_the_field(
    client: TestClient, headers: dict[str, str]
) -> None:
    missing = create(client, headers, template="bank-loan-zh", variables="")
    assert missing.status_code == 422
    fields = {e["field"] for e in missing.json()["errors"]}
    assert {"variables.loan_amount", "variables.term_months", "variables.annual_rate"} <= fields
    wrong = dict(FACTS, loan_amount="五十万", annual_rate="3.855555")
    r = create(client, headers, template="bank-loan-zh", variables=json.dumps(wrong, ensure_ascii=False))
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"variables.loan_amount", "variables.annual_rate"}
    assert create(client, headers, template="bank-loan-zh", variables="[1, 2]").json()["errors"][0][
        "field"
    ] == ("variables")


def test_the_loan_is_read_back_and_the_values_are_in_the_chain(
    client: TestClient, headers: dict[str, str]
) -> None:
    r = create(client, headers, template="my-loan", variables=json.dumps(FACTS, ensure_ascii=False))
    assert r.status_code == 201, r.text
    created = r.json()
    signer = _signer(created)
    client.post("/signer/v1/open", headers=signer)
    s = client.post("/signer/v1/consent", headers=signer, json={"agree": True}).json()
    assert s["prompt"]["question_id"] == "q1"
    s = client.post("/signer/v1/answers", headers=signer, json={"text": "是本人"}).json()
    text = s["prompt"]["text"]
    assert "借款金额人民币伍拾万元整" in text
    assert "借款期限三十六个月" in text
    assert "年化利率百分之三点八五" in text
    assert "{" not in text
    events = client.get(f"/v1/sessions/{created['id']}/events", headers=headers).json()
    created_event = next(e for e in events if e["kind"] == "session_created")
    assert created_event["payload"]["variables"]["loan_amount"] == {
        "type": "money",
        "value": "500000.00",
        "spoken": "人民币伍拾万元整",
    }
    asked = [e for e in events if e["kind"] == "question_asked" and e["payload"]["question_id"] == "q2"]
    assert "人民币伍拾万元整" in asked[0]["payload"]["text"]
    judged = [e for e in events if e["kind"] == "answer_judged"]
    assert judged[0]["payload"]["input"] == "text"  # typed answers are marked as such


def test_a_mandarin_spoken_confirmation_template_refuses_typed_answers(
    client: TestClient, headers: dict[str, str]
) -> None:
    created = create(
        client, headers, template="my-loan-spoken", variables=json.dumps(FACTS, ensure_ascii=False)
    )
    signer = _signer(created.json())
    client.post("/signer/v1/open", headers=signer)
    client.post("/signer/v1/consent", headers=signer, json={"agree": True})
    r = client.post("/signer/v1/answers", headers=signer, json={"text": "是"})
    assert r.status_code == 409
    assert r.json()["code"] == "typed_answers_not_allowed"
