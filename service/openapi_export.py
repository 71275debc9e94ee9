"""Write the app's OpenAPI document to openapi/openapi.json: ``python -m service.openapi_export``.

The file holds exactly the bytes ``GET /openapi.json`` serves (service/api/openapi.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from service.api.openapi import document_bytes
from service.main import create_app

PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def render() -> bytes:
    """The OpenAPI document as served and committed."""
    return document_bytes(create_app().openapi())


def main() -> None:
    PATH.parent.mkdir(exist_ok=True)
    PATH.write_bytes(render())
    print(f"wrote {PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
