"""The OpenAPI document: what every route declares, plus what the middleware does to every request, stated once.

FastAPI writes the paths and the response schemas from the routes. This module adds:

- the request bodies' schemas (the computing routes parse their bodies themselves, see
  service/api/body.py) and one component per enum (service/schemas/names.py). A model
  that both directions use (``Network``, ``OptimizerState`` …) must have the same schema
  as an input and as an output, or building the document fails: a client sends back
  unchanged what it got;
- the API keys (service/middleware/api_key.py): both header forms as security schemes,
  required by every /v1/ operation only when the server has keys, and
  the 401 those operations may answer;
- ``X-Request-ID`` on every response (service/middleware/request_id.py);
- no ``default`` keyword on properties: generators (openapi-typescript) make a property
  with a default *required* in the types they write, so a request could not leave it out.
  The default is stated in the property's description instead;
- ``servers``, the license and the tags.

:func:`document_bytes` is what ``GET /openapi.json`` serves and ``python -m service.openapi_export``
commits: the same bytes, keys in the models' order (``x`` before ``t``), two-space indent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from pydantic_core import CoreSchema

from service.api.problems import ERROR_RESPONSES
from service.middleware.api_key import needs_key
from service.middleware.request_id import HEADER as REQUEST_ID
from service.schemas.names import ENUMS
from service.schemas.problem import Problem

REF = "#/components/schemas/{model}"

SERVERS = [{"url": "/", "description": "the server that serves this document"}]
LICENSE = {"name": "MIT", "identifier": "MIT"}
TAGS = [
    {"name": "gradients", "description": "Forward pass, backpropagation and the gradient check, for the network sent."},
    {"name": "training", "description": "Optimizer steps: one (`/v1/train-step`) or many over a small dataset (`/v1/train`)."},
    {
        "name": "explanations",
        "description": "Showing the work: the derivation step by step, and the network drawn as the primer's Figure 6.",
    },
    {
        "name": "networks",
        "description": "New networks, drawn from an initializer and a seed, and networks in and out of Keras, PyTorch and ONNX.",
    },
    {"name": "datasets", "description": "Data (x and t) uploaded once, by content hash, for training jobs."},
    {"name": "training jobs", "description": "Training that outgrows one request: queued, checkpointed, resumed; events, metrics."},
    {"name": "catalog", "description": "Every activation, loss, optimizer and initializer the service knows, with its parameters."},
    {"name": "operations", "description": "Probes, metrics and the limits of this server."},
]

_KEYS_OFF = (
    "Off unless the server is started with keys (`GRADIENT_API_KEYS_FILE`, a file of key hashes by tenant, or "
    "`GRADIENT_API_KEYS`): then every `/v1/` operation needs one of them (probes, metrics and the docs stay open), sent in "
    "this header or in the other scheme's, and answers 401 without. A server without keys ignores both headers."
)
#: The tenant model, the same for both forms of the key.
_TENANTS = (
    "Each key belongs to a tenant: every dataset and training job (its events, metrics, result and Idempotency-Key) is "
    "the tenant's that made it, another tenant gets the same 404 as for an id that does not exist, and lists show only "
    "the tenant's own. Dataset ids are content hashes within a tenant. What a tenant may keep is bounded by quotas "
    "(`tenant_max_*` at `GET /v1/limits`; 429 names the one reached). Without keys the server has one tenant."
)
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": f"An API key as `Authorization: Bearer <key>`. {_KEYS_OFF} {_TENANTS}"},
    "api_key": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": f"An API key as `X-API-Key: <key>`. {_KEYS_OFF} {_TENANTS}",
    },
}
#: Either key form, or none: a server without keys needs none (``{}``), one with keys refuses that with 401.
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"api_key": []}, {}]

HEADERS = {
    REQUEST_ID: {
        "description": "This request's id: the client's own `X-Request-ID` if it sent a sane one (1 to 128 of "
        "`A-Z a-z 0-9 . _ : -`), else a new one. The server's log lines about the request carry it.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
    },
}


def build(app: FastAPI, extra_models: Iterable[type[BaseModel]] = ()) -> dict[str, Any]:
    """The app's OpenAPI document, as a dict in the order it is served."""
    schema = copy.deepcopy(  # FastAPI shares the routes' `responses` dicts between operations: changes here stay here
        get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            servers=SERVERS,
            license_info=LICENSE,
            tags=TAGS,
        )
    )
    components = schema.setdefault("components", {})
    generated = components.get("schemas", {})
    parsed = _parsed_models(schema["paths"], generated)  # the bodies the routes parse themselves, and what else they name
    components["schemas"] = _merged(generated, _definitions([*parsed, Problem, *extra_models]))
    components["headers"] = HEADERS
    components["securitySchemes"] = SECURITY_SCHEMES
    schema["security"] = SECURITY
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            item[method] = _operation(path, operation)
    ordered = {key: schema[key] for key in ("openapi", "info", "servers", "security", "tags", "paths", "components") if key in schema}
    return ordered | schema


