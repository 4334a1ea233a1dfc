"""Request limits on the signer's and verification endpoints: per signer link and per client address,
counted in the process or, shared by several API processes, in the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers

REDIS = "redis://127.0.0.1:6379/15"


def test_a_signer_link_over_its_limit_gets_429_and_others_go_on(tmp_path: Path) -> None:
    c = make_container(
        tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", FixedClock(), DUALSIGN_RATE_LIMIT_TOKEN="5"
    )
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Limited Bank")
        first, second = (create(client, headers).json() for _ in range(2))
        token = {"X-Signer-Token": first["signer_url"].rsplit("/", 1)[1]}
        assert [client.get("/signer/v1/session", headers=token).status_code for _ in range(5)] == [200] * 5
        refused = client.get("/signer/v1/session", headers=token)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["code"] == "rate_limited"
        other = {"X-Signer-Token": second["signer_url"].rsplit("/", 1)[1]}
        assert client.get("/signer/v1/session", headers=other).status_code == 200
        assert client.get("/v1/sessions", headers=headers).status_code == 200  # integrators use keys
    c.close()


def test_one_address_is_limited_across_links_and_the_verify_page(tmp_path: Path) -> None:
    c = make_container(
        tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", FixedClock(), DUALSIGN_RATE_LIMIT_CLIENT="3"
    )
    with TestClient(create_app(c)) as client:
        assert [client.get("/verify").status_code for _ in range(3)] == [200] * 3
        assert client.get("/verify").status_code == 429
        assert client.get("/s/anything").status_code == 429
        assert client.get("/healthz").status_code == 200
    c.close()


def test_api_processes_share_one_limit_through_redis(tmp_path: Path) -> None:
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {REDIS} is not reachable: {exc}")
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    env = {"DUALSIGN_REDIS_URL": REDIS, "DUALSIGN_RATE_LIMIT_TOKEN": "4"}
    a = make_container(tmp_path, db, FixedClock(), **env)
    b = make_container(tmp_path, db, FixedClock(), **env)
    with TestClient(create_app(a)) as one, TestClient(create_app(b)) as two:
        headers = tenant_headers(a, "Shared Bank")
        token = {"X-Signer-Token": create(one, headers).json()["signer_url"].rsplit("/", 1)[1]}
        codes = [api.get("/signer/v1/session", headers=token).status_code for api in (one, two, one, two)]
        assert codes == [200] * 4
        assert two.get("/signer/v1/session", headers=token).status_code == 429  # counted in both
        assert one.get("/signer/v1/session", headers=token).status_code == 429
    a.close()
    b.close()


def test_recording_chunks_count_against_their_link_not_the_shared_address(tmp_path: Path) -> None:
    """Many signers behind one NAT: chunks are never refused for the address's sake."""
    c = make_container(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        FixedClock(),
        DUALSIGN_RATE_LIMIT_CLIENT="8",
        DUALSIGN_RATE_LIMIT_TOKEN="50",
    )
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Branch Bank")
        links = [create(client, headers).json()["signer_url"].rsplit("/", 1)[1] for _ in range(3)]
        for token in links:  # 6 requests that count against the address
            assert client.post("/signer/v1/open", headers={"X-Signer-Token": token}).is_success
            consent = client.post(
                "/signer/v1/consent", headers={"X-Signer-Token": token}, json={"agree": True}
            )
            assert consent.is_success, consent.text
        codes = []
        for token in links:
            h = {"X-Signer-Token": token}
            for index in range(4):  # 12 chunks from one address, 4 per link: past the address's 8
                data = f"chunk {index}".encode()
                r = client.put(
                    f"/signer/v1/recording/0/{index}",
                    headers={**h, "X-Content-SHA256": hashlib.sha256(data).hexdigest()},
                    content=data,
                )
                codes.append(r.status_code)
        assert codes == [201] * 12, codes
        # other routes still count the address: 2 left of its 8
        assert [client.get("/verify").status_code for _ in range(3)] == [200, 200, 429]
    c.close()
