"""The primer's worked example (Figure 6), prefilled on every route of the docs page."""

from typing import Any

#: The 2-3-2 network of the primer: tanh hidden layer, linear output, no biases.
PRIMER_NETWORK: dict[str, Any] = {
    "layers": [
        {"weights": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "activation": "tanh"},
        {"weights": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], "activation": "linear"},
    ]
}

FORWARD_EXAMPLE: dict[str, Any] = {"network": PRIMER_NETWORK, "x": [1.0, 2.0]}

BACKWARD_EXAMPLE: dict[str, Any] = {
    **FORWARD_EXAMPLE,
    "t": [1.0, 1.15],
    "loss": "half_sse",
    "reduction": "sum",
    "dtype": "float64",
}

TRAIN_STEP_EXAMPLE: dict[str, Any] = {
    **BACKWARD_EXAMPLE,
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "optimizer_state": None,
}
