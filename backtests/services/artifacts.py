"""Model artifacts of trainable Python strategies: training on a range of stored bars, storing, loading.

``artifact_train`` reads the instance's primary bars with open times in [start, end) (nothing at or after
``end`` is read), calls the strategy's ``train`` and stores the payload with the training window, the
parameters, the library versions and its SHA-256. The walk-forward trains one per window on its in-sample
range, so the out-of-sample bars a window predicts were never seen by its model.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from backtests.models import ModelArtifact
from framework import CRATES_DTYPE
from framework.pystrategy.artifacts import Artifact, content_hash, library_versions
from framework.pystrategy.registry import python_strategy_class
from trading.bars.read import bars_as_arrays
from trading.models import StrategyInstance


class TrainingError(Exception):
    """The strategy cannot be trained on this range (not trainable, too few bars, or train failed)."""


class DatabaseArtifactStore:
    """framework.pystrategy.artifacts store over ModelArtifact rows."""

    def load(self, artifact_id: int) -> Artifact | None:
        row = ModelArtifact.objects.filter(pk=artifact_id).first()
        if row is None:
            return None
        return Artifact(
            id=row.pk,
            sha256=row.sha256,
            payload=bytes(row.payload),
            metadata={
                "strategy_id": row.strategy_id,
                "train_start": row.train_start.isoformat(),
                "train_end": row.train_end.isoformat(),
                "parameters": row.parameters,
                "library_versions": row.library_versions,
            },
        )


def training_bars(*, instance: StrategyInstance, start: datetime, end: datetime) -> np.ndarray:
    """The primary bars with open times in [start, end) as CRATES, oldest first."""
    arrays = bars_as_arrays(
        instrument_id=instance.instrument_id,
        timeframe=instance.timeframe,
        start=start,
        end=end - timedelta(seconds=1),
    )
    bars = np.zeros(len(arrays.time), dtype=CRATES_DTYPE)
    for name in ("open", "high", "low", "close", "volume"):
        bars[name] = getattr(arrays, name)
    bars["time"] = arrays.time.astype("datetime64[s]").astype(np.int64)
    return bars


def artifact_train(
    *, instance: StrategyInstance, start: datetime, end: datetime, parameters: dict | None = None
) -> ModelArtifact:
    """Train the instance's strategy on its bars in [start, end) and store the model."""
    cls = python_strategy_class(instance.strategy_id)
    train = getattr(cls, "train", None)
    if cls is None or train is None:
        raise TrainingError(f"strategy {instance.strategy_id} is not a trainable Python strategy")
    params = {p.name: p.default for p in cls.params}
    params.update(instance.parameters or {})
    params.update(parameters or {})
    bars = training_bars(instance=instance, start=start, end=end)
    if len(bars) and int(bars["time"][-1]) >= int(end.timestamp()):  # the read above must never reach `end`
        raise TrainingError("training bars reach the end of the training range")
    try:
        payload = train(bars, params)
    except Exception as e:
        raise TrainingError(f"{cls.name}.train on {len(bars)} bars failed: {type(e).__name__}: {e}") from e
    if not isinstance(payload, bytes):
        raise TrainingError(f"{cls.name}.train returned {type(payload).__name__}, not bytes")
    return ModelArtifact.objects.create(
        strategy_id=instance.strategy_id,
        instrument=instance.instrument,
        timeframe=instance.timeframe,
        train_start=datetime.fromtimestamp(int(bars["time"][0]), tz=UTC) if len(bars) else start,
        train_end=datetime.fromtimestamp(int(bars["time"][-1]), tz=UTC) if len(bars) else start,
        bars=len(bars),
        parameters={k: v for k, v in params.items() if k != "MODEL_ID"},
        library_versions=library_versions(*getattr(cls, "libraries", ())),
        sha256=content_hash(payload),
        payload=payload,
    )
