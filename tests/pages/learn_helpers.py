"""What the learner's page tests share: opening /learn at a viewport, waiting for it, reading it, auditing it with axe-core.

axe-core is the vendored copy in tests/vendor/axe-core (never served by the page): it is evaluated in the page
over the DevTools protocol, and ``axe.run()`` audits the document as it stands.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from tests.browser import Page
from tests.server import ROOT

OUTPUT = ROOT / "test-output"
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "e9e5863c33a874f09bc01acd9234b7e3c871479f5eef8802fa582544465e6d01"  # axe-core 4.11.0 (tests/vendor/axe-core/README.md)
#: The two viewports of the issue: a laptop and a phone (iPhone 12–15's CSS size).
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
READY = (
    "!!(document.querySelector('#derivation li.step') && document.querySelector('#diagram svg')"
    " && !document.querySelector('.toolbar button:disabled') && document.querySelector('#status').textContent.endsWith('steps'))"
)


def js(value: Any) -> str:
    return json.dumps(value)


def open_page(page: Page, url: str, width: int = 1280, height: int = 900) -> None:
    page.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=width < 500)
    page.send("Page.navigate", url=url)
    page.wait_for("document.readyState === 'complete'")
    page.wait_for(READY)


def settled(page: Page, timeout: float = 30) -> None:
    """The page has answered everything it asked (the status says how many steps the derivation has)."""
    time.sleep(0.15)
    page.wait_for(READY, timeout)


def click(page: Page, selector: str) -> None:
    page.evaluate(f"document.querySelector({js(selector)}).click()")


def preset(page: Page, name: str) -> None:
    click(page, f'.preset[data-preset="{name}"]')
    settled(page)


def text(page: Page, selector: str) -> str:
    value: str = page.evaluate(f"document.querySelector({js(selector)})?.textContent ?? ''")
    return value


def diagram_texts(page: Page) -> list[str]:
    shown: list[str] = page.evaluate("[...document.querySelectorAll('#diagram svg text')].map(t => t.textContent)")
    return shown


def weights(page: Page) -> list[str]:
    """Every weight field's text, in the form's order."""
    values: list[str] = page.evaluate("[...document.querySelectorAll('[data-pointer*=\"/weights/\"]')].map(i => i.value)")
    return values


def full_weights(page: Page) -> dict[str, float]:
    """Every weight and bias the form holds, to the last digit, by its pointer."""
    values: dict[str, float] = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-full]')].map(i => [i.dataset.pointer, JSON.parse(i.dataset.full)]))"
    )
    return values


def loss(page: Page) -> float:
    return float(page.wait_for("document.querySelector('#loss-value').dataset.value"))


def type_into(page: Page, selector: str, value: str) -> None:
    """Set a field as a person would (its value, then the change event that leaving it fires)."""
    change = "i.dispatchEvent(new Event('change', {bubbles: true}))"
    page.evaluate(f"(() => {{ const i = document.querySelector({js(selector)}); i.value = {js(value)}; {change}; }})()")


def shot(page: Page, name: str) -> Path:
    """The whole page as a PNG in test-output/ (beyond the viewport), from its top: the sticky toolbar where it stands."""
    page.evaluate("window.scrollTo(0, 0)")
    w, h = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    clip = {"x": 0, "y": 0, "width": w, "height": min(h, 8000), "scale": 1}
    data = page.send("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)["data"]
    path = OUTPUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(data))
    return path


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of these impacts in the page as it stands: rule id, impact, help and the elements' selectors."""
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "the vendored axe-core is the one its README names"
    page.send("Runtime.evaluate", expression=source.decode())
    found: list[dict[str, Any]] = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => "
        "({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))"
    )
    return [v for v in found if v["impact"] in impacts]


def wider_than_the_viewport(page: Page) -> list[str]:
    """Elements that stick out of the viewport sideways, where no scrolling box of theirs holds them."""
    found: list[str] = page.evaluate(
        """(() => {
          const out = [], w = document.documentElement.clientWidth;
          const scrolls = (e) => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
            if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true; } return false; };
          for (const e of document.body.querySelectorAll('*')) {
            const r = e.getBoundingClientRect();
            if (!r.width || getComputedStyle(e).visibility === 'hidden') continue;
            if ((r.right > w + 0.5 || r.left < -0.5 || r.width > w + 0.5) && !scrolls(e))
              out.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className?.baseVal ?? e.className}`
                + ` ${Math.round(r.left)}–${Math.round(r.right)}`);
          }
          return out;
        })()"""
    )
    return found
