"""Schemathesis against the OpenAPI document: generated and mangled requests to every operation, with
a real API key, signer token and console sign-in, never get a server error (5xx)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from dualsign.api.app import create_app
from dualsign.application.integrator.sessions import NewSession, Upload, create_session
from dualsign.application.integrator.tenants import create_tenant
from dualsign.application.review.console import add_reviewer
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import PDF, PHOTO, VALID_ID, example_variables

pytestmark = pytest.mark.slow


EXAMPLES = 15  # generated requests per operation (valid and mangled), each checked for a 5xx
BINARY = ("audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/ogg", "audio/webm", "audio/mp4")


@schemathesis.serializer(*BINARY, "application/zip")
def _raw_bytes(ctx: Any, value: Any) -> bytes:
    """Bodies of recordings and bundles: whatever was generated, as bytes (mostly not valid media)."""
    return value if isinstance(value, bytes) else str(value).encode()


def test_no_operation_answers_a_server_error(tmp_path: Path) -> None:
    c = make_container(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        FixedClock(),
        DUALSIGN_WORKER="off",
        DUALSIGN_RATE_LIMIT_CLIENT="100000000",  # the fuzzer is one client sending thousands of requests
        DUALSIGN_RATE_LIMIT_TOKEN="100000000",
    )
    tenant, key = create_tenant(c.new_uow(), c.clock, c.ids, "Fuzzed Bank")
    created = create_session(
        c.new_uow(),
        c.session_services,
        tenant.id,
        NewSession(
            template_key="insurance-epolicy-en",
            signer_name="Fuzz",
            signer_id_number=VALID_ID,
            id_type="cn_resident",
            signer_phone="13800000000",
            identity_photo=Upload("identity_photo", "p.jpg", "image/jpeg", PHOTO),
            documents=[Upload("documents", "d.pdf", "application/pdf", PDF)],
            variables=json.loads(example_variables("insurance-epolicy-en")),
        ),
    )
    add_reviewer(
        c.new_uow(),
        c.clock,
        c.ids.new_id,
        c.passwords,
        tenant_id=tenant.id,
        username="fuzz-admin",
        password="correct horse battery",
        role="admin",
    )
    app = create_app(c)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:  # the console cookie: reach its operations
        signed = client.post(
            "/console/api/sign-in",
            headers={"X-DualSign-Console": "1"},
            json={"username": "fuzz-admin", "password": "correct horse battery"},
        )
        assert signed.status_code == 200, signed.text
        cookies = dict(client.cookies)
    credentials = {
        "Authorization": f"Bearer {key.secret}",
        "X-Signer-Token": created.token,
        "X-DualSign-Console": "1",
    }
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    reached: set[str] = set()  # operations that answered 2xx to some generated request: really exercised
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(
                headers=dict(credentials), cookies=cookies, checks=[not_a_server_error]
            )
            if response.status_code < 300:
                reached.add(case.operation.label)

        try:
            run()
        except Exception as exc:  # one failing operation is reported with the others, not alone
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    c.close()
    assert operations >= 40, operations
    assert not failures, "\n\n".join(failures)
    print(f"\nfuzzed {operations} operations, {len(reached)} answered 2xx to generated requests")
    assert len(reached) >= 15, sorted(reached)
