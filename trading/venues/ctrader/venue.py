"""The cTrader venue: Pepperstone, IC Markets and every broker on cTrader, through the Open API.

A remote broker like OANDA (a deal history replayed by the sync, a price stream, reconciliation, answers that can
be lost), reached over one TLS connection per server. Accounts are authorised with an OAuth token pair that the
client renews and the venue stores (``client.py``). Netted accounts hold one position per symbol: they default
to virtual order mode, like OANDA's FIFO accounts.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from brokers.base import BrokerClient, Quote
from trading.bars.gaps import BarSource
from trading.models import Broker, BrokerAccount, Instrument
from trading.services.periodic import PeriodicJob
from trading.venues.base import Capabilities, Venue
from trading.venues.ctrader.client import account_tokens, ctrader_client


class CTraderVenue(Venue):
    kind = Broker.CTRADER
    label = "cTrader"
    capabilities = Capabilities(
        streaming_prices=True,
        history=True,
        reconciles=True,
        lost_answers=True,
        daily_break=(time(16, 59), time(17, 5)),
        environments=("practice", "live"),
        needs_token=True,
        refresh_token=True,
    )

    @classmethod
    def account_field_errors(cls, account: BrokerAccount) -> dict[str, str]:
        if (account.broker_account_id or "").isdigit():
            return {}
        return {
            "broker_account_id": f"{account.broker_account_id!r} is not a cTrader trading account id "
            f"(ctidTraderAccountId, digits only; `manage.py ctrader_accounts` lists those a token opens)"
        }

    @classmethod
    def account_prepare(cls, account: BrokerAccount, *, token: str, initial_balance: Decimal) -> None:
        _check(account)
        # The deal history starts now: earlier deals are the account's past, not the platform's.
        account.last_transaction_id = f"{int(datetime.now(UTC).timestamp() * 1000)}:0"

    def account_changed(self, *, fields: set[str], token: str) -> None:
        if token or {"environment", "broker_account_id"} & fields:
            _check(self.account)

    @property
    def client(self) -> BrokerClient:
        return ctrader_client(self.account)

    def account_sync(self, *, now: datetime) -> bool:
        from trading.venues.ctrader.sync import ctrader_account_sync

        ctrader_account_sync(self.account)
        self.account.refresh_from_db()
        return True

    def quote(self, instrument: Instrument) -> Quote:
        from trading.venues.ctrader.prices import ctrader_quote

        return ctrader_quote(self.account, instrument)

    def price_stream_status(self, now: datetime) -> dict[str, object] | None:
        from trading.venues.ctrader.prices import price_namespace
        from trading.venues.oanda.prices import stream_status

        return stream_status(price_namespace(self.account), now)

    @classmethod
    def data_bar_source(cls, account: BrokerAccount | None = None) -> BarSource:
        from trading.venues.ctrader.bars import ctrader_bar_source

        return ctrader_bar_source(account)

    @classmethod
    def periodic_jobs(cls) -> list[PeriodicJob]:
        from trading.venues.ctrader.bars import ctrader_bar_jobs

        return ctrader_bar_jobs()


def _check(account: BrokerAccount) -> None:
    """The pair must open this trading account on this environment's server; fill in what the broker knows."""
    from trading.venues.ctrader.account_check import ctrader_account_check

    check = ctrader_account_check(
        environment=account.environment, broker_account_id=account.broker_account_id, tokens=account_tokens(account)
    )
    account.currency = check.currency or account.currency
    account.fifo = not check.hedging
    account.balance = account.equity = check.balance
    if check.tokens.access_token != account.get_token():
        account.set_token(check.tokens.access_token)
        account.set_refresh_token(check.tokens.refresh_token)
    account.token_expires_at = check.tokens.expires_at
