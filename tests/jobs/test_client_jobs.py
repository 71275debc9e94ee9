"""The Python client's training-job methods against a real deployment (both backends): upload, start, wait, events, result."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from service.client import Client, Layer, ProblemError
from tests.jobs.conftest import Deployment

pytestmark = pytest.mark.slow  # the quick loop, `pytest -m "not slow"`, leaves it out


def test_upload_start_wait_events_and_result(deployment: Deployment) -> None:
    """A job started by the client computes what Client.train computes for the same request, bit for bit."""
    rng = np.random.default_rng(14)
    x, t = rng.standard_normal((64, 4)).astype(np.float32), rng.standard_normal((64, 2)).astype(np.float32)
    network = [Layer(rng.standard_normal((8, 4)) * 0.3, np.zeros(8), "tanh"), Layer(rng.standard_normal((2, 8)) * 0.3, None)]
    options = {"optimizer": {"name": "adam", "learning_rate": 0.01}, "epochs": 3, "batch_size": 16, "seed": 3, "dtype": "float32"}
    with Client(deployment.url) as client:
        dataset = client.upload_dataset(x, t)
        assert client.upload_dataset(x, t).id == dataset.id  # the same data is the same dataset
        assert (dataset.x_shape, dataset.t_shape) == ((64, 4), (64, 2))
        key = str(uuid.uuid4())
        job = client.start_training(network, dataset=dataset, idempotency_key=key, **options)
        assert client.start_training(network, dataset=dataset, idempotency_key=key, **options).id == job.id
        done = client.wait(job, timeout=60)
        assert done.state == "succeeded", done
        assert (done.step, done.total) == (12, 12)
        steps = [e.step for e in client.training_events(job) if e.event == "step"]
        assert steps == list(range(1, 13))
        result = client.result(job)
        reference = client.train(network, x, t, **options)
        np.testing.assert_array_equal(result.losses, reference.losses)  # bit for bit: the same steps
        for got, want in zip(result.network, reference.network, strict=True):
            np.testing.assert_array_equal(got.weights, want.weights)
        page = client.trainings(state="succeeded", limit=1)
        assert len(page.jobs) == 1
        assert page.jobs[0].waiting is None
        assert page.jobs[0].state == "succeeded"
        listed: list[str] = []
        cursor = None
        while True:  # every page, through the cursor
            page = client.trainings(limit=2, cursor=cursor)
            listed += [j.id for j in page.jobs]
            if page.next is None:
                break
            cursor = page.next
        assert job.id in listed
        assert len(listed) == len(set(listed))


def test_a_result_asked_of_an_unknown_job_is_a_404_problem(deployment: Deployment) -> None:
    with Client(deployment.url) as client, pytest.raises(ProblemError) as caught:
        client.result("no-such-job")
    assert caught.value.status == 404
