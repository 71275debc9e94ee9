"""The learner's page, GET /learn, in headless Chromium against a real server, every other host unreachable.

At 1280×900 and 390×844: the page opens on the primer's network with Figure 6's numbers and the derivation, and none
of the defects of issue 22 is there (the copied-text box hidden, the diagram's text 11 px or more and its edge
labels crossed by no other edge, its legend whole, the derivation's lines wrapping instead of scrolling, no element
wider than the phone); axe-core (vendored, tests/vendor/axe-core) finds nothing serious or critical, on the
primer's and the XOR preset (Mazur's: tests/pages/test_presets_browser.py). Step and Train draw the loss curve
(log scale) and the link restores the same weights; a bad value shows the API's error next to its field and marks
the loss, the derivation and the diagram stale; a click or Enter on a neuron, an edge or a line marks its step, the
steps it depends on and the edges into it. Network events and console errors are recorded (tests/browser.py): no
request leaves the server's host and nothing is logged as an error (except the browser's own lines for the 422s a
bad value is meant to get). Screenshots land in test-output/.
"""

from __future__ import annotations

import json
import os

import httpx
import pytest

from tests.browser import chromium_page, chromium_path, foreign_requests, js
from tests.pages.learn_helpers import (
    VIEWPORTS,
    axe_violations,
    click,
    diagram_texts,
    full_weights,
    loss,
    open_page,
    preset,
    settled,
    shot,
    text,
    type_into,
    weights,
    wider_than_the_viewport,
)
from tests.server import ServerProcess, running_server

W11 = '[data-pointer="/network/layers/0/weights/0/0"]'

pytestmark = [
    pytest.mark.slow,  # the quick loop, `pytest -m "not slow"`, leaves it out
    pytest.mark.skipif(
        chromium_path() is None and not os.environ.get("CI"),
        reason="chromium is not installed: apt-get install chromium (.ci/run installs it)",
    ),
]

#: Every text of the diagram: its rendered size in CSS px, and whether it lies inside the diagram's box.
DIAGRAM_TEXT = """[...document.querySelectorAll('#diagram svg text')].map(t => {
  const box = document.querySelector('#diagram').getBoundingClientRect(), r = t.getBoundingClientRect();
  return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
          inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5};
})"""
#: Each edge label and the other edges that pass through its box (Liang–Barsky, in the SVG's own units).
CROSSED_LABELS = """(() => {
  const lines = [...document.querySelectorAll('#diagram line.edge')];
  const crosses = (l, b) => { let t0 = 0, t1 = 1; const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map(a => +l.getAttribute(a));
    for (const [p, q] of [[x1 - x2, x1 - b.x], [x2 - x1, b.x + b.width - x1], [y1 - y2, y1 - b.y], [y2 - y1, b.y + b.height - y1]]) {
      if (p === 0) { if (q < 0) return false; continue; } const r = q / p; if (p < 0) t0 = Math.max(t0, r); else t1 = Math.min(t1, r);
      if (t0 > t1) return false; } return true; };
  return [...document.querySelectorAll('#diagram text[data-edge]')].map(t => ({label: t.textContent, edge: t.dataset.edge,
    crossed: lines.filter(l => l.id !== t.dataset.edge && crosses(l, t.getBBox())).map(l => l.id)})).filter(c => c.crossed.length);
})()"""


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_each_viewport_reads_without_the_defects_and_axe_finds_nothing_serious(server_process: ServerProcess, viewport: str) -> None:
    width, height = VIEWPORTS[viewport]
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn", width, height)
        shot(page, f"learn-{width}x{height}.png")
        shown = diagram_texts(page)
        for number in ["1", "2", "0.46", "0.80", "0.94", "0.49", "1.1463", "t₂ = 1.15", "δ = −0.51", "δ = −0.020"]:
            assert number in shown, number
        if viewport == "desktop":  # the phone's columns are too close for labels on the edges (the tooltips carry them)
            assert {"0.1", "0.6", "0.3"} <= set(shown)
        assert "0.01952" in text(page, '#derivation li[data-step="delta/0/0/2"]')  # δ₃⁽¹⁾ = … = −0.01952 (4 digits)
        assert "0.2371" in text(page, '#derivation li[data-step="grad_weights/1/0/0"]')  # ∂E/∂w₁,₁⁽²⁾ = −0.2371
        assert page.evaluate("document.querySelectorAll('#derivation math').length") >= 60  # real mathematics, MathML
        assert abs(loss(page) - 0.1316249275) < 1e-9
        assert weights(page) == ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6"]

        # the defects of issue 22, gone
        assert page.evaluate("getComputedStyle(document.querySelector('#copied-box')).display") == "none"  # no empty box on load
        texts = page.evaluate(DIAGRAM_TEXT)
        small = [(t["text"], round(t["px"], 1)) for t in texts if t["px"] < 10.9]
        assert small == [], "the diagram's text is drawn at 11 px or more"
        assert [t["text"] for t in texts if not t["inside"]] == [], "the legend and every label fit the diagram's box"
        assert page.evaluate(CROSSED_LABELS) == [], "no edge crosses another edge's label"
        overflowing = page.evaluate(
            "[...document.querySelectorAll('#derivation li.step')]"
            ".filter(li => li.scrollWidth > li.clientWidth + 1).map(li => li.dataset.step)"
        )
        assert [s for s in overflowing if s.startswith("delta/0/")] == [], "the δ⁽¹⁾ lines wrap instead of scrolling"
        assert "(y1−t1)" in text(page, '#derivation li[data-step="delta/1/0/0"]').replace(" ", "")  # (y₁ − t₁), not (y_k − t_k)
        assert "yk" not in text(page, '#derivation li[data-step="delta/1/0/0"]')

        for name in ("primer", "xor"):  # each preset reads at this size, and axe finds nothing serious in it (Mazur's: its own test)
            if name != "primer":
                preset(page, name)
                shot(page, f"learn-{name}-{width}x{height}.png")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert wider_than_the_viewport(page) == [], name
            assert axe_violations(page) == [], name
        assert foreign_requests(page, server_process) == []
        assert page.console_errors == []
        assert {f"{server_process.url}/v1/explain", f"{server_process.url}/v1/diagram"} <= set(page.requested)


