"""Whole recorded signing sessions in real headless Chromium (Debian's /usr/bin/chromium via Playwright)
against the running service with its real engines: dlib faces, Silero VAD, Whisper tiny.en, espeak-ng.

The camera and microphone are Chromium's fake devices fed from files made here (tests/e2e/media.py).
Screenshots of the key screens are saved under test-artifacts/e2e/.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from dualsign.api.app import create_app
from dualsign.application.review.console import add_reviewer
from dualsign.bootstrap.container import Container
from dualsign_verify.bundle import read_bundle
from dualsign_verify.trust import parse_policy
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.e2e import media
from tests.e2e.trace_checks import check_trace, trace_entries
from tests.integration.helpers import PDF, session_form
from tests.vision_media import FACES

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
TEMPLATE = Path(__file__).parent / "e2e_template.yaml"
TEMPLATE_ZH = Path(__file__).parent / "e2e_template_zh.yaml"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is installed by scripts/bootstrap.sh dev"
    ),
]


class WallClock(FixedClock):
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Service:
    url: str
    c: Container
    headers: dict[str, str]
    received: list[tuple[dict[str, str], bytes]]  # webhook deliveries to the local receiver
    tenant_id: str = ""
    hook_url: str = ""

    def create(
        self, photo: str = "grace_hopper.jpg", template: str = "browser-check-en", **form: str
    ) -> dict[str, Any]:
        data = session_form(template=template, signer_name="Grace Hopper", **form)
        files = [
            ("identity_photo", ("id.jpg", (FACES / photo).read_bytes(), "image/jpeg")),
            ("documents", ("policy.pdf", PDF, "application/pdf")),
        ]
        r = httpx.post(f"{self.url}/v1/sessions", headers=self.headers, data=data, files=files, timeout=30)
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def events(self, sid: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/v1/sessions/{sid}/events", headers=self.headers, timeout=30)
        out: list[dict[str, Any]] = r.json()
        return out

    def status(self, sid: str) -> str:
        return str(httpx.get(f"{self.url}/v1/sessions/{sid}", headers=self.headers).json()["status"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    from dualsign.application.integrator.tenants import create_tenant

    tmp = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    c = make_container(
        tmp,
        f"sqlite:///{tmp / 'db.sqlite'}",
        WallClock(),
        DUALSIGN_PUBLIC_URL=url,
        DUALSIGN_RECORDING_GRACE_SECONDS="30",
        DUALSIGN_WEBHOOK_ALLOW_NETWORKS="127.0.0.1/32",  # the local webhook receiver
    )
    c.start_worker(poll_seconds=0.5)
    server = uvicorn.Server(uvicorn.Config(create_app(c), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    tenant, key = create_tenant(c.new_uow(), c.clock, c.ids, "Example Life Insurance")
    headers = {"Authorization": f"Bearer {key.secret}"}
    for template in (TEMPLATE, TEMPLATE_ZH):
        r = httpx.post(
            f"{url}/v1/templates",
            headers={**headers, "Content-Type": "application/yaml"},
            content=template.read_bytes(),
        )
        assert r.status_code == 201, r.text
    received: list[tuple[dict[str, str], bytes]] = []

    class Hooks(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    hooks = HTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{hooks.server_address[1]}/hooks"
    yield Service(url, c, headers, received, tenant.id, hook_url)
    hooks.shutdown()
    hooks.server_close()
    server.should_exit = True
    thread.join(timeout=10)
    c.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("media")
    yes = [(2.0 + 3.0 * k, "Yes.") for k in range(30)]
    return {
        "signer": media.camera(tmp / "signer.y4m", [("grace_hopper", 30.0)]),
        "intruder": media.camera(tmp / "intruder.y4m", [("grace_hopper", 24.0), ("obama", 16.0)]),
        "yes": media.microphone(tmp / "yes.wav", yes, 92.0),
        # "No." until 20 s, then "Yes.": the first answer window (about 14 s after consent: identity,
        # the 8 s challenge, the prompt) hears a no; the re-ask (after the reminder) hears a yes
        "no-then-yes": media.microphone(
            tmp / "no-then-yes.wav",
            [(2.0 + 3.0 * k, "No, I don't.") for k in range(7)]
            + [(23.0 + 3.0 * k, "Yes.") for k in range(23)],
            92.0,
        ),
        # the Mandarin signer: 不知道 (a refusal) for the first answer window, then 我同意
        "zh-no-then-yes": media.microphone(
            tmp / "zh-no-then-yes.wav",
            [(2.0 + 3.0 * k, "不知道") for k in range(7)] + [(23.0 + 3.0 * k, "我同意") for k in range(23)],
            92.0,
            voice="cmn-latn-pinyin",
        ),
    }


def browser_args(video: Path, audio: Path) -> list[str]:
    return [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        f"--use-file-for-fake-audio-capture={audio}",
        "--autoplay-policy=no-user-gesture-required",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ]


@pytest.fixture
def launch() -> Iterator[Any]:
    pw = playwright_api.sync_playwright().start()
    browsers: list[Any] = []

    def open_page(video: Path, audio: Path, url: str, *, hold_end: bool = False) -> Any:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=browser_args(video, audio))
        browsers.append(browser)
        context = browser.new_context(
            viewport={"width": 412, "height": 915}, permissions=["camera", "microphone"]
        )
        page = context.new_page()
        page.on("console", lambda m: print("[page]", m.type, m.text))
        if hold_end:
            page.route_web_socket("**/signer/v1/live*", slow_end_of_live_channel)
        page.goto(url)
        return page

    yield open_page
    for b in browsers:
        b.close()
    pw.stop()


def slow_end_of_live_channel(route: Any) -> None:
    """Pass the live channel through, but hold the page's closing ``end`` (sent on by
    ``send_held_ends``, as over a slow uplink): the page must not close the recording (which seals the
    session) before the channel has ended."""
    server = route.connect_to_server()

    def to_server(message: str | bytes) -> None:
        if isinstance(message, str) and json.loads(message).get("type") == "end":
            HELD_ENDS.append((server, message))
            return
        server.send(message)

    route.on_message(to_server)
    server.on_message(route.send)


HELD_ENDS: list[tuple[Any, str]] = []  # held ends, sent on by send_held_ends


def send_held_ends(page: Any, hold_s: float = 1.5, timeout_s: float = 30) -> None:
    """Drive the page until it has sent ``end``, hold it ``hold_s`` more, then send it on."""
    deadline = time.monotonic() + timeout_s
    while not HELD_ENDS and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.wait_for_timeout(hold_s * 1000)
    while HELD_ENDS:
        server, message = HELD_ENDS.pop()
        server.send(message)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def consent(page: Any) -> None:
    page.wait_for_selector("#agree")
    page.check("#c-rec")
    page.check("#c-bio")
    page.click("#agree")


def finish_documents_and_sign(page: Any, name: str) -> None:
    page.wait_for_selector("#read-done", timeout=90_000)
    page.wait_for_timeout(500)
    for end in page.query_selector_all(".page-end"):  # each page read to its bottom edge
        end.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    shot(page, f"{name}-documents")
    page.wait_for_timeout(2200)  # the template's minimum reading time
    page.click("#read-done")
    page.wait_for_selector("#pad", timeout=20_000)
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 100)
    page.mouse.down()
    for x, y in [(80, 40), (130, 140), (180, 50), (230, 120), (300, 80)]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
    page.mouse.up()
    shot(page, f"{name}-signature")
    page.click("#sign")


def report_text(service: Service, sid: str, tmp_path: Path) -> str:
    """The text (pdftotext) of the court report in the session's sealed bundle."""
    bundle = httpx.get(f"{service.url}/v1/sessions/{sid}/bundle", headers=service.headers, timeout=60).content
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        (tmp_path / "report.pdf").write_bytes(z.read("report.pdf"))
    return subprocess.run(
        ["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout


def wait_sealed(service: Service, sid: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if service.status(sid) == "sealed":
            return
        time.sleep(0.5)
    raise AssertionError(f"session {sid} not sealed: {service.status(sid)}")


def dump_on_failure(service: Service, sid: str, page: Any, name: str) -> None:
    """What the session recorded, printed (and the page saved) when a browser test fails."""
    for e in service.events(sid):
        p = e["payload"]
        if e["kind"] != "artifact_stored":
            print(e["time"], e["kind"], json.dumps(p, ensure_ascii=False)[:300])
    shot(page, f"{name}-failure")


COMPLETED: dict[str, str] = {}  # the complete session, for the reviewer's test


def test_a_complete_english_session_is_recorded_signed_sealed_and_verifies(
    service: Service, files: dict[str, Path], launch: Any, tmp_path: Path
) -> None:
    created = service.create(callback_url=service.hook_url)
    sid = created["id"]
    page = launch(files["signer"], files["yes"], created["signer_url"], hold_end=True)
    try:
        complete_session(service, page, sid, tmp_path)
        COMPLETED["sid"] = sid
    except Exception:
        dump_on_failure(service, sid, page, "complete")
        raise


def complete_session(service: Service, page: Any, sid: str, tmp_path: Path) -> None:
    page.wait_for_selector("#agree")
    shot(page, "complete-consent")
    consent(page)
    page.wait_for_selector("#step-identity", timeout=20_000)
    shot(page, "complete-identity")
    page.wait_for_selector("#step-liveness", timeout=30_000)
    page.wait_for_selector("#challenge:not(:empty)", timeout=20_000)
    shot(page, "complete-liveness")
    page.wait_for_selector("#subtitle", timeout=40_000)
    page.wait_for_selector(".listening", timeout=30_000)
    shot(page, "complete-question-listening")
    page.wait_for_selector(".verdict-ACCEPT", timeout=60_000)
    shot(page, "complete-question-verdict")
    finish_documents_and_sign(page, "complete")
    page.wait_for_selector("#evidence-id", timeout=60_000)
    assert page.inner_text("#evidence-id") == sid
    send_held_ends(page)
    page.wait_for_selector("#upload:has-text('uploaded')", timeout=60_000)
    shot(page, "complete-done")
    wait_sealed(service, sid)

    events = service.events(sid)
    kinds = [e["kind"] for e in events]
    # the live channel's face-monitoring figures joined the chain before the recording was closed
    assert kinds.index("monitoring_summary") < kinds.index("recording_closed"), kinds
    for kind in (
        "consent_given",
        "identity_verified",
        "liveness_passed",
        "questions_completed",
        "signature_applied",
    ):
        assert kind in kinds, kinds
    answers = [e["payload"] for e in events if e["kind"] == "answer_judged"]
    assert answers[-1]["verdict"] == "ACCEPT" and "yes" in answers[-1]["transcript"].lower()
    closed = next(e["payload"] for e in events if e["kind"] == "recording_closed")
    assert closed["closed_by"] == "signer" and closed["gaps"] == [] and closed["chunks"] >= 5, closed
    (media,) = closed["media"]  # the uploaded webm holds both streams, covering the same time
    assert media["audio_s"] > 10 and abs(media["audio_s"] - media["video_s"]) < 1.0, media
    assert kinds.index("consent_given") < next(
        i
        for i, e in enumerate(events)
        if e["kind"] == "artifact_stored" and e["payload"]["role"] == "recording_chunk"
    )
    qc = next(e["payload"] for e in events if e["kind"] == "qc_evaluated")
    verdicts = {r["rule"]: r["verdict"] for r in qc["rules"]}
    assert verdicts["consent_before_recording"] == "PASS" and verdicts["identity_verified"] == "PASS"
    assert verdicts["liveness_passed"] == "PASS" and verdicts["answers_affirmed"] == "PASS"
    assert verdicts["signed_on_camera"] == "PASS" and verdicts["recording_complete"] == "PASS", qc
    assert verdicts["prompt_played"] == "PASS", qc  # the page reported every prompt played to its end
    # the uploaded recording, re-checked after the session, says what the live channel heard and saw
    analysed = next(e["payload"] for e in events if e["kind"] == "recording_analysed")
    assert [a["recording"] for a in analysed["answers"] if a["live"] == "ACCEPT"] == [
        "ACCEPT" for a in answers if a["verdict"] == "ACCEPT"
    ], json.dumps(analysed["answers"], ensure_ascii=False)  # whole: each window, heard, error
    assert analysed["faces"]["disagreements"] == [] and analysed["errors"] == [], analysed
    assert verdicts["recording_reconciled"] == "PASS", qc
    assert verdicts["operation_trace"] == "PASS", qc
    check_trace(service.c.blobs, events)

    bundle = httpx.get(f"{service.url}/v1/sessions/{sid}/bundle", headers=service.headers, timeout=60).content
    trust_file = httpx.get(f"{service.url}/verify/trust", timeout=60).content
    trust = parse_policy(trust_file)
    with ThreadPoolExecutor(1) as pool:  # off Playwright's event loop (pyHanko runs its own)
        report = pool.submit(lambda: verify(read_bundle(bundle), trust)).result()
    assert report.verdict is Status.PASSED, [s for s in report.to_dict()["steps"] if s["status"] != "PASSED"]
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle)
    cli = Path(sys.executable).parent / "dualsign-verify"
    (tmp_path / "trust.json").write_bytes(trust_file)  # without a trust policy nothing is PASSED (#21)
    out = subprocess.run(
        [str(cli), "--trust", str(tmp_path / "trust.json"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and "PASSED" in out.stdout, out.stdout
    signed = next(a for a in read_bundle(bundle).manifest["artifacts"] if a["role"] == "signed_document")
    with zipfile.ZipFile(path) as z:
        (tmp_path / "signed.pdf").write_bytes(z.read(f"artifacts/{signed['sha256']}"))
    pdfsig = subprocess.run(
        ["pdfsig", str(tmp_path / "signed.pdf")], capture_output=True, text=True, check=False
    )
    assert pdfsig.stdout.count("Signature Validation: Signature is Valid.") == 2, pdfsig.stdout


def test_the_reviewer_finds_the_session_sees_timeline_and_qc_and_approves_it(
    service: Service, files: dict[str, Path], launch: Any
) -> None:
    sid = COMPLETED.get("sid")
    if sid is None:
        pytest.skip("needs the complete session of the test before")
    c = service.c
    add_reviewer(
        c.new_uow(),
        c.clock,
        c.ids.new_id,
        c.passwords,
        tenant_id=service.tenant_id,
        username="qc-alice",
        password="correct horse battery",
        role="reviewer",
    )
    page = launch(files["signer"], files["yes"], f"{service.url}/console")
    page.set_viewport_size({"width": 1280, "height": 900})  # a reviewer's desk, not a phone
    page.fill("#username", "qc-alice")
    page.fill("#password", "correct horse battery")
    page.click("#sign-in")
    page.wait_for_selector(f"tr[data-id={sid}]")
    shot(page, "console-list")
    page.click(f"tr[data-id={sid}]")
    page.wait_for_selector("#timeline li[data-kind=answer_judged]")
    assert page.inner_text("#qc-verdict") == "PASS"
    assert page.locator("#qc tr").count() == 1 + 11  # header and one row per rule
    page.wait_for_selector("#trace-screens tr[data-step=documents]")  # the page's operation trace
    assert page.locator("#trace-pages tr").count() >= 2 and "agree" in page.inner_text("#trace-operations")
    assert page.locator("#presence-chart rect[data-who=signer]").count() >= 1
    assert page.locator("video#video").count() == 1
    assert "Yes." in page.inner_text("#timeline")
    duration = page.inner_text("#video-duration")  # the recorder's clock, not the webm's Infinity
    assert re.search(r"\d+:\d\d$", duration) and not duration.endswith(" 0:00"), duration
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")  # the timeline's end
    page.click("#timeline li[data-kind=signature_applied]")  # seeks the video to the signing
    page.wait_for_timeout(1000)  # the smooth scroll
    box = page.evaluate(
        "() => { const r = document.querySelector('#video').getBoundingClientRect();"
        " return [r.top, r.bottom, innerHeight, document.querySelector('#video').currentTime]; }"
    )
    assert box[0] >= 0 and box[1] <= box[2], f"the video is out of view after a seek: {box}"
    assert box[3] > 0
    shot(page, "console-detail")
    page.fill("#comment", "video and answers checked")
    page.click("#approve")
    page.wait_for_selector("#review-state:has-text('approve')")
    shot(page, "console-approved")

    secret = bytes.fromhex(
        httpx.get(f"{service.url}/v1/webhook-secret", headers=service.headers).json()["secret_hex"]
    )
    deadline = time.monotonic() + 20
    wanted = {"session.completed", "qc.passed", "session.sealed"}
    while time.monotonic() < deadline:
        mine = [(h, json.loads(b), b) for h, b in service.received if json.loads(b)["session_id"] == sid]
        if (
            wanted <= {body["event"] for _, body, _ in mine}
            and sum(b["event"] == "qc.passed" for _, b, _ in mine) >= 2
        ):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"deliveries: {[json.loads(b)['event'] for _, b in service.received]}")
    for head, _body, raw in mine:
        expected = hmac.new(secret, head["x-dualsign-timestamp"].encode() + b"." + raw, hashlib.sha256)
        assert head["x-dualsign-signature"] == "v1=" + expected.hexdigest()
    decided = [
        b for _, b, _ in mine if b["event"] == "qc.passed" and b["payload"].get("decision") == "approve"
    ]
    assert decided and decided[0]["payload"]["by"] == "qc-alice"

    # a second decision only as an override with its reason; both stay on the page and in the chain
    page.fill("#comment", "face covered at the signature")
    page.click("#reject")
    page.wait_for_selector("#review-msg.error")
    assert page.locator("#decisions li").count() == 1
    page.fill("#override-reason", "missed the covered face at the signature")
    page.click("#reject")
    page.wait_for_selector("#review-state:has-text('reject')")
    assert page.locator("#decisions li").count() == 2
    assert "missed the covered face" in page.inner_text("#decisions")
    shot(page, "console-override")
    kinds = [e["payload"].get("decision") for e in service.events(sid) if e["kind"] == "review_decided"]
    assert kinds == ["approve", "reject"]


def test_consent_refused_ends_the_session_with_nothing_recorded(
    service: Service, files: dict[str, Path], launch: Any
) -> None:
    created = service.create()
    page = launch(files["signer"], files["yes"], created["signer_url"])
    page.wait_for_selector("#refuse")
    page.click("#refuse")
    page.click("#refuse-confirm-yes")  # refusing ends the session: the page asks once more
    page.wait_for_selector("#ended[data-state=refused]")
    shot(page, "refused")
    events = service.events(created["id"])
    assert "consent_refused" in [e["kind"] for e in events]
    assert not [
        e for e in events if e["kind"] == "artifact_stored" and e["payload"]["role"] == "recording_chunk"
    ]
    # the trace went before the refusal sealed the session: the consent texts shown, the refusal confirmed
    traced = trace_entries(service.c.blobs, events)
    assert [x["step"] for x in traced if x["op"] == "screen_shown"] == ["consent", "refuse_confirm"], traced
    assert [x["target"] for x in traced if x["op"] == "click"] == ["refuse", "refuse-confirm-yes"]
    texts = {x["target"] for x in traced if x["op"] == "text_shown"}
    assert texts == {"consent-recording", "consent-biometric"}, traced
    # a refused session is sealed at once and keeps its state
    qc = next(e["payload"] for e in service.events(created["id"]) if e["kind"] == "qc_evaluated")
    assert {r["rule"]: r["verdict"] for r in qc["rules"]}["operation_trace"] == "PASS", qc


def test_another_person_on_camera_is_warned_on_the_page_and_recorded(
    service: Service, files: dict[str, Path], launch: Any
) -> None:
    created = service.create()
    page = launch(files["intruder"], files["yes"], created["signer_url"])
    consent(page)
    try:
        page.wait_for_selector("#warning[data-kind=not_the_signer]", state="visible", timeout=60_000)
    except Exception:
        dump_on_failure(service, created["id"], page, "intruder")
        raise
    shot(page, "intruder-warning")
    assert "not the signer" in page.inner_text("#warning")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        warnings = [e["payload"] for e in service.events(created["id"]) if e["kind"] == "monitoring_warning"]
        if any(w.get("warning") == "not_the_signer" or w.get("kind") == "not_the_signer" for w in warnings):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"no not_the_signer warning recorded: {warnings}")


def _through_questions_to_sealed(service: Service, page: Any, sid: str, name: str) -> list[dict[str, Any]]:
    finish_documents_and_sign(page, name)
    page.wait_for_selector("#upload:has-text('uploaded')", timeout=90_000)
    shot(page, f"{name}-done")
    wait_sealed(service, sid)
    return service.events(sid)


def test_a_negative_first_answer_is_reminded_and_asked_again_then_accepted(
    service: Service, files: dict[str, Path], launch: Any
) -> None:
    created = service.create()
    sid = created["id"]
    page = launch(files["signer"], files["no-then-yes"], created["signer_url"])
    try:
        consent(page)
        page.wait_for_selector(".verdict-REJECT, .verdict-UNCLEAR", timeout=60_000)
        shot(page, "reask-rejected")
        page.wait_for_selector(".verdict-ACCEPT", timeout=60_000)
        shot(page, "reask-accepted")
        events = _through_questions_to_sealed(service, page, sid, "reask")
    except Exception:
        dump_on_failure(service, sid, page, "reask")
        raise
    q1 = [
        e["payload"] for e in events if e["kind"] == "answer_judged" and e["payload"]["question_id"] == "q1"
    ]
    first = q1[0]["transcript"].lower()
    # a negative heard whole is REJECT; one whose first word fell before the window opened may be UNCLEAR
    assert q1[0]["verdict"] in ("REJECT", "UNCLEAR") and ("no" in first or "don" in first), q1
    assert q1[-1]["verdict"] == "ACCEPT" and len(q1) >= 2
    asked = [
        e["payload"] for e in events if e["kind"] == "question_asked" and e["payload"]["question_id"] == "q1"
    ]
    assert asked[1]["attempt"] == 2 and asked[1]["reminder"], asked


def test_a_mandarin_session_on_the_default_engines_is_reasked_then_signed_and_sealed(
    service: Service, files: dict[str, Path], launch: Any, tmp_path: Path
) -> None:
    """A zh session heard by the bundled Mandarin recogniser (Whisper base, not a fake): a refusal is
    judged, reminded and asked again, the second answer is accepted, and the session is sealed."""
    created = service.create(template="browser-check-zh")
    sid = created["id"]
    page = launch(files["signer"], files["zh-no-then-yes"], created["signer_url"])
    try:
        consent(page)
        page.wait_for_selector("#subtitle", timeout=60_000)
        assert "您是否同意" in page.inner_text("#subtitle")
        page.wait_for_selector(".verdict-REJECT, .verdict-UNCLEAR", timeout=60_000)
        shot(page, "zh-reask-rejected")
        page.wait_for_selector(".verdict-ACCEPT", timeout=60_000)
        shot(page, "zh-reask-accepted")
        finish_documents_and_sign(page, "zh")
        page.wait_for_selector("#evidence-id", timeout=60_000)
        page.wait_for_selector("#upload:has-text('录像已全部上传')", timeout=90_000)
        shot(page, "zh-done")
        wait_sealed(service, sid)
        events = service.events(sid)
    except Exception:
        dump_on_failure(service, sid, page, "zh")
        raise
    answers = [e["payload"] for e in events if e["kind"] == "answer_judged"]
    q1 = [a for a in answers if a["question_id"] == "q1"]
    assert q1[0]["verdict"] in ("REJECT", "UNCLEAR") and q1[-1]["verdict"] == "ACCEPT", q1
    assert len(q1) >= 2
    for a in answers:
        assert "whisper-base" in a["model"], a  # the bundled Mandarin model, not the English one
    asked = [
        e["payload"] for e in events if e["kind"] == "question_asked" and e["payload"]["question_id"] == "q1"
    ]
    assert asked[1]["attempt"] == 2 and asked[1]["reminder"], asked
    assert [a["verdict"] for a in answers if a["question_id"] == "q2"][-1] == "ACCEPT"
    qc = next(e["payload"] for e in events if e["kind"] == "qc_evaluated")
    verdicts = {r["rule"]: r["verdict"] for r in qc["rules"]}
    assert verdicts["answers_affirmed"] == "PASS", qc
    assert service.status(sid) == "sealed"
    # the court's report of this session is in Chinese, in the signer's time, with the faces side by side
    text = report_text(service, sid, tmp_path)
    flat = text.replace("\n", "")
    for words in (
        "出证报告",
        "身份核验通过",
        "与证件照比对",
        "阈值",
        "活体检测通过",
        "播报问题",
        "方式: 语音",
        "否定",
    ):
        assert words in flat, (words, text)
    assert "+08:00" in text and "录音录像前取得授权同意" in flat
    for code in ("question_asked", "answer_judged", "identity_verified", "liveness_passed", "consent_given"):
        assert code not in flat, (code, text)
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "report.pdf")], capture_output=True, text=True, check=True
    )
    assert len(images.stdout.strip().splitlines()) - 2 >= 3, images.stdout  # ID photo, live face, liveness


