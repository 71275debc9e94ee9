"""A Python client for the gradient service: NumPy arrays in, NumPy arrays out.

    import numpy as np
    from service.client import Client, Layer

    network = [Layer(np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]), activation="tanh"),
               Layer(np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]))]
    with Client("http://127.0.0.1:8000") as client:
        result = client.backward(network, x=[1.0, 2.0], t=[1.0, 1.15])
    result.layers[1].grad_weights  # ∂E/∂W⁽²⁾, a 2 × 3 ndarray

:class:`AsyncClient` has the same methods as coroutines. An error answer raises
:class:`ProblemError` with the problem+json fields (``status``, ``type``, ``title``,
``detail``, ``errors``); a network failure raises httpx's own exceptions.

Every endpoint is one :class:`Call` builder (``calls.py``: method, path, body, how to read
the answer into a dataclass of ``results.py``); both clients (``clients.py``) run it through
one ``send``. A new endpoint is a builder plus one line in each client:
``train = _sync(calls.train)`` and ``train = _async(calls.train)``. An NDJSON answer is a
:class:`StreamCall` (the same request, read line by line) run by ``stream``: a generator in
:class:`Client`, an async iterator in :class:`AsyncClient`. ``network.py`` holds :class:`Layer`,
``errors.py`` :class:`ProblemError`. ``frameworks.py`` converts an ``nn.Sequential`` or a Keras model
(``from service.client.frameworks import from_torch, from_keras``) into a list of :class:`Layer`; they
are not request builders, so they are not re-exported here.
"""

from service.client.calls import (
    Call,
    Dtype,
    LossSpec,
    Reduction,
    StreamCall,
    activations,
    backward,
    cancel_training,
    diagram,
    explain,
    export_network,
    forward,
    gradcheck,
    import_network,
    init_network,
    initializers,
    limits,
    livez,
    losses,
    metrics,
    optimizers,
    readyz,
    start_training,
    train,
    train_step,
    train_stream,
    training,
    training_events,
    training_result,
    upload_dataset,
)
from service.client.clients import DEFAULT_URL, NDJSON, AsyncClient, Client
from service.client.errors import ProblemError, ProblemItem
from service.client.network import Array, Layer, Network
from service.client.results import (
    BackwardLayer,
    BackwardResult,
    CatalogEntry,
    Comparison,
    Dataset,
    EpochEvent,
    ExplainResult,
    ExplainStep,
    ForwardLayer,
    ForwardResult,
    GradcheckResult,
    ImportResult,
    LayerCheck,
    Limits,
    Parameter,
    StepEvent,
    TrainingJob,
    TrainingPage,
    TrainResult,
    TrainStepResult,
)

__all__ = [
    "DEFAULT_URL",
    "NDJSON",
    "Array",
    "AsyncClient",
    "BackwardLayer",
    "BackwardResult",
    "Call",
    "CatalogEntry",
    "Client",
    "Comparison",
    "Dataset",
    "Dtype",
    "EpochEvent",
    "ExplainResult",
    "ExplainStep",
    "ForwardLayer",
    "ForwardResult",
    "GradcheckResult",
    "ImportResult",
    "Layer",
    "LayerCheck",
    "Limits",
    "LossSpec",
    "Network",
    "Parameter",
    "ProblemError",
    "ProblemItem",
    "Reduction",
    "StepEvent",
    "StreamCall",
    "TrainResult",
    "TrainStepResult",
    "TrainingJob",
    "TrainingPage",
    "activations",
    "backward",
    "cancel_training",
    "diagram",
    "explain",
    "export_network",
    "forward",
    "gradcheck",
    "import_network",
    "init_network",
    "initializers",
    "limits",
    "livez",
    "losses",
    "metrics",
    "optimizers",
    "readyz",
    "start_training",
    "train",
    "train_step",
    "train_stream",
    "training",
    "training_events",
    "training_result",
    "upload_dataset",
]
