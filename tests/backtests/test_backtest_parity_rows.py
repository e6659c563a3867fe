"""The parity engine packs its order rows without building OrderInfo: the bytes must be OrderInfo.as_row's."""

from __future__ import annotations

import random
import struct

from backtests.engine.broker import ClosedTrade, SimOrder, SimTrade
from backtests.engine.parity_book import _closed_row, _order_row, _trade_row
from framework import OrderInfo, OrderType
from framework.types import ORDER_INFO_DTYPE

ROW = struct.Struct(f"<{len(ORDER_INFO_DTYPE.names or ())}d")
SCALE, CS, INSTANCE = 1e5, 100_000.0, 4242


def _price(rng: random.Random) -> int:
    return rng.choice([0, rng.randrange(1, 300_000)])  # 0 = no stop / target


def test_rows_are_the_order_info_rows():
    rng = random.Random(3)
    for _ in range(2_000):
        buy, units = rng.random() < 0.5, rng.randrange(1, 10**6) / 100
        ticket, opened = rng.randrange(1, 10**6), rng.randrange(1_500_000_000, 1_900_000_000)
        price, sl, tp = rng.randrange(50_000, 200_000), _price(rng), _price(rng)
        profit = rng.uniform(-1e4, 1e4)

        trade = SimTrade(ticket, buy, "market", int(units * 100), units, opened, price, sl, tp)
        info = OrderInfo(
            ticket=ticket,
            instance_id=INSTANCE,
            order_type=OrderType.BUY if buy else OrderType.SELL,
            open_time=opened,
            stop_loss=sl / SCALE,
            take_profit=tp / SCALE,
            open_price=price / SCALE,
            lots=units / CS,
            profit=profit,
            is_open=True,
        )
        assert _trade_row(trade, INSTANCE, SCALE, CS, profit) == ROW.pack(*info.as_row())

        stop, expires = rng.random() < 0.5, rng.choice([0, opened + 900])
        order = SimOrder(ticket, buy, stop, int(units * 100), units, price, sl, tp, expires, opened)
        kind = (OrderType.BUYSTOP if stop else OrderType.BUYLIMIT) + (0 if buy else 1)
        info = OrderInfo(
            ticket=ticket,
            instance_id=INSTANCE,
            order_type=OrderType(kind),
            open_time=opened,
            stop_loss=sl / SCALE,
            take_profit=tp / SCALE,
            expiration=expires,
            open_price=price / SCALE,
            lots=units / CS,
            is_open=True,
        )
        assert _order_row(order, INSTANCE, SCALE, CS) == ROW.pack(*info.as_row())

        closed_at, close_price = opened + rng.randrange(60, 10**6), rng.randrange(50_000, 200_000)
        commission, swap = rng.uniform(0, 10), rng.uniform(-5, 5)
        closed = ClosedTrade(
            ticket,
            "buy" if buy else "sell",
            "market",
            units,
            opened,
            closed_at,
            price,
            close_price,
            sl,
            tp,
            profit + 1.0,
            commission,
            swap,
            profit,
            "stop_loss",
        )
        info = OrderInfo(
            ticket=ticket,
            instance_id=INSTANCE,
            order_type=OrderType.BUY if buy else OrderType.SELL,
            open_time=opened,
            close_time=closed_at,
            stop_loss=sl / SCALE,
            take_profit=tp / SCALE,
            open_price=price / SCALE,
            close_price=close_price / SCALE,
            lots=units / CS,
            profit=profit,
            swap=swap,
            commission=commission,
            is_open=False,
        )
        assert _closed_row(closed, INSTANCE, SCALE, CS) == ROW.pack(*info.as_row())
