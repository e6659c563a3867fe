"""The fake's daily financing: one DAILY_FINANCING transaction per account, split per open trade.

OANDA charges or pays financing once a day (17:00 New York) for every open trade and reports it in one
DAILY_FINANCING transaction whose ``positionFinancings[].openTradeFinancings[]`` name each trade. History
sync must attribute those amounts to the right trades, so the fake produces exactly that shape. The amount
is ``units × mid × annual rate / 365`` in the quote currency, converted to the account currency; a test
may also give the annual rate, or exact amounts per trade.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from tests.support.fake_oanda.common import MONEY, money

if TYPE_CHECKING:
    from tests.support.fake_oanda.broker import Account, FakeBroker

DEFAULT_ANNUAL_RATE = Decimal("-0.0100")  # what the fake's instruments advertise as long and short rate


def trade_financing(broker: FakeBroker, acct: Account, trade: dict, annual_rate: Decimal) -> Decimal:
    name = trade["instrument"]
    notional_quote = abs(Decimal(trade["currentUnits"])) * broker._mid(name)
    amount = broker.to_account_ccy(acct, name, notional_quote * annual_rate / 365)
    return amount.quantize(MONEY, ROUND_HALF_EVEN)


def daily_financing(
    broker: FakeBroker,
    acct: Account,
    *,
    annual_rate: Decimal = DEFAULT_ANNUAL_RATE,
    amounts: Mapping[str, Decimal] | None = None,
) -> dict | None:
    """Charge every open trade of ``acct`` one day of financing; returns the transaction (None: no trades)."""
    with broker.lock:
        trades = broker._open_trades(acct, None)
        if not trades:
            return None
        by_instrument: dict[str, list[dict]] = {}
        total = Decimal("0")
        for trade in trades:
            if amounts is not None and trade["id"] not in amounts:
                continue
            amount = amounts[trade["id"]] if amounts is not None else trade_financing(broker, acct, trade, annual_rate)
            trade["financing"] = money(Decimal(trade["financing"]) + amount)
            by_instrument.setdefault(trade["instrument"], []).append(
                {"tradeID": trade["id"], "financing": money(amount)}
            )
            total += amount
        acct.balance += total
        positions = [
            {
                "instrument": name,
                "financing": money(sum((Decimal(t["financing"]) for t in rows), Decimal("0"))),
                "openTradeFinancings": rows,
            }
            for name, rows in by_instrument.items()
        ]
        return broker._txn(
            acct,
            "DAILY_FINANCING",
            batch=None,
            financing=money(total),
            accountBalance=money(acct.balance),
            accountFinancingMode="DAILY",
            positionFinancings=positions,
        )
