"""service.client as a package: exported names resolve, builders are methods of both clients, Limits from a newer server."""

from __future__ import annotations

from dataclasses import fields

import pytest

import service.client
from service.client import Limits

LIMITS = {f.name: i + 1 for i, f in enumerate(fields(Limits))}


def test_every_exported_name_resolves_and_every_request_builder_is_a_method_of_both_clients() -> None:
    assert all(hasattr(service.client, name) for name in service.client.__all__)
    builders = [name for name in service.client.__all__ if name.islower() and callable(getattr(service.client, name))]
    assert {"forward", "backward", "train_step", "train", "gradcheck", "init_network", "limits"} <= set(builders)
    for name in builders:
        for client in (service.client.Client, service.client.AsyncClient):
            method = getattr(client, name)
            assert method.__name__ == name
            assert method.__doc__ == getattr(service.client, name).__doc__


def test_limits_ignore_the_limits_a_newer_server_adds() -> None:
    newer = {**LIMITS, "max_future_thing": 7}
    assert Limits.from_json(newer) == Limits(**LIMITS)
    with pytest.raises(TypeError):  # what reading every key would do with the newer server's answer
        Limits(**newer)


def test_limits_still_require_every_limit_they_know() -> None:
    older = {k: v for k, v in LIMITS.items() if k != "max_train_steps"}
    with pytest.raises(KeyError, match="max_train_steps"):
        Limits.from_json(older)
