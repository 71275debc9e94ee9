"""Datasets and training jobs on the wire: POST /v1/trainings takes what /v1/train takes, with a stored dataset's id in place of x and t."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.engine.arrays import Array
from service.errors import InvalidRequest, invalid, pointer
from service.limits import check_job
from service.schemas.names import JobState
from service.schemas.problem import Problem
from service.schemas.tensor import Points
from service.schemas.training import TRAIN_EXAMPLE, TrainInputs, TrainRequest

TRAINING_EXAMPLE: dict[str, Any] = {**TRAIN_EXAMPLE, "epochs": 200}


class TrainingRequest(TrainRequest):
    """What /v1/train takes, with ``dataset`` (the id from POST /v1/datasets) in place of x and t, or x and t inline."""

    model_config = ConfigDict(json_schema_extra={"examples": [TRAINING_EXAMPLE]})

    dataset: str | None = Field(None, description="the id of a dataset from POST /v1/datasets; send it or x and t, not both")
    x: Points | None = Field(None, description="inline data, as in /v1/train (stored as a dataset); absent with `dataset`")  # type: ignore[assignment]
    t: Points | None = Field(None, description="inline targets, as in /v1/train; absent with `dataset`")  # type: ignore[assignment]
    time_limit_seconds: float | None = Field(
        None, gt=0, description="compute time the job may take, over all its attempts; at most (and by default) `max_job_seconds`"
    )

    @model_validator(mode="after")
    def _data(self) -> Self:
        inline = self.x is not None or self.t is not None
        if (self.dataset is not None) == inline or (inline and (self.x is None or self.t is None)):
            raise invalid([("", "send either `dataset` (an id from POST /v1/datasets) or both `x` and `t`")])
        return self

    def with_data(self, x: Array, t: Array) -> TrainingRequest:
        """This request with the dataset's arrays as its x and t (their dtypes kept: the engine converts as /v1/train does)."""
        return self.model_copy(update={"x": x, "t": t})

    def _batch_rows(self) -> int:
        assert self.x is not None
        N = self.x.shape[0]
        return int(min(self.batch_size or N, N))

    def _check_steps(self, steps: int) -> None:
        check_job(steps, self.time_limit_seconds or 0, pointer("epochs"), pointer("time_limit_seconds"))

    def to_engine(self) -> TrainInputs:
        """/v1/train's inputs, within the job limits; a dataset's misfit points at ``/dataset``."""
        try:
            return super().to_engine()
        except InvalidRequest as exc:
            if self.dataset is None:
                raise
            moved = [(_on_dataset(p), d if p == _on_dataset(p) else f"the dataset's {p.lstrip('/')} {d}") for p, d in exc.errors]
            raise type(exc)(f"{moved[0][0]}: {moved[0][1]}", moved, exc.omitted) from None


def _on_dataset(where: str) -> str:
    """A pointer into x or t is one into the dataset the request names."""
    return pointer("dataset") if where.split("/")[1:2] in (["x"], ["t"]) else where


class Progress(BaseModel):
    """How far a job has come."""

    step: int = Field(description="steps done")
    total: int = Field(description="steps the job takes: epochs × batches per epoch")
    epoch: int = Field(description="1-based epoch of the last step done (0 before the first)")
    epochs: int = Field(description="epochs the job takes")


class TrainingJob(BaseModel):
    """A training job: its state, progress and latest loss; `problem` if it failed."""

    id: str = Field(description="the job's id (its URL is /v1/trainings/{id})")
    state: JobState = Field(description="where the job is")
    dataset: str = Field(description="the id of the dataset it trains on")
    progress: Progress = Field(description="steps and epochs done, of how many")
    loss: float | None = Field(description="the loss of the last step done (null before the first)")
    waiting: str | None = Field(
        description="why a running job is paused, waiting to go on by itself: `disk full` (its checkpoint or history cannot be "
        "written) or `backend` (the job store is away); null when it is not"
    )
    created: float = Field(description="Unix time")
    started: float | None = Field(description="when a worker first took it up (Unix time; null while queued)")
    finished: float | None = Field(description="when it ended (Unix time; null until then)")
    expires: float | None = Field(description="when a finished job and its result are deleted (Unix time)")
    attempts: int = Field(description="times a worker took the job up (more than 1: it resumed from a checkpoint)")
    problem: Problem | None = Field(description="why it failed (problem+json), for a failed job")
    links: dict[str, str] = Field(description="events, metrics, result, cancel")


class TrainingList(BaseModel):
    """A page of the tenant's training jobs, newest first."""

    jobs: list[TrainingJob] = Field(description="each job as GET /v1/trainings/{id} answers it")
    next: str | None = Field(description="send this as `cursor` for the next page; null on the last page")


class StepEvent(BaseModel):
    """An event of GET /v1/trainings/{id}/events: one per step (SSE `id:` = step)."""

    step: int
    epoch: int
    loss: float


class Metrics(BaseModel):
    """The loss history, downsampled to at most `max_points` (each point: the mean over its stretch of steps)."""

    steps: list[int] = Field(description="the last step of each point's stretch")
    loss: list[float] = Field(description="the mean loss over each point's stretch of steps")
    total_points: int = Field(description="steps recorded")


class TensorInfo(BaseModel):
    """An array as stored: its shape and dtype."""

    shape: list[int] = Field(description="e.g. [N, M] for x")
    dtype: str = Field(description="float32 or float64, as sent")


class DatasetOut(BaseModel):
    """A stored dataset: its id (the sha256 of its content), shapes and dtypes, bytes and creation time."""

    id: str = Field(description="the sha256 of the content: the same data sent twice by one tenant is one dataset")
    x: TensorInfo = Field(description="the inputs, one row per point")
    t: TensorInfo = Field(description="the targets, one row per point (or one class index)")
    bytes: int = Field(description="bytes stored")
    created: float = Field(description="when it was first stored (Unix time)")


class DatasetIn(BaseModel):
    """A dataset sent as JSON: x (one row per point) and t, arrays or binary tensors."""

    model_config = ConfigDict(strict=True, extra="forbid", arbitrary_types_allowed=True)

    x: Points = Field(description="one row per point (N × M⁽¹⁾)")
    t: Points = Field(description="one row per point (N × K⁽ᴸ⁾), or N class indices")
