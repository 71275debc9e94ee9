"""A job's checkpoint: θ, the optimizer state, the shuffle RNG's position and the step, as one ``.npz`` (no pickles).

Arrays ``theta_<i>`` (θ in :mod:`service.engine.parameters` order) and ``slot_<name>_<i>``
keep their dtype bit for bit; ``meta`` is a JSON document: the step, the
:class:`~service.engine.training.Position` (epoch, batch, numpy's ``bit_generator.state``),
the optimizer's step count and the compute seconds spent so far.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.engine.network import Layer
from service.engine.optimizers import OptimizerState
from service.engine.parameters import parameters, with_parameters
from service.engine.training import Position, Resume


@dataclass(frozen=True)
class Saved:
    """Where a job stood after ``step`` steps (resume the run with ``resume``), and the compute seconds spent until then."""

    step: int
    resume: Resume
    compute_seconds: float


def dump(step: int, resume: Resume, compute_seconds: float) -> bytes:
    """The checkpoint's bytes."""
    arrays: dict[str, Any] = {f"theta_{i}": p for i, p in enumerate(parameters(resume.layers))}
    for name, slot in resume.state.slots.items():
        arrays.update({f"slot_{name}_{i}": a for i, a in enumerate(slot)})
    position = resume.position
    meta = {
        "step": step,
        "epoch": position.epoch,
        "batch": position.batch,
        "rng": position.rng,
        "optimizer_step": resume.state.step,
        "slots": {name: len(slot) for name, slot in resume.state.slots.items()},
        "compute_seconds": compute_seconds,
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def load(data: bytes, layers: Sequence[Layer]) -> Saved:
    """The checkpoint in ``data``, its θ put into ``layers`` (the job's network, for its shapes and activations)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        meta = json.loads(npz["meta"].tobytes())
        theta = [npz[f"theta_{i}"] for i in range(len(parameters(layers)))]
        slots = {name: [npz[f"slot_{name}_{i}"] for i in range(count)] for name, count in meta["slots"].items()}
    position = Position(meta["epoch"], meta["batch"], meta["rng"])
    resume = Resume(with_parameters(layers, theta), OptimizerState(meta["optimizer_step"], slots), position)
    return Saved(meta["step"], resume, meta["compute_seconds"])
