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

#: A small classifier: 2 inputs, a ReLU hidden layer of 3 with biases, a softmax output over 3 classes.
CLASSIFIER_NETWORK: dict[str, Any] = {
    "layers": [
        {"weights": [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]], "bias": [0.0, 0.1, -0.1], "activation": "relu"},
        {"weights": [[0.5, -0.2, 0.3], [-0.6, 0.4, 0.1], [0.2, 0.3, -0.5]], "bias": [0.05, 0.0, -0.05], "activation": "softmax"},
    ]
}

#: A batch of two points (one row each) and their one-hot classes.
CLASSIFICATION_FORWARD_EXAMPLE: dict[str, Any] = {"network": CLASSIFIER_NETWORK, "x": [[1.0, 2.0], [-1.0, 0.5]]}

CLASSIFICATION_BACKWARD_EXAMPLE: dict[str, Any] = {
    **CLASSIFICATION_FORWARD_EXAMPLE,
    "t": [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
    "loss": "categorical_cross_entropy",
    "reduction": "mean",
    "dtype": "float64",
}

CLASSIFICATION_TRAIN_STEP_EXAMPLE: dict[str, Any] = {
    **CLASSIFICATION_BACKWARD_EXAMPLE,
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "optimizer_state": None,
}


def named(primer: dict[str, Any], classification: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """OpenAPI ``examples`` for a request body: the primer's first (the docs page prefills it), then the classifier."""
    return {
        "primer": {"summary": "The primer's 2-3-2 network (Figure 6): tanh, linear, ½Σ(y−t)²", "value": primer},
        "classification": {
            "summary": "A 2-3-3 classifier on a batch of 2: ReLU, softmax, categorical cross-entropy (δ⁽ᴸ⁾ = y − t)",
            "value": classification,
        },
    }


FORWARD_EXAMPLES = named(FORWARD_EXAMPLE, CLASSIFICATION_FORWARD_EXAMPLE)
BACKWARD_EXAMPLES = named(BACKWARD_EXAMPLE, CLASSIFICATION_BACKWARD_EXAMPLE)
TRAIN_STEP_EXAMPLES = named(TRAIN_STEP_EXAMPLE, CLASSIFICATION_TRAIN_STEP_EXAMPLE)
