"""service.client as a package: the public names of the former single module, and Limits from a newer server."""

from __future__ import annotations

from dataclasses import fields

import pytest

import service.client
from service.client import Limits

# Every public name the single-module service/client.py defined (its typing helpers T and P aside).
PUBLIC = [
    "AsyncClient",
    "BackwardLayer",
    "BackwardResult",
    "Call",
    "CatalogEntry",
    "Client",
    "Comparison",
    "DEFAULT_URL",
    "EpochEvent",
    "ForwardLayer",
    "ForwardResult",
    "GradcheckResult",
    "Layer",
    "LayerCheck",
    "Limits",
    "NDJSON",
    "Parameter",
    "ProblemError",
    "ProblemItem",
    "StreamCall",
    "TrainResult",
    "TrainStepResult",
    "Array",
    "Dtype",
    "LossSpec",
    "Network",
    "Reduction",
    "activations",
    "backward",
    "forward",
    "gradcheck",
    "init_network",
    "initializers",
    "limits",
    "livez",
    "losses",
    "metrics",
    "optimizers",
    "readyz",
    "train",
    "train_step",
    "train_stream",
]

LIMITS = {f.name: i + 1 for i, f in enumerate(fields(Limits))}


def test_the_former_module_names_are_all_importable_from_the_package() -> None:
    assert sorted(PUBLIC) == sorted(service.client.__all__)
    assert all(hasattr(service.client, name) for name in PUBLIC)
    assert service.client.Client.train.__name__ == "train"
    assert service.client.Client.train.__doc__ == service.client.train.__doc__


def test_limits_ignore_the_limits_a_newer_server_adds() -> None:
    newer = {**LIMITS, "max_future_thing": 7}
    assert Limits.from_json(newer) == Limits(**LIMITS)
    with pytest.raises(TypeError):  # what reading every key would do with the newer server's answer
        Limits(**newer)


def test_limits_still_require_every_limit_they_know() -> None:
    older = {k: v for k, v in LIMITS.items() if k != "max_train_steps"}
    with pytest.raises(KeyError, match="max_train_steps"):
        Limits.from_json(older)
