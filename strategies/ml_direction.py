"""ML_DIRECTION (1200): a scikit-learn classifier of the next bar's direction, trained per walk-forward window.

Features of a closed bar (each from that bar and earlier ones only): its 1- and 5-bar returns, RSI(14),
the MACD(12, 26, 9) histogram and ATR(14) relative to the close, and the Stochastic(14, 3, 3) %K. The label
of a bar is whether the next bar closes higher; ``train`` fits a seeded random forest on the bars it is given
(the platform gives it the in-sample range only) and returns the pickled model. At a bar close the model's
probability of an up bar above THRESHOLD buys (closing SELLs), below 1 - THRESHOLD sells; ATR stop and target.
Live instances name their model with MODEL_ID (backtests.models.ModelArtifact).
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Protocol

import numpy as np

from framework.errors import InvalidParameterError
from framework.pystrategy import Param, Strategy, StrategyContext
from framework.pystrategy.artifacts import load_artifact
from framework.pystrategy.indicators import atr, macd, rsi, stochastic
from framework.types import OrderType
from framework.warmup import atr_bars, macd_bars, rsi_bars

FEATURES = ("return_1", "return_5", "rsi_14", "macd_hist_rel", "stoch_k", "atr_rel")


def features(bars: np.ndarray) -> np.ndarray:
    """One feature row per bar of ``bars`` (closed bars, oldest first); NaN rows before the indicators exist.

    Every row depends on its bar and earlier bars only (tests/framework/test_framework_ml.py holds it to that).
    """
    close, high, low = bars["close"], bars["high"], bars["low"]
    n = len(close)
    out = np.full((n, len(FEATURES)), np.nan)
    out[1:, 0] = close[1:] / close[:-1] - 1.0
    out[5:, 1] = close[5:] / close[:-5] - 1.0
    out[:, 2] = rsi(close, 14)
    out[:, 3] = macd(close, 12, 26, 9)[2] / close
    out[:, 4] = stochastic(high, low, close, 14, 3, 3)[0]
    out[:, 5] = atr(high, low, close, 14) / close
    return out


class _Classifier(Protocol):
    """What the strategy asks of its trained model (a scikit-learn classifier)."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...


class MlDirection(Strategy):
    id = 1200
    name = "ML_DIRECTION"
    description = (
        "scikit-learn random forest on returns, RSI, MACD, Stochastic and ATR; trained per walk-forward window."
    )
    libraries = ("scikit-learn", "scipy", "joblib")
    time_limit = 5.0
    params = (
        Param("MODEL_ID", 0, 0, 2**31 - 1, integer=True, help="Trained model (ModelArtifact id); 0 = none yet."),
        Param("THRESHOLD", 0.55, 0.5, 0.99, help="Buy above this probability of an up bar, sell below 1 - it."),
        Param("TREES", 25, 1, 500, integer=True, help="Trees of the random forest (training)."),
        Param("MAX_DEPTH", 3, 1, 20, integer=True, help="Depth of each tree (training)."),
        Param("SEED", 1, 0, 2**31 - 1, integer=True, help="Random seed of the training: same bars, same model."),
        Param("SL_ATR_MULTIPLIER", 2.0, 0.0, 100.0, help="Stop-loss distance in ATRs.", index=60),
        Param("TP_ATR_MULTIPLIER", 3.0, 0.0, 100.0, help="Take-profit distance in ATRs.", index=61),
        Param("ATR_AVERAGING_PERIOD", 14, 1, 1000, integer=True, help="ATR period of the stops.", index=62),
    )

    @classmethod
    def closed_bars(cls, p: Mapping[str, float]) -> dict[int, int]:
        # the features' settled values, and a window the numpy features are computed over
        return {0: max(macd_bars(12, 26, 9), rsi_bars(14), atr_bars(int(p["ATR_AVERAGING_PERIOD"])), 64)}

    @classmethod
    def minimum_closed_bars(cls, p: Mapping[str, float]) -> dict[int, int]:
        return {0: 40}

    @classmethod
    def train(cls, bars: np.ndarray, p: Mapping[str, float]) -> bytes:
        """Fit on ``bars`` alone (label of bar j: close[j + 1] > close[j]); the pickled model."""
        from sklearn.ensemble import RandomForestClassifier

        x = features(bars)
        y = (bars["close"][1:] > bars["close"][:-1]).astype(np.int8)
        x = x[:-1]  # the last bar has no next bar in the range: no label
        keep = ~np.isnan(x).any(axis=1)
        x, y = x[keep], y[keep]
        if len(y) < 50 or len(np.unique(y)) < 2:
            raise ValueError(f"{len(y)} labelled bars with {len(np.unique(y))} classes; 50 and 2 are needed")
        model = RandomForestClassifier(
            n_estimators=int(p["TREES"]), max_depth=int(p["MAX_DEPTH"]), random_state=int(p["SEED"]), n_jobs=1
        )
        model.fit(x, y)
        return pickle.dumps({"model": model, "features": FEATURES}, protocol=5)

    def __init__(self, params: Mapping[str, float]) -> None:
        super().__init__(params)
        self._model: _Classifier | None = None

    def model(self) -> _Classifier:
        """The model of MODEL_ID (loaded once per object)."""
        if self._model is None:
            model_id = int(self.p["MODEL_ID"])
            if model_id == 0:
                raise InvalidParameterError("MODEL_ID is 0: train a model (a walk-forward does) and set its id")
            stored = pickle.loads(load_artifact(model_id).payload)  # noqa: S301 - written by the platform, hash-checked
            if tuple(stored["features"]) != FEATURES:
                raise InvalidParameterError(f"model {model_id} was trained on other features: {stored['features']}")
            self._model = stored["model"]
        return self._model

    def probability_up(self, bars: np.ndarray) -> float:
        """The model's probability that the bar after the last of ``bars`` (closed bars) closes higher."""
        row = features(bars)[-1:]
        if np.isnan(row).any():
            return 0.5
        return float(self.model().predict_proba(row)[0][1])

    def on_bar(self, ctx: StrategyContext) -> None:
        p = self.p
        up = self.probability_up(ctx.bars(0)[:-1])
        threshold = p["THRESHOLD"]
        side = OrderType.BUY if up > threshold else OrderType.SELL if up < 1.0 - threshold else None
        if side is None:
            return
        other = OrderType.SELL if side == OrderType.BUY else OrderType.BUY
        if ctx.open_count(other) > 0:
            ctx.close(other)
        if ctx.open_count(side) == 0:
            atr_value = ctx.atr(int(p["ATR_AVERAGING_PERIOD"]))
            ctx.open_market(side, p["SL_ATR_MULTIPLIER"] * atr_value, p["TP_ATR_MULTIPLIER"] * atr_value, atr_value)
