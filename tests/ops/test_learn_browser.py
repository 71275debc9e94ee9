"""The learner's page, GET /learn, in headless Chromium against a real server, every other host unreachable.

What a learner does: the page opens on the primer's network with Figure 6's numbers and the derivation;
Step lowers the loss; Train 50 steps draws a 50-point curve as the NDJSON lines arrive; the link restores
the same weights; a bad weight shows the API's own error next to it; a click or Enter on a neuron marks its
step and the steps it depends on. Network events and console errors are recorded (tests/browser.py): no
request leaves the server's host and nothing is logged as an error (except the browser's own line for the
422 the bad weight is meant to get). Screenshots land in test-output/: look at them.
"""

from __future__ import annotations

import base64
import json
import os

import httpx
import pytest

from tests.browser import Page, chromium_page, chromium_path
from tests.ops.test_docs_browser import foreign_requests, js
from tests.server import ROOT, ServerProcess, running_server

OUTPUT = ROOT / "test-output"
READY = (
    "!!(document.querySelector('#derivation li.step') && document.querySelector('#diagram svg')"
    " && !document.querySelector('.toolbar button:disabled'))"
)
W11 = '[data-pointer="/network/layers/0/weights/0/0"]'

pytestmark = [
    pytest.mark.slow,  # the quick loop, `pytest -m "not slow"`, leaves it out
    pytest.mark.skipif(chromium_path() is None and not os.environ.get("CI"), reason="chromium not installed (.ci/run installs it)"),
]


def open_page(page: Page, url: str, width: int = 1280, height: int = 800) -> None:
    page.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=width < 500)
    page.send("Page.navigate", url=url)
    page.wait_for("document.readyState === 'complete'")
    page.wait_for(READY)


def settled(page: Page) -> None:
    page.wait_for(READY)
    page.wait_for("document.querySelector('#status').textContent.endsWith('steps')")


def text(page: Page, selector: str) -> str:
    value: str = page.evaluate(f"document.querySelector({js(selector)})?.textContent ?? ''")
    return value


def diagram_texts(page: Page) -> list[str]:
    shown: list[str] = page.evaluate("[...document.querySelectorAll('#diagram svg text')].map(t => t.textContent)")
    return shown


def weights(page: Page) -> list[str]:
    values: list[str] = page.evaluate("[...document.querySelectorAll('[data-pointer*=\"/weights/\"]')].map(i => i.value)")
    return values


def loss(page: Page) -> float:
    return float(page.wait_for("document.querySelector('#loss-value').dataset.value"))


def type_into(page: Page, selector: str, value: str) -> None:
    """Set a field as a person would (its value, then the change event that leaving it fires)."""
    change = "i.dispatchEvent(new Event('change', {bubbles: true}))"
    page.evaluate(f"(() => {{ const i = document.querySelector({js(selector)}); i.value = {js(value)}; {change}; }})()")


