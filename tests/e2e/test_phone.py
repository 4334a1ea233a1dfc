"""The signer page on a phone (412×915 CSS px, device pixel ratio 2.625, touch) in real Chromium, zh and
en, against the running service and its real engines (as tests/e2e/test_browser.py, whose service and
camera/microphone files it shares).

At every screen state: no raw message key, "null"/"undefined" or untranslated code is rendered and the
page's catalogue lacked nothing (``window.__dualsignMissing``); a zh session shows no English words.
The current cue (playing, listening, verdict, a step's outcome) is inside the viewport, also for a long
question in Large text. Screenshots go to test-artifacts/e2e/phone-*.png.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e import media
from tests.e2e.test_browser import (
    CHROMIUM,
    SHOTS,
    TEMPLATE,
    TEMPLATE_ZH,
    Service,
    browser_args,
    consent,
    playwright_api,
    service,  # noqa: F401 (a fixture: the running service)
)
from tests.integration.helpers import PDF, session_form
from tests.vision_media import FACES

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is installed by scripts/bootstrap.sh dev"
    ),
]

LONG_QUESTION = (
    "Before you answer, please listen to the whole statement. This loan has a variable interest rate, "
    "so your monthly repayment may rise when the reference rate rises; if you repay early a fee of up "
    "to two percent of the outstanding amount applies, and missed payments are reported to the credit "
    "bureau. Do you understand these risks and the costs of this loan?"
)

# raw keys, codes and nulls that must never reach the signer's screen
# when the verdict appeared and when the next screen replaced it, by the page's clock (ms)
WATCH_VERDICT = """() => {
  new MutationObserver((_, observer) => {
    const now = performance.now();
    if (!window.verdictShownAt && document.querySelector('#verdict span')) window.verdictShownAt = now;
    if (window.verdictShownAt && !document.querySelector('#verdict span')) {
      window.verdictLeftAt = now;
      observer.disconnect();
    }
  }).observe(document.body, {childList: true, subtree: true});
}"""
RAW = re.compile(
    r"\b(null|undefined|NaN|NO_SPEECH|ENGINE_FAILED|UNCLEAR|REJECT|ACCEPT)\b|\b[a-z]+_[a-z_]+\b|\{\w+\}"
)


@pytest.fixture(scope="module")
def templates(service: Service) -> dict[str, str]:  # noqa: F811 (the imported fixture)
    en = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    en["key"] = "phone-long-en"
    en["questions"] = [{**en["questions"][0], "prompt": LONG_QUESTION}]
    zh = yaml.safe_load(TEMPLATE_ZH.read_text(encoding="utf-8"))
    zh["key"] = "phone-zh"
    zh["identity"] = {**zh["identity"], "max_attempts": 2}
    zh["questions"] = [{**zh["questions"][0], "max_attempts": 2}]
    for doc in (en, zh):
        r = httpx.post(
            f"{service.url}/v1/templates",
            headers={**service.headers, "Content-Type": "application/yaml"},
            content=yaml.safe_dump(doc, allow_unicode=True),
            timeout=30,
        )
        assert r.status_code == 201, r.text
    return {"en": "phone-long-en", "zh": "phone-zh"}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("phone-media")
    return {
        "signer": media.camera(tmp / "signer.y4m", [("grace_hopper", 30.0)]),
        "yes": media.microphone(tmp / "yes.wav", [(2.0 + 3.0 * k, "Yes.") for k in range(40)], 122.0),
        "silence": media.microphone(tmp / "silence.wav", [], 30.0),
    }


def create(
    svc: Service, template: str, *, photo: str = "grace_hopper.jpg", name: str = "Grace Hopper"
) -> Any:
    data = session_form(template=template, callback_url=svc.hook_url)
    data["signer_name"] = name
    files = [
        ("identity_photo", ("id.jpg", (FACES / photo).read_bytes(), "image/jpeg")),
        ("documents", ("policy.pdf", PDF, "application/pdf")),
    ]
    r = httpx.post(f"{svc.url}/v1/sessions", headers=svc.headers, data=data, files=files, timeout=60)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def phone() -> Iterator[Any]:
    pw = playwright_api.sync_playwright().start()
    browsers: list[Any] = []

    def open_page(video: Path, audio: Path, url: str, *, large_text: bool = False) -> Any:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=browser_args(video, audio))
        browsers.append(browser)
        context = browser.new_context(
            viewport={"width": 412, "height": 915},
            device_scale_factor=2.625,
            is_mobile=True,
            has_touch=True,
            permissions=["camera", "microphone"],
        )
        if large_text:
            context.add_init_script("localStorage.setItem('ds-elderly', '1')")
        page = context.new_page()
        page.on("console", lambda m: print("[page]", m.type, m.text))
        page.goto(url)
        return page

    yield open_page
    for b in browsers:
        b.close()
    pw.stop()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone-{name}.png"))  # what the phone shows: the viewport


def in_viewport(page: Any, selector: str) -> bool:
    box: dict[str, float] = page.evaluate(
        """(s) => { const n = document.querySelector(s); if (!n || n.hidden) return null;
                    const r = n.getBoundingClientRect();
                    return {top: r.top, bottom: r.bottom, h: window.innerHeight}; }""",
        selector,
    )
    assert box is not None, f"{selector} is not on the page"
    return box["top"] >= 0 and box["bottom"] <= box["h"] + 0.5


def assert_clean(page: Any, lang: str, where: str, ignore: Sequence[str] = ()) -> None:
    """No raw key, code or null rendered; the catalogue lacked nothing; zh shows no English words.
    ``ignore``: texts the integrator gave that may be in Latin letters (a document's file name)."""
    assert page.evaluate("window.__dualsignMissing") == [], where
    text: str = page.evaluate(
        """() => { const c = document.body.cloneNode(true);
                   c.querySelectorAll('code, script, #lang, [hidden]').forEach((n) => n.remove());
                   return c.innerText; }"""
    )
    for given in ignore:
        text = text.replace(given, "")
    raw = RAW.search(text)
    assert raw is None, f"{where}: raw {raw.group(0)!r} in {text!r}"
    if lang == "zh":
        # the signer's own name and the document's English text aside, nothing in Latin letters
        words = set(re.findall(r"[A-Za-z]{2,}", text.replace("Grace Hopper", ""))) - {"EN"}
        assert not words, f"{where}: English in a zh session: {sorted(words)} in {text!r}"


def wait_screen(page: Any, selector: str, timeout_s: float) -> None:
    page.wait_for_selector(selector, timeout=timeout_s * 1000)


def webhooks(svc: Service, sid: str) -> list[dict[str, Any]]:
    return [b for _, body in svc.received if (b := json.loads(body))["session_id"] == sid]


def test_an_english_long_question_in_large_text_keeps_its_cue_on_screen(
    service: Service,  # noqa: F811
    templates: dict[str, str],
    files: dict[str, Path],
    phone: Any,
) -> None:
    created = create(service, templates["en"])
    page = phone(files["signer"], files["yes"], created["signer_url"], large_text=True)
    wait_screen(page, "#agree", 20)
    assert page.evaluate("document.documentElement.classList.contains('elderly')")
    assert_clean(page, "en", "consent")
    # refusing asks once more and can be taken back, the ticks kept
    page.check("#c-rec")
    page.click("#refuse")
    assert page.is_visible("#refuse-confirm") and not page.is_visible("#agree")
    assert in_viewport(page, "#refuse-confirm-yes")
    shot(page, "en-refuse-confirm")
    assert_clean(page, "en", "refuse confirmation")
    page.click("#refuse-back")
    assert page.is_checked("#c-rec") and page.is_visible("#agree")
    assert service.status(created["id"]) == "consent"
    consent(page)
    wait_screen(page, "#step-liveness", 60)
    page.wait_for_selector("#countdown:not(:empty)", timeout=30_000)
    assert re.fullmatch(r"\d+ s left", page.inner_text("#countdown")), page.inner_text("#countdown")
    assert in_viewport(page, "#challenge")
    shot(page, "en-liveness-countdown")
    assert_clean(page, "en", "liveness")
    wait_screen(page, "#subtitle", 60)
    assert in_viewport(page, "#cue") and in_viewport(page, "#repeat")  # while the question is read
    shot(page, "en-question-playing")
    assert_clean(page, "en", "question playing")
    wait_screen(page, ".listening", 120)
    assert in_viewport(page, "#listen-state")
    shot(page, "en-question-listening")
    page.evaluate(WATCH_VERDICT)  # the page's own clock: the test's polling adds its delays to neither end
    page.wait_for_selector("#verdict span", timeout=90_000)
    assert in_viewport(page, "#verdict")
    shot(page, "en-question-verdict")
    assert_clean(page, "en", "verdict")
    page.wait_for_selector("#read-done", timeout=60_000)
    on_screen = page.evaluate("() => window.verdictLeftAt - window.verdictShownAt")
    assert on_screen >= 2400, f"the verdict left the screen after {on_screen:.0f} ms"
    # documents: rendered for the phone's pixels, zoomable, larger in Large text
    natural = "(w) => { const i = document.querySelector('img.page'); return i && i.naturalWidth > w; }"
    page.wait_for_function(natural, arg=0)  # a function, not an expression: the page's CSP has no eval
    dims = page.evaluate(
        "() => { const i = document.querySelector('img.page');"
        " return [i.naturalWidth, i.clientWidth, devicePixelRatio]; }"
    )
    assert dims[0] >= dims[1] * dims[2] * 0.95, dims
    assert page.inner_text("#zoom-level") == "150%"
    page.click("#zoom-in")
    page.wait_for_function(natural, arg=dims[0], timeout=20_000)
    shot(page, "en-documents-zoomed")
    assert_clean(page, "en", "documents")
    page.click("#lang")  # the same screen in Chinese: the page's own texts switch, nothing raw
    page.wait_for_selector("#read-done:has-text('我已阅读全部内容')")
    assert page.inner_text("#zoom-in") == "放大"
    assert_clean(page, "en", "documents in zh")  # (the template's own English texts stay as they are)
    page.click("#lang")
    page.wait_for_selector("#read-done:has-text('I have read everything')")
    page.wait_for_function(natural, arg=0)  # the screen was drawn again: its pages loaded again
    for end in page.query_selector_all(".page-end"):
        end.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    page.wait_for_timeout(2200)
    page.click("#read-done")
    wait_screen(page, "#pad", 20)
    assert_clean(page, "en", "signature")
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 100)
    page.mouse.down()
    for x, y in [(80, 40), (130, 140), (180, 50), (230, 120), (300, 80)]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
    page.mouse.up()
    page.click("#sign")
    wait_screen(page, "#ended[data-state=signed]", 60)
    shot(page, "en-done")
    assert_clean(page, "en", "done")
    assert page.inner_text("#status") == ""
    # the link opened again: the completion screen, not an error
    again = phone(files["signer"], files["yes"], created["signer_url"])
    wait_screen(again, "#ended", 30)
    assert again.inner_text("#ended h2") == "All done"
    assert again.inner_text("header strong") == "Recorded signing"
    assert "sealed" not in again.inner_text("body").lower()
    shot(again, "en-reopened")


