"""A bidding session in real headless Chromium that ends with both seals in the signed PDF: the signer's
handwriting and name seal, and the bidder's round unit seal signed with the organisation's certificate.
The page says whose seal the signer applies and as what; the reviewer's console shows it too.

Screenshots go to test-artifacts/e2e/ (seal-*.png).
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from dualsign.application.review.console import add_reviewer
from dualsign_verify.bundle import read_bundle
from dualsign_verify.trust import parse_policy
from dualsign_verify.verifier import Status, verify
from tests.e2e import media
from tests.e2e import test_browser as browser
from tests.e2e.test_browser import Service, consent, dump_on_failure, shot, wait_sealed
from tests.integration.helpers import session_form
from tests.integration.test_organisation_seal import BIDDER, CODE, bid_letter
from tests.vision_media import FACES

TEMPLATE = Path(__file__).parent / "e2e_seal_template.yaml"
pytestmark = browser.pytestmark
service = browser.service  # the running service (module-scoped, shared with the other browser tests)
launch = browser.launch  # a Chromium page with fake camera and microphone
SEALED: dict[str, str] = {}  # the sealed bid, for the reviewer's test


@pytest.fixture(scope="module")
def devices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("seal-media")
    return {
        "camera": media.camera(tmp / "signer.y4m", [("grace_hopper", 30.0)]),
        "yes": media.microphone(tmp / "yes.wav", [(2.0 + 3.0 * k, "Yes.") for k in range(20)], 62.0),
    }


def _red(page: np.ndarray[Any, Any], box: list[float]) -> int:
    x1, y1, x2, y2 = (int(v) for v in box)
    crop = page[page.shape[0] - y2 : page.shape[0] - y1, x1:x2]
    return int(((crop[..., 0] > 150) & (crop[..., 1] < 90) & (crop[..., 2] < 90)).sum())


def test_a_bid_is_signed_by_the_agent_and_sealed_with_the_bidders_seal(
    service: Service, devices: dict[str, Path], launch: Any, tmp_path: Path
) -> None:
    url, headers = service.url, service.headers
    r = httpx.post(
        f"{url}/v1/templates",
        headers={**headers, "Content-Type": "application/yaml"},
        content=TEMPLATE.read_bytes(),
    )
    assert r.status_code == 201, r.text
    org = httpx.post(f"{url}/v1/organisations", headers=headers, json={"name": BIDDER, "credit_code": CODE})
    assert org.status_code in (201, 409), org.text
    org_id = org.json()["id"] if org.status_code == 201 else org.json()["organisation_id"]
    files = [
        ("identity_photo", ("id.jpg", (FACES / "grace_hopper.jpg").read_bytes(), "image/jpeg")),
        ("documents", ("bid.pdf", bid_letter(), "application/pdf")),
    ]
    form = session_form(
        template="browser-seal-en",
        signer_name="Grace Hopper",
        organisation=org_id,
        seal_role="authorised_agent",
        authorisation_ref="SQWT-2026-0042",
    )
    created = httpx.post(f"{url}/v1/sessions", headers=headers, data=form, files=files, timeout=30)
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    signer_url = created.json()["signer_url"]
    page = launch(devices["camera"], devices["yes"], signer_url)
    channels: list[Any] = []  # the page's live channel, passed through to the service

    def through(channel: Any) -> None:
        channel.connect_to_server()
        channels.append(channel)

    page.route_web_socket("**/signer/v1/live*", through)
    try:
        consent(page)
        # the live channel's first state can arrive after the consent's answer (a busy service): the
        # same question again, while it is read, must not keep the page from listening for the answer
        page.wait_for_selector("#subtitle", timeout=30_000)
        token = {"X-Signer-Token": signer_url.rsplit("/", 1)[1]}
        again = httpx.get(f"{url}/signer/v1/session", headers=token).json()
        assert again["state"] == "questions" and channels, again
        channels[-1].send(json.dumps({"type": "state", **again}))
        page.wait_for_selector(".verdict-ACCEPT", timeout=90_000)
        page.wait_for_selector("#read-done", timeout=90_000)
        page.wait_for_timeout(500)
        for end in page.query_selector_all(".page-end"):
            end.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
        page.wait_for_timeout(2200)  # the template's minimum reading time
        page.click("#read-done")
        # the signing screen names the bidder, its credit code and the signer's capacity
        said = page.wait_for_selector("#seal-as", timeout=20_000).inner_text()
        assert BIDDER in said and CODE in said and "authorised agent" in said, said
        box = page.locator("#pad").bounding_box()
        page.mouse.move(box["x"] + 30, box["y"] + 100)
        page.mouse.down()
        for x, y in [(80, 40), (130, 140), (180, 50), (230, 120), (300, 80)]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
        page.mouse.up()
        shot(page, "seal-signature")
        page.click("#sign")
        page.wait_for_selector("#evidence-id", timeout=60_000)
        wait_sealed(service, sid, timeout_s=120)
        SEALED["sid"] = sid
    except Exception:
        dump_on_failure(service, sid, page, "seal")
        raise

    events = httpx.get(f"{url}/v1/sessions/{sid}/events", headers=headers, timeout=30).json()
    signed = [e["payload"] for e in events if e["kind"] == "document_signed"]
    assert [s["role"] for s in signed] == ["signer", "organisation"]
    assert f"O={BIDDER}" in signed[1]["certificate_subject"]
    bundle = httpx.get(f"{url}/v1/sessions/{sid}/bundle", headers=headers, timeout=60).content
    trust = parse_policy(httpx.get(f"{url}/verify/trust", timeout=60).content)
    with ThreadPoolExecutor(1) as pool:  # off Playwright's event loop (pyHanko runs its own)
        report = pool.submit(lambda: verify(read_bundle(bundle), trust)).result()
    assert report.verdict is Status.PASSED, [s for s in report.to_dict()["steps"] if s["status"] != "PASSED"]
    assert f"by Grace Hopper, {BIDDER} (NTRCN-{CODE})" in report.steps[8].reason
    entry = next(a for a in read_bundle(bundle).manifest["artifacts"] if a["role"] == "signed_document")
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        (tmp_path / "signed.pdf").write_bytes(z.read(f"artifacts/{entry['sha256']}"))
    subprocess.run(
        ["pdftoppm", "-r", "72", "-png", "-singlefile", "signed.pdf", "page"], cwd=tmp_path, check=True
    )
    rendered = np.asarray(Image.open(tmp_path / "page.png").convert("RGB")).astype(int)
    assert _red(rendered, signed[1]["box"]) > 1500, "the bidder's round seal is not at 盖单位章"
    assert _red(rendered, signed[0]["box"]) > 50, "the agent's name seal is not at the signature line"


def test_the_reviewer_sees_whose_seal_was_applied_and_by_what_authority(
    service: Service, devices: dict[str, Path], launch: Any
) -> None:
    sid = SEALED.get("sid")
    if sid is None:
        pytest.skip("needs the sealed bid of the test before")
    c = service.c
    add_reviewer(c.new_uow(), c.clock, c.ids.new_id, c.passwords, tenant_id=service.tenant_id,
                 username="seal-alice", password="correct horse battery", role="reviewer")  # fmt: skip
    page = launch(devices["camera"], devices["yes"], f"{service.url}/console")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.fill("#username", "seal-alice")
    page.fill("#password", "correct horse battery")
    page.click("#sign-in")
    page.wait_for_selector(f"tr[data-id={sid}]")
    page.click(f"tr[data-id={sid}]")
    line = page.wait_for_selector("#organisation").inner_text()
    assert BIDDER in line and CODE in line and "授权代理人" in line and "SQWT-2026-0042" in line, line
    page.wait_for_function("() => document.querySelector('#organisation img').naturalWidth > 0")
    shot(page, "seal-console")
