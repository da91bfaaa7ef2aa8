"""The Derm-Assist web app in Chromium: upload a photo, read the outcome and the disclaimer, upload a bad file,
read one line, and find the row in the review log. Driven by Playwright against the local mock.

Skips with one line where Chromium, Playwright or Gradio is missing; `make test` and CI install all three.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import shutil
import socket
import time

import pytest

from helpers import endpoint, state, triage
from helpers.core.config import SKIN_PROXIES_DIR
from helpers.models import SKIN_VIT_ID

CHROMIUM = os.environ.get("DERM_ASSIST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 60_000

_missing = [what for what, ok in (
    ("Chromium (apt-get install -y chromium)", os.path.exists(CHROMIUM)),
    ("Playwright (pip install -e '.[browser]')", importlib.util.find_spec("playwright") is not None),
    ("Gradio (pip install -e '.[app]')", importlib.util.find_spec("gradio") is not None),
) if not ok]
pytestmark = [pytest.mark.browser, pytest.mark.skipif(bool(_missing), reason="needs " + ", ".join(_missing))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app(mock_aws):
    """The app as `derm-assist app` serves it, over a skin-ViT endpoint on the mock."""
    from helpers import webapp

    info = endpoint.deploy(SKIN_VIT_ID, progress=False)
    state.remember_endpoint(info.name, SKIN_VIT_ID)
    port = free_port()
    started = time.perf_counter()
    blocks = webapp.serve(port=port, block=False, announce=lambda line: None)
    print(f"\napp start (import Gradio, build the page, launch): {time.perf_counter() - started:.2f} s")
    yield f"http://127.0.0.1:{port}/"
    blocks.close()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def upload_and_assess(page, path) -> float:
    """Upload ``path``, wait until Gradio holds it, click Assess, wait for the answer; seconds from upload to answer."""
    status = page.locator("#status")
    before = status.inner_text()
    started = time.perf_counter()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.locator("#upload").get_by_text(path.name).first.wait_for(timeout=TIMEOUT_MS)
    page.locator("#assess").click()
    # The status holds Gradio's timer while the click is pending, then the handler's one line.
    page.wait_for_function("([el, before]) => /^(Recorded|Not recorded|⚠)/.test(el.innerText.trim()) && el.innerText !== before",
                           arg=[status.element_handle(), before], timeout=TIMEOUT_MS)
    return time.perf_counter() - started


def log_rows() -> list[dict]:
    path = triage.ReviewLog().path
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))) if path.exists() else []


def test_upload_gives_outcome_and_disclaimer_a_bad_file_one_line_and_a_log_row(app, page, tmp_path):
    page.goto(app, timeout=TIMEOUT_MS)
    page.locator("#assess").wait_for(timeout=TIMEOUT_MS)
    assert "MOCK" in page.locator("#banner").inner_text()

    photo = tmp_path / "upload-me.png"
    shutil.copy(sorted(SKIN_PROXIES_DIR.glob("*.png"))[0], photo)
    page.locator("#note textarea").fill("looked at in the browser")
    seconds = upload_and_assess(page, photo)
    print(f"upload to answer against the mock: {seconds:.2f} s")
    result = page.locator("#result").inner_text()
    assert any(outcome in result for outcome in triage.OUTCOMES), result
    assert triage.DISCLAIMER in " ".join(result.split())
    assert "Simulated model" in result
    assert page.locator("#chart").get_by_text(triage.LABELS[0]).count() + page.locator("#chart").get_by_text("melanoma").count() >= 1
    assert page.locator("#status").inner_text().startswith("Recorded for review")
    [row] = log_rows()
    assert row["reviewer_note"] == "looked at in the browser" and len(row["image_sha256"]) == 64
    assert row["triage_outcome"] in result and "upload-me" not in triage.ReviewLog().path.read_text(encoding="utf-8")
    assert page.locator("#note textarea").input_value() == "looked at in the browser"  # what the reviewer typed stays

    bad = tmp_path / "broken-photo.jpg"
    bad.write_bytes(b"this is not a JPEG")
    page.reload(timeout=TIMEOUT_MS)  # a fresh form: the file box holds one photo at a time
    upload_and_assess(page, bad)
    message = page.locator("#status").inner_text().strip()
    assert message.startswith("⚠") and "broken-photo.jpg" in message and len(message.splitlines()) == 1, message
    assert "Traceback" not in page.content()
    assert len(log_rows()) == 1  # the bad file added nothing
