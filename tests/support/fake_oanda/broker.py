"""The fake OANDA's trading state, assembled from its parts (see each module's docstring)."""

from __future__ import annotations

from tests.support.fake_oanda.account import Account
from tests.support.fake_oanda.candle_query import CandlesMixin
from tests.support.fake_oanda.common import Reply
from tests.support.fake_oanda.trades import TradesMixin
from tests.support.fake_oanda.views import ViewsMixin

__all__ = ["Account", "FakeBroker", "Reply"]


class FakeBroker(TradesMixin, ViewsMixin, CandlesMixin):
    """State of one fake OANDA environment (several accounts, shared prices)."""
