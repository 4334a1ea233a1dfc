"""Operations: liveness, readiness naming what is down, Prometheus metrics, redacted JSON logs."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from dualsign.api.app import create_app
from dualsign.observability import logs
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers


def test_readiness_names_what_is_not_usable(tmp_path: Path, database_url: str) -> None:
    c = make_container(tmp_path, database_url, FixedClock())
    with TestClient(create_app(c)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        idle = client.get("/readyz")
        assert idle.status_code == 503  # the in-process worker has not been started
        assert idle.json()["checks"]["worker"]["ok"] is False
        assert idle.json()["checks"]["database"]["ok"] is True
        c.start_worker(poll_seconds=0.2)
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"database", "blobs", "worker"}
        working, c.engine = c.engine, create_engine(f"sqlite:///{tmp_path / 'gone' / 'db.sqlite'}")
        down = client.get("/readyz")  # the database is gone
        c.engine = working
        assert down.status_code == 503
        assert down.json()["checks"]["database"]["ok"] is False
        assert "OperationalError" in down.json()["checks"]["database"]["detail"]
    c.close()


def test_metrics_count_requests_by_route_and_read_sessions_and_jobs(
    tmp_path: Path, database_url: str
) -> None:
    c = make_container(tmp_path, database_url, FixedClock(), DUALSIGN_WORKER="off")
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Metered Bank")
        created = create(client, headers).json()
        create(client, headers)
        client.post(f"/v1/sessions/{created['id']}/cancel", headers=headers, json={"reason": "test"})
        token = created["signer_url"].rsplit("/", 1)[1]
        client.get("/signer/v1/session", headers={"X-Signer-Token": token})
        text = client.get("/metrics").text
    c.close()
    assert (
        'dualsign_http_request_seconds_count{method="POST",route="create_session",status="201"} 2.0' in text
    )
    assert 'dualsign_sessions{state="created"} 1.0' in text
    assert 'dualsign_sessions{state="cancelled"} 1.0' in text
    assert 'dualsign_jobs{kind="render_report",state="queued"} 1.0' in text  # the queue: sealed, report next
    assert token not in text and created["id"] not in text  # labels are names, never paths


def test_log_lines_are_json_without_id_numbers_phones_tokens_or_keys() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    logs.configure("json")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    access = logging.getLogger("uvicorn.access")
    access.info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/s/eyJzIjoic2VzXzEyMyJ9.aGVsbG8.c2ln", "1.1", 200
    )
    access.info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/signer/v1/live?token=abc.def.ghi", "1.1", 101
    )
    logging.getLogger("dualsign").warning(
        "signer 11010519491231002X phone 13800138000 key dsk_abc_secret Authorization: Bearer xyz"
    )
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["uvicorn.access", "uvicorn.access", "dualsign"]
    assert lines[0]["message"] == '127.0.0.1:5000 - "GET /s/[token] HTTP/1.1" 200'
    assert "token=[redacted]" in lines[1]["message"]
    assert lines[2]["message"] == (
        "signer 1101**********002X phone 138****8000 key dsk_[redacted] Authorization: Bearer [redacted]"
    )
    assert lines[2]["level"] == "WARNING" and "time" in lines[2]
    root.handlers[:], root.level = saved
