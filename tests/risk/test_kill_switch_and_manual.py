"""Kill switch with flatten leaves the paper broker flat with a complete history; manual actions are audited."""

from __future__ import annotations

from decimal import Decimal

from risk_support import BID, T0, open_via_broker

from risk.models import AuditLogEntry, BlockedSignal
from risk.services.guard import intents_check
from risk.services.kill_switch import kill_switch_engage, kill_switch_release
from risk.services.manual import instance_close_all, instance_pause
from trading.models import BrokerAccount, Order, Trade
from trading.services.execution.translate import Intent, Translation
from trading.services.orders.dispatch import orders_dispatch
from trading.venues.paper.ledger import PaperLedger


def _entry(instance):
    return intents_check(
        instance=instance,
        execution=None,
        bid=BID,
        ask=BID + Decimal("0.0001"),
        now=T0,
        translation=Translation([Intent(kind="open", row=0, seq=0, side="buy", units=Decimal(1000))], []),
    )


def _pending(account, instance, client_id: str) -> Order:
    order = Order.objects.create(
        client_order_id=client_id,
        account=account,
        instance=instance,
        instrument=instance.instrument,
        intent="open",
        order_type="limit",
        side="buy",
        units=Decimal(1000),
        price=Decimal("1.09000"),
    )
    orders_dispatch(account_id=account.pk, instrument_id=instance.instrument_id)
    order.refresh_from_db()
    return order


def test_kill_switch_with_flatten_leaves_the_broker_flat_and_the_history_complete(account, inst_a, inst_b, alice):
    trades = [
        open_via_broker(account, inst_a),
        open_via_broker(account, inst_a, side="sell"),
        open_via_broker(account, inst_b, units="3000"),
    ]
    pending = _pending(account, inst_b, "p1")
    unsent = Order.objects.create(
        client_order_id="u1",
        account=account,
        instance=inst_a,
        instrument=inst_a.instrument,
        intent="open",
        order_type="market",
        side="buy",
        units=Decimal(1000),
    )

    kill_switch_engage(account=account, user=alice, source="api", flatten=True, reason="test")

    broker = PaperLedger(BrokerAccount.objects.get(pk=account.pk))
    assert broker.list_open_trades() == [] and broker.list_pending_orders() == []
    for trade in Trade.objects.filter(pk__in=[t.pk for t in trades]):
        assert trade.state == "closed" and trade.close_time is not None and trade.close_price is not None
        assert trade.close_reason != ""
        close = Order.objects.get(trade=trade, intent="close")
        assert close.status == "done" and close.fill_price == trade.close_price
    assert Order.objects.get(pk=pending.pk).status == "cancelled"
    assert Order.objects.get(target=pending, intent="cancel").status == "done"
    assert Order.objects.get(pk=unsent.pk).reject_reason == "kill switch flatten"
    entry = AuditLogEntry.objects.get(action="kill_switch_engage")
    assert entry.user == alice and entry.source == "api"
    assert set(entry.details["flattened"][str(account.pk)]["trades_closed"]) == {str(t.pk) for t in trades}
    assert _entry(inst_a).intents == []  # and no new entries


def test_kill_switch_cancels_entries_at_dispatch_but_lets_exits_go(account, inst_a, alice):
    trade = open_via_broker(account, inst_a)
    kill_switch_engage(account=account, user=alice, source="admin")

    entry = Order.objects.create(
        client_order_id="e1",
        account=account,
        instance=inst_a,
        instrument=inst_a.instrument,
        intent="open",
        order_type="market",
        side="buy",
        units=Decimal(1000),
    )
    close = Order.objects.create(
        client_order_id="c1",
        account=account,
        instance=inst_a,
        instrument=inst_a.instrument,
        intent="close",
        order_type="market",
        side="sell",
        units=trade.current_units,
        trade=trade,
    )
    orders_dispatch(account_id=account.pk, instrument_id=inst_a.instrument_id)

    assert Order.objects.get(pk=entry.pk).reject_reason == "kill switch engaged"
    assert Order.objects.get(pk=close.pk).status == "done"
    assert BlockedSignal.objects.get().order_id == entry.pk


def test_released_kill_switch_lets_entries_through_again(account, inst_a, alice):
    kill_switch_engage(account=None, user=alice, source="dashboard")
    blocked = _entry(inst_a)
    kill_switch_release(account=None, user=alice, source="dashboard")

    assert blocked.intents == [] and len(_entry(inst_a).intents) == 1
    assert list(AuditLogEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        "kill_switch_engage",
        "kill_switch_release",
    ]


def test_close_all_of_an_instance_leaves_other_instances_alone(account, inst_a, inst_b, alice):
    a1, a2, b1 = open_via_broker(account, inst_a), open_via_broker(account, inst_a), open_via_broker(account, inst_b)

    done = instance_close_all(instance=inst_a, user=alice, source="api")

    states = {t.pk: t.state for t in Trade.objects.all()}
    assert states == {a1.pk: "closed", a2.pk: "closed", b1.pk: "open"}
    entry = AuditLogEntry.objects.get()
    assert (entry.action, entry.user, entry.object_id, entry.account_id) == (
        "instance_close_all",
        alice,
        str(inst_a.pk),
        account.pk,
    )
    assert entry.details == done


def test_pause_disables_the_instance_and_keeps_its_trades(account, inst_a, alice):
    trade = open_via_broker(account, inst_a)

    instance_pause(instance=inst_a, user=alice, source="admin")

    inst_a.refresh_from_db()
    assert inst_a.enabled is False
    assert Trade.objects.get(pk=trade.pk).state == "open"
    assert AuditLogEntry.objects.get().action == "instance_pause"
