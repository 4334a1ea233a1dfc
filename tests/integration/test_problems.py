"""One RFC 9457 builder for every error: a route's domain error, the body limit's 413 and the rate
limit's 429 (both answered before any route runs) are the same document with the same headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import tenant_headers

MEMBERS = {"type", "title", "status", "detail", "code", "instance"}


def _problem(r: Any, status: int, code: str, path: str) -> dict[str, Any]:
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json", r.text
    body: dict[str, Any] = r.json()
    assert set(body) >= MEMBERS and int(r.headers["content-length"]) == len(r.content)
    assert (body["type"], body["status"], body["code"], body["instance"]) == (
        f"https://dualsign.dev/problems/{code}",
        status,
        code,
        path,
    )
    return body


def test_route_body_limit_and_rate_limit_problems_are_one_document(tmp_path: Path) -> None:
    c = make_container(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        FixedClock(),
        DUALSIGN_WORKER="off",
        DUALSIGN_MAX_BODY_BYTES="65536",
        DUALSIGN_RATE_LIMIT_CLIENT="2",
    )
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Problem Bank")
        missing = client.get("/v1/sessions/ses_none", headers=headers)
        assert _problem(missing, 404, "not_found", "/v1/sessions/ses_none")["resource"] == "session"

        big = client.post("/v1/sessions", headers=headers, content=b"x" * 70_000)
        too_large = _problem(big, 413, "payload_too_large", "/v1/sessions")
        assert too_large["limit"] == 65536 and "65536 bytes" in too_large["detail"]
        assert big.headers["connection"] == "close"

        assert [client.get("/verify").status_code for _ in range(2)] == [200, 200]
        limited = client.get("/verify")
        body = _problem(limited, 429, "rate_limited", "/verify")
        assert body["title"] == "Too many requests" and "more than 2 requests in 60 s" in body["detail"]
        assert int(limited.headers["retry-after"]) == body["retry_after_s"] > 0
    c.close()
