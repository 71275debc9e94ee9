"""The learner's page's presets and Playground's half, in headless Chromium against a real server.

Mazur's preset shows his numbers (E = 0.298371109, w5 → 0.35891648) with the chain rule factor by factor and the
biases frozen; its loss after one step is the exact 0.291027774, beside his published 0.291027924, marked as his
rounding. The primer's preset marks its hand-rounded lines. XOR: Play trains on the dataset through /v1/train/stream
until the test loss is under 0.05, the epoch counter and both curves grow, and the service's heat map separates the
four quadrants (read back from the canvas's pixels). Adding a neuron or a layer keeps every other weight; an edge
clicked in the diagram edits its weight (and a bias edge its bias); the chain-rule toggle writes the factors.
"""

from __future__ import annotations

import os

import pytest

from tests.browser import Page, chromium_page, chromium_path, foreign_requests
from tests.pages.learn_helpers import VIEWPORTS, axe_violations, click, full_weights, loss, open_page, preset, settled, shot, text
from tests.server import ServerProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None and not os.environ.get("CI"), reason="chromium not installed (.ci/run installs it)"),
]


def line(page: Page, step: str) -> str:
    return text(page, f'#derivation li[data-step="{step}"]')


def test_mazurs_preset_shows_his_numbers_with_the_chain_rule_and_fixed_biases(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        preset(page, "mazur")
        shot(page, "learn-mazur.png")
        assert text(page, "#loss-value") == "E = 0.298371109"
        assert round(loss(page), 9) == 0.298371109
        assert "0.35891648" in line(page, "update/1/W/0/0")  # w5⁺
        after = float(page.evaluate("document.querySelector('#loss-after').dataset.value"))
        assert round(after, 9) == 0.291027774  # the exact loss after one step (torch's too: tests/conformance/test_frozen_torch.py)
        assert "0.291027774" in text(page, "#loss-after")
        his = page.evaluate("document.querySelector('#derivation li[data-step=\"loss_after\"] .mark').outerHTML")
        assert "differs" in his
        assert "0.291027924" in his  # his published number, marked as his rounding
        assert "✓" in text(page, '#derivation li[data-step="loss"] .mark')  # E_total = 0.298371109
        assert "✓" in text(page, '#derivation li[data-step="update/1/W/0/0"] .mark')  # w5⁺ = 0.35891648
        assert "frozen" in line(page, "update/0/b/0")  # b₁ held fixed: train_bias false
        assert "0.35" in line(page, "update/0/b/0")
        w5 = page.evaluate(
            "[...document.querySelectorAll('#derivation li[data-step=\"grad_weights/1/0/0\"] .line')].map(l => l.textContent)"
        )
        assert len(w5) == 3  # ∂E/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5, each with its value
        assert "0.74136507" in w5[0]
        assert "0.186815602" in w5[1]
        assert "0.593269992" in w5[2]
        assert "0.0363503064" in line(page, "grad_weights/0/0/0")  # ∂E/∂out_h1 = 0.0553994247 − 0.0190491183, term by term
        assert "0.0553994247" in line(page, "grad_weights/0/0/0")
        assert axe_violations(page) == []
        assert page.evaluate("document.querySelectorAll('#diagram line[id^=\"b-\"]').length") == 4  # the biases drawn
        assert foreign_requests(page, server_process) == []
        assert page.console_errors == []


def test_the_primers_preset_marks_its_hand_rounded_lines(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        marked = page.evaluate("[...document.querySelectorAll('#derivation .mark')].map(m => [m.closest('li').dataset.step, m.className])")
        assert ["delta/0/0/0", "mark differs"] in marked  # the primer's δ₁⁽¹⁾ = −0.044; exact −0.0415
        assert ["grad_weights/1/0/0", "mark same"] in marked  # −0.52 (0.46) = −0.24: the exact −0.2371, rounded
        assert len(marked) == 21  # every line of primer-derivation.json, on its step
        click(page, "#step")  # the network moved on: the primer's numbers no longer apply
        settled(page)
        assert page.evaluate("document.querySelectorAll('#derivation .mark').length") == 0


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_xor_learns_with_play_and_the_heat_map_separates_the_four_quadrants(server_process: ServerProcess, viewport: str) -> None:
    width, height = VIEWPORTS[viewport]
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn", width, height)
        preset(page, "xor")
        assert page.evaluate("document.querySelectorAll('#diagram image.thumb').length") == 5  # a heat map in each neuron (4 + 1)
        click(page, "#play")
        page.wait_for("(t => t > 0 && t < 0.05)(Number(document.querySelector('#losses').dataset.test))", timeout=90)
        click(page, "#play")  # pause
        page.wait_for("document.querySelector('#play').textContent === 'Play'")
        settled(page)
        shot(page, f"learn-xor-trained-{width}x{height}.png")
        assert "/v1/train/stream" in " ".join(page.requested)
        epoch = int(text(page, "#epoch").split()[1])
        assert epoch >= 5
        assert page.evaluate("document.querySelectorAll('#curve polyline').length") == 2  # training and test curves
        # the heat map's colour at (±0.5, ±0.5): blue (+1) where x₁x₂ > 0, orange (−1) where it is < 0
        colours = page.evaluate(
            """(() => { const c = document.querySelector('#heatmap'), g = c.getContext('2d'), lo = +c.dataset.lo, hi = +c.dataset.hi;
              return [[0.5, 0.5], [-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5]].map(([x, y]) => {
                const px = Math.round((x - lo) / (hi - lo) * c.width), py = Math.round((hi - y) / (hi - lo) * c.height);
                return [...g.getImageData(px, py, 1, 1).data.slice(0, 3)]; }); })()"""
        )
        blue = [b > r for r, _, b in colours]
        assert blue == [True, True, False, False], colours
        forward = [u for u in page.requested if u.endswith("/v1/forward")]
        assert forward, "the heat map is the service's forward pass over the grid"
        assert foreign_requests(page, server_process) == []
        assert page.console_errors == []


def test_neurons_and_layers_are_added_and_removed_in_place_keeping_the_other_weights(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        before = full_weights(page)
        click(page, '.structure button[aria-label="one neuron more in layer 1"]')
        settled(page)
        after = full_weights(page)
        assert {k: after[k] for k in before} == before  # every weight there was: the same number
        assert set(after) - set(before) == {"/network/layers/0/weights/3/0", "/network/layers/0/weights/3/1"} | {
            f"/network/layers/1/weights/{k}/3" for k in range(2)
        }
        assert page.evaluate("document.querySelectorAll('#diagram g[id^=\"n-0-\"]').length") == 4
        shot(page, "learn-added-neuron.png")
        click(page, '.structure button[aria-label="one neuron fewer in layer 1"]')
        settled(page)
        assert full_weights(page) == before
        click(page, '.structure button[aria-label="add a hidden layer before the output layer"]')
        settled(page)
        grown = full_weights(page)
        assert {k: grown[k] for k in before if "/layers/0/" in k} == {k: v for k, v in before.items() if "/layers/0/" in k}
        assert {k.replace("/layers/2/", "/layers/1/"): v for k, v in grown.items() if "/layers/2/" in k} == {
            k: v for k, v in before.items() if "/layers/1/" in k
        }  # the output layer moved up one and kept its weights
        assert page.console_errors == []


def test_a_weight_or_a_bias_is_edited_by_clicking_its_edge(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        page.evaluate(
            "document.querySelector('#diagram line.hit[data-edge=\"e-1-0-2\"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        page.wait_for("!document.querySelector('#weight-editor').hidden")
        assert text(page, "#weight-editor-label") == "w₁,₃⁽²⁾"
        assert page.evaluate("document.activeElement.id") == "weight-value"
        shot(page, "learn-edit-weight.png")
        page.evaluate("document.querySelector('#weight-value').value = '-0.7'")
        page.send("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter", windowsVirtualKeyCode=13)
        settled(page)
        assert full_weights(page)["/network/layers/1/weights/0/2"] == -0.7
        assert "−0.7" in [
            t for t in page.evaluate("[...document.querySelectorAll('#diagram text[data-edge=\"e-1-0-2\"]')].map(t => t.textContent)")
        ]
        preset(page, "mazur")
        page.evaluate(
            "document.querySelector('#diagram line.hit[data-edge=\"b-1-0\"]').dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        page.wait_for("!document.querySelector('#weight-editor').hidden")
        assert text(page, "#weight-editor-label") == "b₁⁽²⁾"
        page.evaluate("document.querySelector('#weight-value').value = '0.5'")
        click(page, "#weight-apply")
        settled(page)
        assert full_weights(page)["/network/layers/1/bias/0"] == 0.5
        assert page.console_errors == []


def test_the_chain_rule_toggle_writes_the_factors_and_the_link_keeps_it(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        open_page(page, f"{server_process.url}/learn")
        assert page.evaluate("document.querySelectorAll('#derivation li[data-step=\"grad_weights/1/0/0\"] .line').length") == 0
        click(page, "#chain")
        page.wait_for("document.querySelectorAll('#derivation li[data-step=\"grad_weights/1/0/0\"] .line').length === 3")
        settled(page)
        assert "0.4621" in line(page, "grad_weights/1/0/0")  # ∂a₁⁽²⁾/∂w₁,₁⁽²⁾ = z₁⁽¹⁾ = 0.4621
        link = page.evaluate("location.href")
        page.send("Page.navigate", url="about:blank")
        open_page(page, link)
        assert page.evaluate("document.querySelector('#chain').checked")
        assert page.evaluate("document.querySelectorAll('#derivation li[data-step=\"grad_weights/1/0/0\"] .line').length") == 3
        assert page.console_errors == []
