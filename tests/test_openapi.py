"""The committed openapi/openapi.json is what the app serves, byte for byte; it validates, and it is complete.

Linted with Redocly CLI's recommended rules (tests/clients/redocly.yaml); the clients generated from
it are tested in tests/clients/test_generated_clients.py.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from service.openapi_export import PATH, render
from service.schemas.names import ENUMS
from tests.clients.node import CLIENTS, env, node_tools

#: Redocly's recommended rules warn about these, and why they stay.
EXPECTED_LINT_WARNINGS = {
    # The probes and /metrics are open (no key: an orchestrator or a scraper sends none) and take no input: they have no
    # 4xx to declare (/readyz answers 200 or 503, the others 200).
    ("operation-4xx-response", "#/paths/~1livez/get/responses"),
    ("operation-4xx-response", "#/paths/~1readyz/get/responses"),
    ("operation-4xx-response", "#/paths/~1metrics/get/responses"),
}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(PATH.read_text(encoding="utf-8"))
    return document


def walk(value: Any, where: str = "#") -> list[tuple[str, dict[str, Any]]]:
    """Every object in ``value`` with its JSON Pointer."""
    found = []
    if isinstance(value, dict):
        found.append((where, value))
        for key, item in value.items():
            found += walk(item, f"{where}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += walk(item, f"{where}/{i}")
    return found


def test_committed_openapi_is_what_the_app_serves(client: TestClient) -> None:
    served = client.get("/openapi.json")
    assert served.headers["content-type"] == "application/json"
    assert served.content == PATH.read_bytes(), "openapi/openapi.json is stale: run `python -m service.openapi_export`"
    assert render() == served.content


def test_properties_are_in_the_models_order(doc: dict[str, Any]) -> None:
    """Generated clients take fields positionally in this order: x before t, as in the models."""
    properties = list(doc["components"]["schemas"]["BackwardRequest"]["properties"])
    assert properties.index("network") < properties.index("x") < properties.index("t")


def test_behind_a_proxy_the_first_server_is_its_root_path() -> None:
    from service.main import create_app

    with TestClient(create_app(), root_path="/gradients") as proxied:
        servers = proxied.get("/openapi.json").json()["servers"]
    assert servers[0]["url"] == "/gradients"


def test_openapi_spec_validator_accepts_the_committed_file(doc: dict[str, Any]) -> None:
    validate(doc)


@pytest.mark.slow  # installs the pinned npm tools on first use
def test_redocly_recommended_rules_find_no_error(tmp_path: Any) -> None:
    tools = node_tools()
    report = tmp_path / "lint.json"
    command = [str(tools / "redocly"), "lint", str(PATH), "--config", str(CLIENTS / "redocly.yaml"), "--format", "json"]
    with report.open("w") as out:
        run = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, text=True, timeout=300, env=env(), check=False)
    problems = json.loads(report.read_text())["problems"]
    errors = [p for p in problems if p["severity"] == "error"]
    warnings = {(p["ruleId"], p["location"][0]["pointer"]) for p in problems if p["severity"] == "warn"}
    assert errors == [], json.dumps(errors, indent=2)
    assert warnings == EXPECTED_LINT_WARNINGS
    assert run.returncode == 0, run.stderr


def test_every_computing_route_declares_body_example_and_errors(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for path in ("/v1/forward", "/v1/backward", "/v1/train-step"):
        op = doc["paths"][path]["post"]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        model = schemas[ref.rsplit("/", 1)[1]]
        assert model["examples"][0]["network"]["layers"][0]["weights"] == [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]
        assert {"200", "400", "401", "413", "415", "422", "503", "504"} <= op["responses"].keys()
        assert "application/problem+json" in op["responses"]["422"]["content"]


def test_api_keys_are_declared_and_optional(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "description": schemes["bearer"]["description"]}
    assert (schemes["api_key"]["in"], schemes["api_key"]["name"]) == ("header", "X-API-Key")
    assert all("GRADIENT_API_KEYS" in s["description"] for s in schemes.values())
    assert doc["security"] == [{"bearer": []}, {"api_key": []}, {}]  # {}: a server without keys needs none
    for path, item in doc["paths"].items():
        for op in item.values():
            if not path.startswith("/v1/"):  # probes, metrics, docs: open
                assert op["security"] == []
            else:
                assert "security" not in op
                assert "401" in op["responses"], path  # what a server with keys answers without one


def test_every_response_declares_its_headers(doc: dict[str, Any]) -> None:
    for path, item in doc["paths"].items():
        for op in item.values():
            for status, response in op["responses"].items():
                assert response["headers"]["X-Request-ID"] == {"$ref": "#/components/headers/X-Request-ID"}, (path, status)
                if status == "503" and path != "/readyz":
                    assert "Retry-After" in response["headers"]
                if status == "401":
                    assert "WWW-Authenticate" in response["headers"]


def test_document_has_servers_license_and_tags(doc: dict[str, Any]) -> None:
    assert doc["servers"][0]["url"] == "/"
    assert doc["info"]["license"] == {"name": "MIT", "identifier": "MIT"}
    declared = {tag["name"] for tag in doc["tags"]}
    used = {tag for item in doc["paths"].values() for op in item.values() for tag in op["tags"]}
    assert used == declared
    assert doc["paths"]["/v1/train-step"]["post"]["tags"] == doc["paths"]["/v1/train"]["post"]["tags"] == ["training"]


def test_every_schema_and_property_is_described(doc: dict[str, Any]) -> None:
    for name, schema in doc["components"]["schemas"].items():
        assert schema.get("description"), name
        for prop, value in schema.get("properties", {}).items():
            assert value.get("description"), f"{name}.{prop}"


def test_every_enum_is_one_named_component(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for enum in ENUMS:
        assert "enum" in schemas[enum.__name__]
    enums = [(where, node["enum"]) for where, node in walk(schemas) if "enum" in node]
    inline = [(where, values) for where, values in enums if where.count("/") > 1]
    # the one inline enum: Health's status, used by one property only
    assert inline == [("#/Health/properties/status", ["ok", "draining", "unavailable"])]
    assert len({tuple(sorted(values)) for _, values in enums}) == len(enums)  # no enum twice


def test_one_schema_for_what_is_sent_and_returned(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert [name for name in schemas if name.endswith(("-Input", "-Output"))] == []
    for name in ("LayerIn", "LayerOut", "NetworkIn", "NetworkOut", "SlotIn", "SlotOut", "OptimizerStateIn", "OptimizerStateOut"):
        assert name not in schemas
    network = {"$ref": "#/components/schemas/Network"}
    state = {"$ref": "#/components/schemas/OptimizerState"}
    for request, response in (("TrainStepRequest", "TrainStepResponse"), ("TrainRequest", "TrainResponse")):
        assert {k: v for k, v in schemas[response]["properties"]["network"].items() if k != "description"} == network
        assert {k: v for k, v in schemas[request]["properties"]["network"].items() if k != "description"} == network
        assert {k: v for k, v in schemas[response]["properties"]["optimizer_state"].items() if k != "description"} == state
    assert schemas["InitResponse"]["properties"]["network"]["$ref"] == network["$ref"]
    activation = schemas["Layer"]["properties"]["activation"]["oneOf"]
    assert activation == [{"$ref": "#/components/schemas/ActivationName"}, {"$ref": "#/components/schemas/ActivationObject"}]
    assert schemas["OptimizerState"]["properties"]["slots"]["propertyNames"] == {"$ref": "#/components/schemas/SlotName"}


def test_no_property_has_a_default_keyword_and_each_default_is_described(doc: dict[str, Any]) -> None:
    """openapi-typescript makes a property with `default` required; the default is in the description instead."""
    schemas = doc["components"]["schemas"]
    assert [where for where, node in walk(schemas) if "default" in node and not where.endswith("/properties")] == []
    assert schemas["BackwardRequest"]["properties"]["dtype"]["description"].endswith("Default: `float64`.")
    assert schemas["Adam"]["properties"]["betas"]["description"].endswith("Default: `[0.9, 0.999]`.")
    assert "t" in schemas["BackwardRequest"]["required"]
    assert "dtype" not in schemas["BackwardRequest"]["required"]


def test_null_only_where_it_is_accepted(doc: dict[str, Any]) -> None:
    """Null is in the document where a request may send it, or a response sends it (a catalog entry without a Keras
    difference, a parameter without a default); a response field that may be left out is absent, never null."""
    nullable = sorted(
        where for where, node in walk(doc["components"]["schemas"]) if {"type": "null"} in node.get("anyOf", []) + node.get("oneOf", [])
    )
    assert nullable == [
        "#/Adagrad/properties/clip_norm",
        "#/Adagrad/properties/clip_value",
        "#/Adam/properties/clip_norm",
        "#/Adam/properties/clip_value",
        "#/AdamW/properties/clip_norm",
        "#/AdamW/properties/clip_value",
        "#/CatalogEntryOut/properties/keras_difference",
        "#/DiagramRequest/properties/highlight",
        "#/DiagramRequest/properties/show",
        "#/DiagramRequest/properties/t",
        "#/DiagramRequest/properties/width",
        "#/ExplainRequest/properties/layers",
        "#/ExplainRequest/properties/optimizer",
        "#/ExplainRequest/properties/optimizer_state",
        "#/ExplainRequest/properties/points",
        "#/ExplainRequest/properties/quantities",
        "#/ExplainResponse/properties/rendered",  # null for render none
        "#/HighlightIn/properties/layer",
        "#/InitRequest/properties/bias_initializer",
        "#/Layer/properties/bias",
        "#/ParameterOut/properties/default",
        "#/RMSprop/properties/clip_norm",
        "#/RMSprop/properties/clip_value",
        "#/SGD/properties/clip_norm",
        "#/SGD/properties/clip_value",
        "#/Slot/properties/bias",
        "#/TrainRequest/properties/batch_size",
        "#/TrainRequest/properties/optimizer_state",
        "#/TrainRequest/properties/regularization",
        "#/TrainStepRequest/properties/optimizer_state",
        "#/TrainStepRequest/properties/regularization",
        "#/TrainingJob/properties/expires",
        "#/TrainingJob/properties/finished",
        "#/TrainingJob/properties/loss",
        "#/TrainingJob/properties/problem",
        "#/TrainingJob/properties/started",
        "#/TrainingJob/properties/waiting",
        "#/TrainingList/properties/next",
        "#/TrainingRequest/properties/batch_size",
        "#/TrainingRequest/properties/dataset",
        "#/TrainingRequest/properties/optimizer_state",
        "#/TrainingRequest/properties/regularization",
        "#/TrainingRequest/properties/t",
        "#/TrainingRequest/properties/time_limit_seconds",
        "#/TrainingRequest/properties/x",
    ]  # a job's times, loss, waiting and problem are null until known; the last page has no next; a job request takes a dataset or x and t


def test_problem_members_are_all_required(doc: dict[str, Any]) -> None:
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == set(problem["properties"]) == {"type", "title", "status", "detail", "errors", "errors_omitted"}


def test_probes_and_the_stream_have_schemas(doc: dict[str, Any]) -> None:
    for path in ("/livez", "/readyz"):
        assert doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Health"
        }
    train = doc["paths"]["/v1/train"]["post"]["responses"]["200"]["content"]
    assert list(train) == ["application/json"]  # the default answer; generators read it
    stream = doc["paths"]["/v1/train/stream"]["post"]
    assert list(stream["responses"]["200"]["content"]) == ["application/x-ndjson"]
    assert '{"event":"epoch","epoch":1,"epochs":2,' in stream["description"]
    assert '{"event":"result",' in stream["description"]
