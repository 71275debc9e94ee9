"""Write the app's OpenAPI document to openapi/openapi.json: ``python -m service.openapi_export``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from service.main import create_app

PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def render() -> str:
    """The OpenAPI document as committed: sorted keys, two-space indent, final newline."""
    document: dict[str, Any] = create_app().openapi()
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    PATH.parent.mkdir(exist_ok=True)
    PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
