"""The docs pages in headless Chromium, with every other host unreachable: nothing is fetched from elsewhere,
and the console shows no error.

The screenshots land in test-output/ (a CI artifact): look at them.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.browser import Page, chromium_page, chromium_path, foreign_requests, js
from tests.server import ROOT, ServerProcess

OUTPUT = ROOT / "test-output"
PRIMER_GRAD_W2_00 = "-0.23709648991681476"  # ∂E/∂W⁽²⁾₁₁ of the primer's example, as the service prints it

pytestmark = [
    pytest.mark.slow,  # the quick loop, `pytest -m "not slow"`, leaves it out
    pytest.mark.skipif(
        chromium_path() is None and not os.environ.get("CI"),
        reason="chromium is not installed: apt-get install chromium (.ci/run installs it)",
    ),
]


def click(page: Page, selector: str) -> None:
    page.wait_for(f"document.querySelector({js(selector)}) !== null")
    page.evaluate(f"document.querySelector({js(selector)}).scrollIntoView({{block: 'center'}})")
    page.evaluate(f"document.querySelector({js(selector)}).click()")


def test_swagger_ui_runs_the_primer_example_without_other_hosts(server_process: ServerProcess) -> None:
    op = "#operations-gradients-backward"
    with chromium_page() as page:
        page.send("Page.navigate", url=f"{server_process.url}/docs")
        operations = page.wait_for("document.querySelectorAll('.opblock').length >= 6 && document.querySelectorAll('.opblock').length")
        page.screenshot(OUTPUT / "docs.png")

        click(page, f"{op} .opblock-summary-control")
        click(page, f"{op} .try-out__btn")
        prefilled = page.wait_for(f"document.querySelector('{op} textarea.body-param__text')?.value")
        assert json.loads(prefilled)["network"]["layers"][0]["weights"] == [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]
        click(page, f"{op} .btn.execute")
        shown = page.wait_for(f"document.querySelector('{op} .live-responses-table .highlight-code')?.innerText")
        page.evaluate(  # show the whole response body, scrolled to the primer's ∂E/∂W⁽²⁾ as a person would look for it
            f"""(() => {{
                const body = document.querySelector('{op} .live-responses-table .highlight-code pre');
                body.style.maxHeight = 'none';
                const value = [...body.querySelectorAll('span')].find(s => s.textContent.includes({js(PRIMER_GRAD_W2_00)}));
                (value || body).scrollIntoView({{block: 'center'}});
            }})()"""
        )
        page.screenshot(OUTPUT / "docs-backward-executed.png")

        assert operations >= 6
        page.settle()

        assert PRIMER_GRAD_W2_00 in shown
        assert f"{server_process.url}/v1/backward" in page.requested  # the Execute button really called the service
        assert foreign_requests(page, server_process) == []
        assert page.console_errors == []


def test_redoc_renders_without_other_hosts(server_process: ServerProcess) -> None:
    with chromium_page() as page:
        page.send("Page.navigate", url=f"{server_process.url}/redoc")
        page.wait_for("document.body?.innerText.includes('Backpropagation: δ and the gradients of every layer')")
        page.wait_for("document.querySelector('.menu-content') !== null")  # the sidebar, whose logo came from a CDN
        page.settle()
        page.screenshot(OUTPUT / "redoc.png")
        assert any(u.endswith("/docs-assets/redoc.standalone.js") for u in page.requested)
        assert foreign_requests(page, server_process) == []
        assert page.console_errors == []
