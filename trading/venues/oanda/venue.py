"""The OANDA v20 venue: a remote broker with a transaction history, a price stream and lost answers."""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal

from brokers.base import BrokerClient, Quote
from trading.bars.gaps import BarSource
from trading.models import Broker, BrokerAccount, Instrument
from trading.services.periodic import PeriodicJob
from trading.venues.base import Capabilities, Venue
from trading.venues.oanda.client import oanda_client

OANDA_ACCOUNT_RE = re.compile(r"^\d{3}-\d{3}-\d+-\d{3}$")


class OandaVenue(Venue):
    kind = Broker.OANDA
    label = "OANDA"
    capabilities = Capabilities(
        streaming_prices=True,
        history=True,
        reconciles=True,
        lost_answers=True,
        daily_break=(time(16, 59), time(17, 5)),
        environments=("practice", "live"),
        needs_token=True,
    )

    @classmethod
    def account_field_errors(cls, account: BrokerAccount) -> dict[str, str]:
        if OANDA_ACCOUNT_RE.match(account.broker_account_id or ""):
            return {}
        return {
            "broker_account_id": (
                f"{account.broker_account_id!r} is not an OANDA v20 account id (format 101-004-1234567-001)"
            )
        }

    @classmethod
    def account_prepare(cls, account: BrokerAccount, *, token: str, initial_balance: Decimal) -> None:
        _check(account, token)

    def account_changed(self, *, fields: set[str], token: str) -> None:
        if token or {"environment", "broker_account_id"} & fields:
            _check(self.account, token or self.account.get_token())

    @property
    def client(self) -> BrokerClient:
        return oanda_client(self.account)

    def account_sync(self, *, now: datetime) -> bool:
        from trading.venues.oanda.sync import oanda_account_sync

        oanda_account_sync(self.account)
        self.account.refresh_from_db()
        return True

    def quote(self, instrument: Instrument) -> Quote:
        from trading.venues.oanda.prices import oanda_quote

        return oanda_quote(self.account, instrument)

    @classmethod
    def data_bar_source(cls, account: BrokerAccount | None = None) -> BarSource:
        from trading.venues.oanda.bars import oanda_bar_source

        return oanda_bar_source(account)

    def price_stream_status(self, now: datetime) -> dict[str, object] | None:
        from trading.venues.oanda.prices import stream_status

        return stream_status(self.account.environment, now)

    @classmethod
    def periodic_jobs(cls) -> list[PeriodicJob]:
        from trading.venues.oanda.jobs import oanda_bar_jobs

        return oanda_bar_jobs()


def _check(account: BrokerAccount, token: str) -> None:
    """The token must open this account id in this environment (else a field error); fill in its figures."""
    from trading.venues.oanda.account_check import oanda_account_check

    check = oanda_account_check(
        environment=account.environment, broker_account_id=account.broker_account_id, token=token
    )
    account.currency = check.currency
    account.fifo = not check.hedging_enabled
    account.balance = check.balance
    if not account.last_transaction_id:
        account.last_transaction_id = check.last_transaction_id
