"""The learner's page's files: the primer's derivation it marks is the repo's copy of ../shared/seed's; axe-core is not served."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service.pages import STATIC_DIR
from tests.server import ROOT

SEED = ROOT / "tests" / "data" / "primer-derivation.json"


def test_the_pages_primer_derivation_is_the_seeds_byte_for_byte(client: TestClient) -> None:
    assert (STATIC_DIR / "primer-derivation.json").read_bytes() == SEED.read_bytes()
    shared = ROOT.parent / "shared" / "seed" / "primer-derivation.json"
    if shared.exists():
        assert shared.read_bytes() == SEED.read_bytes()
    r = client.get("/learn-assets/primer-derivation.json")
    assert r.status_code == 200
    assert r.content == SEED.read_bytes()


def test_axe_core_is_the_tests_not_the_pages(client: TestClient) -> None:
    assert not [p for p in Path(STATIC_DIR).rglob("*") if "axe" in p.name]
    assert client.get("/learn-assets/axe.min.js").status_code == 404
    assert "axe" not in client.get("/learn").text