def test_a_dropped_network_loses_no_recording_chunk(
    service: Service, files: dict[str, Path], launch: Any
) -> None:
    created = service.create()
    sid = created["id"]
    page = launch(files["signer"], files["yes"], created["signer_url"])
    try:
        consent(page)
        page.wait_for_selector("#step-liveness", timeout=30_000)
        page.context.set_offline(True)  # uploads and the live channel fail for 6 s
        page.wait_for_timeout(6000)
        shot(page, "offline")
        page.context.set_offline(False)
        events = _through_questions_to_sealed(service, page, sid, "offline")
    except Exception:
        dump_on_failure(service, sid, page, "offline")
        raise
    closed = next(e["payload"] for e in events if e["kind"] == "recording_closed")
    assert closed["gaps"] == [] and closed["complete"], closed
    chunks = [
        e["payload"]
        for e in events
        if e["kind"] == "artifact_stored" and e["payload"]["role"] == "recording_chunk"
    ]
    assert sorted(c["index"] for c in chunks) == list(range(closed["chunks"]))
    assert closed["declared_chunks"] == {"0": closed["chunks"]}
    # nor any batch of the operation trace: those cut while offline were sent again once back online
    batches = [
        e for e in events if e["kind"] == "artifact_stored" and e["payload"]["role"] == "operation_trace"
    ]
    assert sorted(e["payload"]["batch"] for e in batches) == list(range(len(batches))) and len(batches) >= 3
    offline_at = next(e for e in events if e["kind"] == "liveness_challenge_issued")["time"]
    assert [e["time"] > offline_at for e in batches].count(True) >= 2
    qc = next(e["payload"] for e in events if e["kind"] == "qc_evaluated")
    assert {r["rule"]: r for r in qc["rules"]}["operation_trace"]["verdict"] == "PASS", qc