def document_bytes(document: dict[str, Any], root_path: str = "") -> bytes:
    """The document as served and committed; behind a proxy's ``root_path``, its first server is that path."""
    if root_path:
        document = copy.copy(document)
        document["servers"] = [{"url": root_path, "description": "the server that serves this document"}, *document["servers"]]
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _definitions(models: Sequence[type[BaseModel]]) -> dict[str, Any]:
    """The request models' schemas (as they are validated) and every enum's, each under its own name."""
    inputs: list[tuple[Any, JsonSchemaMode, CoreSchema]] = [(m, "validation", m.__pydantic_core_schema__) for m in models]
    inputs += [(enum, "validation", TypeAdapter(enum).core_schema) for enum in ENUMS]
    _, defs = _InModelOrder(ref_template=REF).generate_definitions(inputs)
    return {str(name): schema for name, schema in defs.items()}


class _InModelOrder(GenerateJsonSchema):
    """Keys as pydantic writes them (the properties in the model's order), not sorted: as FastAPI writes the responses'."""

    def sort(self, value: Any, parent_key: str | None = None) -> Any:
        return value


_REF = "#/components/schemas/"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _models() -> dict[str, type[BaseModel]]:
    """Every pydantic model of the service, by name (the wire's schema names are the models' names)."""
    found: dict[str, type[BaseModel]] = {}
    todo = [BaseModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("service."):
                found.setdefault(sub.__name__, sub)
    return found


def _parsed_models(paths: dict[str, Any], generated: dict[str, Any]) -> list[type[BaseModel]]:
    """The models the operations name (``$ref``) that FastAPI did not describe: the JSON bodies that the routes parse
    themselves (service.api.body.json_body declares them) and the schemas of answers they write by hand (NDJSON lines)."""
    named = sorted({ref.removeprefix(_REF) for ref in _refs(paths) if ref.startswith(_REF)} - generated.keys())
    models = _models()
    unknown = [name for name in named if name not in models]
    if unknown:
        raise ValueError(f"the document refers to schemas no model of the service has: {unknown}")
    return [models[name] for name in named]


def _merged(responses: dict[str, Any], requests: dict[str, Any]) -> dict[str, Any]:
    """Both sets of schemas, sorted by name; a name in both must have one schema (valid as input and output)."""
    for component in (*responses.values(), *requests.values()):
        _defaults_described(component)
    differ = sorted(name for name in responses.keys() & requests.keys() if responses[name] != requests[name])
    suffixed = sorted(name for name in (*responses, *requests) if name.endswith(("-Input", "-Output")))
    if differ or suffixed:
        raise ValueError(f"schemas that differ as input and output: {differ + suffixed}; a client could not send back what it got")
    merged = responses | requests
    return {name: merged[name] for name in sorted(merged)}


_OPERATION_KEYS = ("tags", "summary", "description", "operationId", "security", "requestBody", "responses")


def _operation(path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """The operation with what the middleware adds: security and the 401 of a server with keys, X-Request-ID on every response."""
    responses = operation["responses"]
    if not needs_key(path):
        operation["security"] = []
    elif "401" not in responses:
        responses["401"] = copy.deepcopy(ERROR_RESPONSES[401])
    operation["responses"] = {code: responses[code] for code in sorted(responses)}
    for response in operation["responses"].values():
        response.setdefault("headers", {})[REQUEST_ID] = {"$ref": f"#/components/headers/{REQUEST_ID}"}
    return {key: operation[key] for key in _OPERATION_KEYS if key in operation} | operation


def _defaults_described(schema: dict[str, Any]) -> None:
    """Each property's ``default`` moved into its description (a null default, meaning "absent", just goes)."""
    for prop in schema.get("properties", {}).values():
        if "default" not in prop:
            continue
        value = prop.pop("default")
        if value is None:
            continue
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        description = prop.get("description", "").rstrip()
        prop["description"] = f"{description}{'' if description.endswith('.') or not description else '.'} Default: `{shown}`.".lstrip()
