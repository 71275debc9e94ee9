"""Write the app's OpenAPI document to openapi/openapi.json: ``python -m service.openapi_export [--recompute-examples]``.

The file holds exactly the bytes ``GET /openapi.json`` serves (service/api/openapi.py). The documented answers
of the request examples come from service/api/example_answers.json (service/api/examples.py): an example
with no answer there yet gets one computed here and committed beside the others; ``--recompute-examples``
computes them all again (do that on purpose, when a change of the engine changes them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def render() -> bytes:
    """The OpenAPI document as served and committed."""
    from service.api.openapi import document_bytes
    from service.main import create_app

    return document_bytes(create_app().openapi())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service.openapi_export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--recompute-examples", action="store_true", help="compute every documented answer again")
    args = parser.parse_args(argv)
    from service.api import examples

    examples.RECOMPUTE = args.recompute_examples  # before the routes are imported: they look the answers up at import
    document = render()
    if examples.COMPUTED:
        examples.save()
        print(f"wrote {examples.ANSWERS} ({sum(map(len, examples.COMPUTED.values()))} answers computed here)", file=sys.stderr)
    PATH.parent.mkdir(exist_ok=True)
    PATH.write_bytes(document)
    print(f"wrote {PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