def test_a_mandarin_wrong_person_is_told_so_and_the_integrator_learns_why(
    service: Service,  # noqa: F811
    templates: dict[str, str],
    files: dict[str, Path],
    phone: Any,
) -> None:
    # Grace Hopper on camera, Obama's photo on the ID: a clear face of someone else, not poor light
    created = create(service, templates["zh"], photo="obama.jpg", name="张三")
    page = phone(files["signer"], files["silence"], created["signer_url"])
    wait_screen(page, "#agree", 20)
    assert page.inner_text("header strong") == "双录签署"
    assert_clean(page, "zh", "consent")
    consent(page)
    wait_screen(page, "#step-identity", 30)
    assert_clean(page, "zh", "identity")
    page.wait_for_selector("#step-note[data-kind=not_the_signer]", timeout=60_000)
    note = page.inner_text("#step-note")
    assert "证件照片不一致" in note and "光线" not in note, note
    assert in_viewport(page, "#step-note")
    # the page checks again at once, and says so (not "checking" as if for the first time)
    assert page.inner_text("#identity-wait") == "正在重新核验，请保持不动…"
    shot(page, "zh-identity-not-the-signer")
    assert_clean(page, "zh", "identity failed once")
    wait_screen(page, "#ended[data-state=failed]", 90)
    assert page.inner_text("#ended-reason") == "未能确认是签署人本人。"
    assert page.inner_text("#status") == ""  # no stale line under the final screen
    shot(page, "zh-failed-identity")
    assert_clean(page, "zh", "failed")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        h["event"] == "session.failed" for h in webhooks(service, created["id"])
    ):
        time.sleep(0.5)
    failed = [h for h in webhooks(service, created["id"]) if h["event"] == "session.failed"]
    assert [h["reason_code"] for h in failed] == ["identity"]
    again = phone(files["signer"], files["silence"], created["signer_url"])
    wait_screen(again, "#ended", 30)
    assert again.inner_text("#ended h2") == "本次签署未完成"
    shot(again, "zh-reopened")
    assert_clean(again, "zh", "reopened")