def screenshot_of(page: Page, selector: str, name: str) -> None:
    box = page.evaluate(
        f"(() => {{ const r = document.querySelector({js(selector)}).getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }})()"
    )
    clip = {"x": box[0], "y": box[1], "width": box[2], "height": box[3], "scale": 1}
    data = page.send("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)["data"]
    (OUTPUT / name).write_bytes(base64.b64decode(data))


def test_opens_on_the_primers_numbers_and_reads_at_desktop_and_phone_sizes(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        settled(page)
        page.screenshot(OUTPUT / "learn-1280x800.png")
        screenshot_of(page, "#diagram", "learn-diagram.png")
        shown = diagram_texts(page)
        for number in ["1", "2", "0.1", "0.6", "0.46", "0.80", "0.94", "0.49", "1.1463", "t₂ = 1.15", "δ = −0.51", "δ = −0.020"]:
            assert number in shown, number
        assert "0.01952" in text(page, '#derivation li[data-step="delta/0/0/2"]')  # δ₃⁽¹⁾ = … = −0.01952 (4 digits)
        assert "0.2371" in text(page, '#derivation li[data-step="grad_weights/1/0/0"]')  # ∂E/∂w₁,₁⁽²⁾ = −0.2371
        assert page.evaluate("document.querySelectorAll('#derivation math').length") >= 60  # real mathematics, MathML
        assert abs(loss(page) - 0.1316249275) < 1e-9
        assert weights(page) == ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6"]
        open_page(page, f"{server_process.url}/learn", 390, 844)
        settled(page)
        page.screenshot(OUTPUT / "learn-390x844.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling of the page itself
        assert foreign_requests(page, server_process) == []
        assert page.console_errors == []
        assert {f"{server_process.url}/v1/explain", f"{server_process.url}/v1/diagram"} <= set(page.requested)


def test_step_train_and_the_link(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        settled(page)
        page.evaluate("document.querySelector('#train-n').value = '50'")
        page.evaluate("document.querySelector('#train').click()")
        page.wait_for("document.querySelector('#curve svg')?.dataset.points === '50'")
        settled(page)
        page.screenshot(OUTPUT / "learn-trained.png")
        assert page.evaluate("document.querySelector('#curve polyline').getAttribute('points').split(' ').length") == 50
        assert f"{server_process.url}/v1/train" in page.requested
        trained = loss(page)
        assert trained < 0.01  # 50 SGD steps of η = 0.1 fit the one point

        before = loss(page)
        page.evaluate("document.querySelector('#step').click()")
        page.wait_for(f"Number(document.querySelector('#loss-value').dataset.value) !== {before!r}")
        settled(page)
        assert loss(page) < before
        assert page.evaluate("document.querySelector('#curve svg').dataset.points") == "51"

        link, kept, kept_loss = page.evaluate("location.href"), weights(page), loss(page)
        assert "#state=" in link
        page.send("Page.navigate", url="about:blank")
        open_page(page, link)
        settled(page)
        assert weights(page) == kept  # the same numbers, to the last digit
        assert loss(page) == kept_loss
        assert page.evaluate("JSON.parse(document.querySelector('#copied').value || 'null')") is None
        page.evaluate("document.querySelector('#copy-json').click()")
        copied = json.loads(page.wait_for("document.querySelector('#copied').value"))
        assert [str(w) for row in copied["network"]["layers"][0]["weights"] for w in row] == kept[:6]
        page.evaluate("document.querySelector('#copy-curl').click()")
        assert page.wait_for("document.querySelector('#copied').value.startsWith('curl ') && document.querySelector('#copied').value")
        assert foreign_requests(page, server_process) == []
        assert page.console_errors == []


def test_a_bad_weight_shows_the_apis_error_next_to_it_and_clicks_mark_steps(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        settled(page)
        type_into(page, W11, "abc")
        error = page.wait_for("document.querySelector('.error[data-pointer=\"/network/layers/0/weights/0/0\"]')?.textContent")
        assert "must be a number" in error  # the API's own detail (problem+json errors[].detail)
        assert page.evaluate(f"document.querySelector({js(W11)}).getAttribute('aria-invalid')") == "true"
        same_field = f"document.querySelector({js(W11)}).closest('.field').contains(document.querySelector('.error'))"
        assert page.evaluate(same_field)
        page.evaluate(f"document.querySelector({js(W11)}).scrollIntoView({{block: 'center'}})")
        page.screenshot(OUTPUT / "learn-bad-weight.png")
        assert all("422" in e and e.startswith("network:") for e in page.console_errors), (
            page.console_errors
        )  # only the refused request itself

        type_into(page, W11, "0.1")
        page.wait_for("!document.querySelector('.error')")
        settled(page)
        page.evaluate("window.scrollTo(0, 0)")
        page.evaluate("document.querySelector('#diagram g#n-0-2').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
        page.wait_for("!!document.querySelector('#derivation li.selected[data-step=\"z/0/0/2\"]')")
        assert page.evaluate("!!document.querySelector('#derivation li.depends[data-step=\"a/0/0/2\"]')")
        page.wait_for("!!document.querySelector('#diagram #n-0-2.hl')")

        # keyboard: Tab reaches a neuron, Enter picks it (δ₃⁽¹⁾'s line below it picks its δ step)
        page.evaluate("document.querySelector('#diagram text[data-step=\"delta/0/0/2\"]').closest('g').focus()")
        assert page.evaluate("document.activeElement.getAttribute('role')") == "button"
        page.send("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter", windowsVirtualKeyCode=13)
        page.wait_for("!!document.querySelector('#derivation li.selected[data-step=\"z/0/0/2\"]')")
        page.evaluate("document.querySelector('#derivation li[data-step=\"delta/0/0/2\"]').focus()")
        page.send("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter", windowsVirtualKeyCode=13)
        page.wait_for("!!document.querySelector('#derivation li.selected[data-step=\"delta/0/0/2\"]')")
        assert page.evaluate("!!document.querySelector('#derivation li.depends[data-step=\"delta/1/0/1\"]')")
        page.wait_for("!!document.querySelector('#diagram #e-1-1-2.hl')")
        settled(page)
        page.screenshot(OUTPUT / "learn-highlight.png")
        assert foreign_requests(page, server_process) == []


def test_train_in_the_background_draws_the_curve_from_the_jobs_events() -> None:
    """Train 30 steps as a job (POST /v1/trainings, run by the server's own worker): the curve grows from the event stream to
    30 points, and the weights at the end are those of /v1/train for the same request (the job computes what it computes)."""
    with running_server({"GRADIENT_JOB_WORKERS": "1"}) as server, chromium_page() as page:
        open_page(page, f"{server.url}/learn")
        settled(page)
        page.evaluate("document.querySelector('#copy-json').click()")
        request = json.loads(page.wait_for("document.querySelector('#copied').value"))
        page.evaluate("document.querySelector('#train-n').value = '30'")
        page.evaluate("document.querySelector('#train-background').click()")
        page.wait_for("document.querySelector('#curve svg')?.dataset.points === '30'", timeout=60)
        settled(page)
        page.screenshot(OUTPUT / "learn-background.png")
        assert f"{server.url}/v1/trainings" in page.requested
        assert any("/events" in url for url in page.requested)
        body = {k: v for k, v in request.items() if k != "optimizer_state"} | {"epochs": 30}
        reference = httpx.post(f"{server.url}/v1/train", json=body, timeout=30).json()
        shown = [float(w) for w in weights(page)[:6]]
        expected = [w for row in reference["network"]["layers"][0]["weights"] for w in row]
        assert shown == pytest.approx(expected, rel=1e-12)  # the field shows the job's weights (what /v1/train gives)
        assert foreign_requests(page, server) == []
        assert page.console_errors == []