def test_an_admin_publishes_a_version_with_a_recorded_prompt_in_the_console(
    service: Service, files: dict[str, Path], launch: Any, tmp_path: Path
) -> None:
    c = service.c
    own = TEMPLATE.read_text(encoding="utf-8").replace("key: browser-check-en", "key: browser-console-check")
    r = httpx.post(
        f"{service.url}/v1/templates",
        headers={**service.headers, "Content-Type": "application/yaml"},
        content=own.encode(),
    )
    assert r.status_code == 201, r.text
    add_reviewer(
        c.new_uow(),
        c.clock,
        c.ids.new_id,
        c.passwords,
        tenant_id=service.tenant_id,
        username="qc-admin",
        password="correct horse battery",
        role="admin",
    )
    recording = tmp_path / "q1.wav"
    subprocess.run(["espeak-ng", "-w", str(recording), "Do you understand the risks?"], check=True)
    page = launch(files["signer"], files["yes"], f"{service.url}/console")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.fill("#username", "qc-admin")
    page.fill("#password", "correct horse battery")
    page.click("#sign-in")
    page.click("#nav-templates")
    page.click("tr[data-key=browser-console-check]")
    page.wait_for_selector("#template-title:has-text('v1')")
    page.set_input_files("input[data-question=q1]", str(recording))
    page.click("tr[data-question=q1] button")
    page.wait_for_selector("#template-title:has-text('v2')", timeout=15_000)
    shot(page, "console-template")
    assert "prompt_audio" in page.input_value("#template-yaml")
    page.fill("#template-yaml", "kind: dualsign.template\nversion: 1\nkey: browser-console-check\n")
    page.click("#publish")
    page.wait_for_selector("#publish-result.error")
    assert "questions" in page.inner_text("#publish-result")  # the missing field is named
    shot(page, "console-template-error")
    detail = httpx.get(
        f"{service.url}/v1/templates/browser-console-check", headers=service.headers, timeout=30
    ).json()
    assert detail["number"] == 2
