"""Live runs of strategies: the ML example loads its model by MODEL_ID, refuses altered model bytes on that run
only, and an action a strategy asked for but the rules dropped is written on the execution with its reason."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from backtests.models import ModelArtifact
from backtests.services.artifacts import artifact_train
from framework.pystrategy.artifacts import content_hash
from strategies.ml_direction import FEATURES
from tests.backtests.conftest import BARS, T0
from tests.trading.execution.support import NOW, _account, _instances
from trading.models import Execution, ExecutionStatus, Order, OrderStatus, StrategyInstance
from trading.services.execution import execution_bar_close
from trading.services.orders.dispatch import orders_dispatch

pytest.importorskip("sklearn")
ML_DIRECTION = 1200
LAST_OPEN = datetime.fromtimestamp(T0 + (BARS - 1) * 60, tz=UTC)  # the newest stored bar


def constant_model(eurusd, up: int) -> ModelArtifact:
    """A real scikit-learn classifier that always says up (1) or down (0), stored as the platform stores one."""
    from sklearn.dummy import DummyClassifier

    x = np.zeros((2, len(FEATURES)))
    model = DummyClassifier(strategy="constant", constant=up).fit(x, [0, 1])
    payload = pickle.dumps({"model": model, "features": FEATURES}, protocol=5)
    start = datetime.fromtimestamp(T0, tz=UTC)
    return ModelArtifact.objects.create(
        strategy_id=ML_DIRECTION,
        instrument=eurusd,
        timeframe=1,
        train_start=start,
        train_end=start,
        bars=2,
        sha256=content_hash(payload),
        payload=payload,
    )


def ml_instance(paper_account, eurusd, instance_id: int, model_id: int = 0) -> StrategyInstance:
    return StrategyInstance.objects.create(
        instance_id=instance_id,
        name=f"ml {instance_id}",
        account=paper_account,
        instrument=eurusd,
        strategy_id=ML_DIRECTION,
        timeframe=1,
        parameters={"MODEL_ID": model_id, "TREES": 8, "MAX_DEPTH": 3, "SEED": 5, "THRESHOLD": 0.5},
        max_open_orders=1,
    )


def opens(execution: Execution) -> list[str]:
    return [s["type"] for s in execution.signals if s.get("action") == "open"]


@pytest.mark.django_db(transaction=True)
def test_live_ml_instances_load_their_model_by_id_and_an_altered_model_fails_only_its_own_run(
    paper_account, eurusd, stored_bars, settings
):
    settings.BAR_WAIT_SECONDS = 0
    up, down = constant_model(eurusd, 1), constant_model(eurusd, 0)
    trained_on = ml_instance(paper_account, eurusd, 740)
    trained = artifact_train(
        instance=trained_on,
        start=datetime.fromtimestamp(T0, tz=UTC),
        end=datetime.fromtimestamp(T0 + 2000 * 60, tz=UTC),
    )
    StrategyInstance.objects.filter(pk=trained_on.pk).update(
        parameters={**trained_on.parameters, "MODEL_ID": trained.pk}
    )
    altered = constant_model(eurusd, 1)
    payload = bytearray(altered.payload)
    payload[len(payload) // 2] ^= 0x01  # one bit flipped in storage: the recorded SHA-256 no longer matches
    ModelArtifact.objects.filter(pk=altered.pk).update(payload=bytes(payload))
    buyer = ml_instance(paper_account, eurusd, 741, up.pk)
    seller = ml_instance(paper_account, eurusd, 742, down.pk)
    refused = ml_instance(paper_account, eurusd, 743, altered.pk)

    outcomes = {
        o.instance_id: o.status
        for o in execution_bar_close(account_id=paper_account.pk, timeframe=1, now=LAST_OPEN + timedelta(minutes=1))
    }
    runs = {e.instance_id: e for e in Execution.objects.all()}

    assert outcomes == {740: "ran", 741: "ran", 742: "ran", 743: "failed"}
    assert opens(runs[741]) == ["BUY"] and opens(runs[742]) == ["SELL"]  # each followed the model it names
    assert len(opens(runs[740])) == 1 and runs[740].status == ExecutionStatus.SUCCESS
    bad = runs[refused.instance_id]
    assert bad.status == ExecutionStatus.FAILED
    assert f"model {altered.pk}: its bytes do not match its SHA-256 {altered.sha256}" in bad.error
    assert {runs[i].status for i in (740, 741, 742)} == {ExecutionStatus.SUCCESS}
    assert not Order.objects.filter(instance=refused).exists()
    assert Order.objects.filter(instance__in=[trained_on, buyer, seller]).count() == 3


def _paper_order(instance, *, side: str, order_type: str = "market", price: str | None = None) -> Order:
    order = Order.objects.create(
        client_order_id=f"setup-{instance.instance_id}-{order_type}-{side}",
        account=instance.account,
        instance=instance,
        instrument=instance.instrument,
        intent="open",
        order_type=order_type,
        side=side,
        units=Decimal("1000"),
        price=Decimal(price) if price else None,
        status=OrderStatus.NEW,
    )
    orders_dispatch(account_id=instance.account_id, instrument_id=instance.instrument_id)
    order.refresh_from_db()
    return order


def test_an_entry_dropped_at_max_open_orders_is_written_on_the_execution(alice, market):
    """MAX_OPEN_ORDERS 1, a SELL open and a SELL STOP pending: the up cross closes the SELL, its BUY is dropped."""
    account = _account(alice, "drops")
    (instance,) = _instances(account, market, 1, first_id=100, max_open_orders=1)
    sell = _paper_order(instance, side="sell")
    stop = _paper_order(instance, side="sell", order_type="stop", price="1.00000")
    assert (sell.status, stop.status) == (OrderStatus.FILLED, OrderStatus.PENDING)

    (outcome,) = execution_bar_close(account_id=account.pk, timeframe=1, now=NOW)
    execution = Execution.objects.get(instance=instance)
    placed = Order.objects.filter(instance=instance).exclude(pk__in=[sell.pk, stop.pk])

    assert outcome.status == "ran" and execution.status == ExecutionStatus.SUCCESS
    assert [(o.intent, o.side) for o in placed] == [("close", "sell")]
    notes = [s["note"] for s in execution.signals if "note" in s]
    assert "open BUY dropped (max_open_orders): MAX_OPEN_ORDERS open orders already" in notes
    assert [s["action"] for s in execution.signals if "action" in s] == ["close"]