def test_step_train_and_the_link(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        page.evaluate("document.querySelector('#train-n').value = '50'")
        click(page, "#train")
        page.wait_for("document.querySelector('#curve svg')?.dataset.points === '50'")
        settled(page)
        shot(page, "learn-trained.png")
        assert page.evaluate("document.querySelector('#curve polyline').getAttribute('points').split(' ').length") == 50
        assert page.evaluate("document.querySelector('#curve svg').dataset.scale") == "log"  # the curve is not flat after 20 steps
        assert "10⁻" in text(page, "#curve svg")
        assert f"{server_process.url}/v1/train" in page.requested
        trained = loss(page)
        assert trained < 0.01  # 50 SGD steps of η = 0.1 fit the one point
        y2 = text(page, "#diagram g#n-1-1 text.value")
        assert y2 == "1.15", "z₂ beside t₂ = 1.15 at a tiny E: with t's decimals (not 1.2)"
        cut = page.evaluate(
            "[...document.querySelectorAll('[data-pointer*=\"/weights/\"]')].filter(i => i.scrollWidth > i.clientWidth).length"
        )
        assert cut == 0, "every weight field shows its whole number"
        assert all(len(w) <= 9 for w in weights(page))
        page.evaluate("document.querySelector('#log-scale').click()")
        assert page.evaluate("document.querySelector('#curve svg').dataset.scale") == "linear"

        before = loss(page)
        click(page, "#step")
        page.wait_for(f"Number(document.querySelector('#loss-value').dataset.value) !== {before!r}")
        settled(page)
        assert loss(page) < before
        assert page.evaluate("document.querySelector('#curve svg').dataset.points") == "51"

        link, kept, kept_loss = page.evaluate("location.href"), full_weights(page), loss(page)
        assert "#state=" in link
        page.send("Page.navigate", url="about:blank")
        open_page(page, link)
        assert full_weights(page) == kept  # the same numbers, to the last digit
        assert loss(page) == kept_loss
        assert page.evaluate("document.querySelector('#curve svg').dataset.scale") == "linear"  # the link keeps the axis too
        assert page.evaluate("JSON.parse(document.querySelector('#copied').value || 'null')") is None
        click(page, "#copy-json")
        copied = json.loads(page.wait_for("document.querySelector('#copied').value"))
        sent = [w for row in copied["network"]["layers"][0]["weights"] for w in row]
        assert sent == [kept[f"/network/layers/0/weights/{k}/{m}"] for k in range(3) for m in range(2)]
        click(page, "#copy-curl")
        assert page.wait_for("document.querySelector('#copied').value.startsWith('curl ') && document.querySelector('#copied').value")
        assert foreign_requests(page, server_process) == []
        assert page.console_errors == []


def test_a_bad_value_shows_its_error_beside_the_field_and_marks_the_views_stale(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        type_into(page, W11, "abc")
        error = page.wait_for("document.querySelector('.error[data-pointer=\"/network/layers/0/weights/0/0\"]')?.textContent")
        assert "must be a number" in error  # the API's own detail (problem+json errors[].detail)
        assert page.evaluate(f"document.querySelector({js(W11)}).getAttribute('aria-invalid')") == "true"
        assert page.evaluate(f"document.querySelector({js(W11)}).closest('.field').contains(document.querySelector('.error'))")
        page.wait_for("document.querySelector('#derivation').classList.contains('stale')")
        assert page.evaluate("['#diagram', '.loss'].every(s => document.querySelector(s).classList.contains('stale'))")
        assert page.evaluate("!document.querySelector('#stale-note').hidden")
        page.evaluate(f"document.querySelector({js(W11)}).scrollIntoView({{block: 'center'}})")
        shot(page, "learn-bad-weight.png")

        type_into(page, W11, "0.1")
        page.wait_for("!document.querySelector('.error')")
        settled(page)
        assert page.evaluate("!document.querySelector('.stale') && document.querySelector('#stale-note').hidden")

        type_into(page, "#digits", "30")  # its error stands beside the digits field, not in the banner
        error = page.wait_for("document.querySelector('.error[data-pointer=\"/digits\"]')?.textContent")
        assert "17" in error
        assert page.evaluate("document.querySelector('#digits').closest('[data-field]').contains(document.querySelector('.error'))")
        assert page.evaluate("document.querySelector('#problem').hidden")
        type_into(page, "#digits", "4")
        page.wait_for("!document.querySelector('.error')")
        settled(page)

        page.evaluate("document.querySelector('#train-n').value = '1001'")
        click(page, "#train")
        error = page.wait_for("document.querySelector('.error[data-pointer=\"/epochs\"]')?.textContent")
        assert "steps" in error
        assert "/epochs" not in error
        assert "epochs" not in text(page, "#problem")
        assert page.evaluate("document.querySelector('#train-n').closest('[data-field]').contains(document.querySelector('.error'))")
        assert page.evaluate("document.querySelector('#problem').hidden")
        shot(page, "learn-bad-steps.png")
        assert all("422" in e and e.startswith("network:") for e in page.console_errors), page.console_errors  # the refused requests


def test_clicks_mark_a_step_what_it_depends_on_and_the_edges_into_a_neuron(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        page.evaluate("document.querySelector('#diagram g#n-0-2').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
        page.wait_for("!!document.querySelector('#derivation li.selected[data-step=\"z/0/0/2\"]')")
        assert page.evaluate("!!document.querySelector('#derivation li.depends[data-step=\"a/0/0/2\"]')")
        page.wait_for("!!document.querySelector('#diagram #n-0-2.hl')")
        assert page.evaluate("['e-0-2-0', 'e-0-2-1', 'x-0', 'x-1'].every(id => document.getElementById(id).classList.contains('hl'))")

        # an update line lights up the gradient it follows: ∂E/∂w⁽²⁾₁,₃ on its edge
        page.evaluate("document.querySelector('#derivation li[data-step=\"update/1/W/0/2\"]').click()")
        page.wait_for("!!document.querySelector('#diagram #e-1-0-2.hl')")
        assert page.evaluate("document.querySelector('#derivation li[data-step=\"update/1/W/0/2\"]').classList.contains('selected')")

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
        shot(page, "learn-highlight.png")
        assert foreign_requests(page, server_process) == []
        assert page.console_errors == []


def test_train_in_the_background_draws_the_curve_from_the_jobs_events() -> None:
    """Train 30 steps as a job (POST /v1/trainings, run by the server's own worker): the curve grows from the event stream to
    30 points, and the weights at the end are those of /v1/train for the same request (the job computes what it computes)."""
    with running_server({"GRADIENT_JOB_WORKERS": "1"}) as server, chromium_page() as page:
        open_page(page, f"{server.url}/learn")
        click(page, "#copy-json")
        request = json.loads(page.wait_for("document.querySelector('#copied').value"))
        page.evaluate("document.querySelector('#train-n').value = '30'")
        click(page, "#train-background")
        page.wait_for("document.querySelector('#curve svg')?.dataset.points === '30'", timeout=60)
        settled(page)
        shot(page, "learn-background.png")
        assert f"{server.url}/v1/trainings" in page.requested
        assert any("/events" in url for url in page.requested)
        body = {k: v for k, v in request.items() if k != "optimizer_state"} | {"epochs": 30}
        reference = httpx.post(f"{server.url}/v1/train", json=body, timeout=30).json()
        shown = full_weights(page)
        expected = reference["network"]["layers"][0]["weights"]
        assert [shown[f"/network/layers/0/weights/{k}/{m}"] for k in range(3) for m in range(2)] == pytest.approx(
            [w for row in expected for w in row], rel=1e-12
        )  # the form holds the job's weights (what /v1/train gives)
        assert foreign_requests(page, server) == []
        assert page.console_errors == []