def test_a_mandarin_silent_answer_and_a_refusal_are_shown_in_mandarin(
    service: Service,  # noqa: F811
    templates: dict[str, str],
    files: dict[str, Path],
    phone: Any,
) -> None:
    created = create(service, templates["zh"], name="张三")
    page = phone(files["signer"], files["silence"], created["signer_url"])
    consent(page)
    wait_screen(page, "#subtitle", 90)
    assert in_viewport(page, "#cue")
    assert_clean(page, "zh", "question")
    page.wait_for_selector("#verdict[data-verdict=NO_SPEECH] span", timeout=90_000)
    assert page.inner_text("#verdict") == "没有听到您的回答"  # was the raw "NO_SPEECHnull"
    assert in_viewport(page, "#verdict")
    shot(page, "zh-no-speech")
    assert_clean(page, "zh", "no speech verdict")
    wait_screen(page, "#ended[data-state=failed]", 120)
    assert page.inner_text("#ended-reason") == "有问题没有得到确认的回答。"
    shot(page, "zh-failed-question")
    assert_clean(page, "zh", "failed question")
    # the toggle: the same final screen in English, then back
    page.click("#lang")
    assert page.inner_text("#ended h2") == "The signing was not completed"
    assert_clean(page, "en", "failed question, toggled to en")
    page.click("#lang")
    assert page.inner_text("#ended h2") == "本次签署未完成"
    # a refusal, confirmed
    refused = create(service, templates["zh"], name="张三")
    page = phone(files["signer"], files["silence"], refused["signer_url"])
    wait_screen(page, "#refuse", 20)
    page.click("#refuse")
    assert_clean(page, "zh", "refuse confirmation")
    shot(page, "zh-refuse-confirm")
    page.click("#refuse-confirm-yes")
    wait_screen(page, "#ended[data-state=refused]", 20)
    assert_clean(page, "zh", "refused")
    shot(page, "zh-refused")
