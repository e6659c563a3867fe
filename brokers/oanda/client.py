"""OANDA v20 REST client implementing ``brokers.base.BrokerClient``.

Decision on 201-with-cancel: ``submit_order`` and ``close_trade`` RETURN ``OrderResult(status="cancelled",
reason=...)`` for an order OANDA created and then cancelled (MARKET_HALTED, INSUFFICIENT_MARGIN,
FIFO_VIOLATION_SAFEGUARD_VIOLATION, ...): the order existed, consumed transaction ids, and the
caller records the reason. A 400 (the order never existed) RAISES ``BrokerRejectedError``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote as urlquote
from urllib.parse import urlsplit

import requests

from brokers.base import (
    AccountState,
    BrokerEvent,
    BrokerOrder,
    BrokerTrade,
    InstrumentRef,
    OrderRequest,
    OrderResult,
    Quote,
)
from brokers.errors import (
    BrokerAuthError,
    BrokerError,
    BrokerNotFoundError,
    BrokerProtocolError,
    BrokerRejectedError,
    BrokerUnknownOutcomeError,
)
from brokers.oanda import orders, parse
from brokers.oanda.candles import PLATFORM_ALIGNMENT, CandleAlignment, iter_candles
from brokers.oanda.http import JsonDict, OandaHttp, Response
from brokers.oanda.pacing import CONNECTIONS, Budget, LocalPacer, Pacer
from brokers.oanda.schemas import AccountChanges, AccountInfo, Candle, InstrumentSpec, OpenPosition
from brokers.oanda.symbols import to_broker_symbol

logger = logging.getLogger("brokers.oanda.client")

_CLEARABLE = {"stop_loss": "stopLoss", "take_profit": "takeProfit", "trailing_stop": "trailingStopLoss"}


def environment_of(base_url: str) -> str:
    """'practice' / 'live' for OANDA's hosts, else the host itself (a fake or a proxy)."""
    host = urlsplit(base_url).hostname or base_url
    if "fxpractice" in host:
        return "practice"
    if "fxtrade" in host:
        return "live"
    return host


class OandaClient:
    """One OANDA account over one keep-alive session. Thread-safe for concurrent calls."""

    def __init__(
        self,
        *,
        base_url: str,
        stream_url: str,
        token: str,
        account_id: str,
        timeout: tuple[float, float] = (5.0, 15.0),
        max_retries: int = 3,
        pacer: Pacer | None = None,
        pool_size: int = 10,
        requests_per_second: float | None = None,
        burst: int | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        environment: str | None = None,
        lookback_transactions: int = 1000,
    ) -> None:
        """``pacer``: the host-wide ``HostPacer`` (or any ``Pacer``); default, the process's shared pacer.
        ``pool_size``: keep-alive connections, the number of threads that call this client at once.
        ``requests_per_second``/``burst``: instead of a pacer, a private pace for this client alone."""
        if pacer is None and (requests_per_second is not None or burst is not None):
            pacer = _private_pacer(requests_per_second or 100.0, burst or 20)
        self.stream_url = stream_url.rstrip("/")
        self.account_id = account_id
        self.environment = environment or environment_of(base_url)
        self.lookback_transactions = lookback_transactions
        self._http = OandaHttp(
            base_url=base_url,
            token=token,
            timeout=timeout,
            max_retries=max_retries,
            pacer=pacer,
            pool_size=pool_size,
            session=session,
            sleep=sleep,
        )
        self._acct = f"/v3/accounts/{urlquote(account_id, safe='-')}"
        self._instruments: dict[str, InstrumentSpec] = {}
        self._last_transaction_id: str | None = None

    def __repr__(self) -> str:
        return f"OandaClient(environment={self.environment!r}, account_id={self.account_id!r})"

    @property
    def last_transaction_id(self) -> str | None:
        """The newest transaction id seen in any answer (record it before submitting)."""
        return self._last_transaction_id

    def close(self) -> None:
        self._http.close()

    # -- plumbing ---------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: JsonDict | None = None,
        idempotent: bool | None = None,
    ) -> Response:
        resp = self._http.request(method, path, params=params, body=body, idempotent=idempotent)
        last = resp.body.get("lastTransactionID")
        if last is not None:
            self._remember(str(last))
        return resp

    def _remember(self, txn_id: str) -> None:
        if self._last_transaction_id is None or int(txn_id) > int(self._last_transaction_id):
            self._last_transaction_id = txn_id

    # -- accounts ---------------------------------------------------------------------------------

    def list_accounts(self) -> list[AccountInfo]:
        """Accounts the token may use."""
        # Reference: https://developer.oanda.com/rest-live-v20/account-ep/
        return parse.account_list(self._call("GET", "/v3/accounts").body)

    def check_credentials(self) -> AccountState:
        """Check token and account id against this environment; say clearly what is wrong."""
        try:
            accounts = self.list_accounts()
        except BrokerAuthError as e:
            raise BrokerAuthError(
                f"token refused by OANDA {self.environment}: {e}. Check that the token belongs to this "
                f"environment (practice and live tokens are separate) and has not been revoked."
            ) from None
        ids = [a.account_id for a in accounts]
        if self.account_id not in ids:
            raise BrokerNotFoundError(
                f"account {self.account_id} not found for this token on OANDA {self.environment}; "
                f"accounts available: {', '.join(ids) or 'none'}",
                reason="NO_SUCH_ACCOUNT",
            )
        info = accounts[ids.index(self.account_id)]
        if info.mt4_linked:
            # OANDA: client extensions must not be set on MT4 accounts, and every order we send carries them.
            usable = [a.account_id for a in accounts if not a.mt4_linked]
            raise BrokerRejectedError(
                f"account {self.account_id} is linked to MetaTrader 4 (MT4 account {info.mt4_account_id}); OANDA "
                f"forbids client extensions on MT4 accounts, and the platform tags every order with them. "
                f"Use a v20 account without MT4: {', '.join(usable) or 'none for this token'}",
                reason="MT4_ACCOUNT",
            )
        try:
            return self.get_account_state()
        except BrokerAuthError as e:
            raise BrokerAuthError(
                f"token may not use account {self.account_id} on OANDA {self.environment}: {e}"
            ) from None

    def get_account_state(self) -> AccountState:
        """Balance, NAV, margin, hedging mode and lastTransactionID."""
        # Reference: https://developer.oanda.com/rest-live-v20/account-ep/ (summary)
        body = self._call("GET", f"{self._acct}/summary").body
        return parse.account_state(parse.req(body, "account"), str(body.get("lastTransactionID", "")))

    def get_account_changes(self, since_transaction_id: str) -> AccountChanges:
        """What changed since a transaction id (OANDA's recommended polling)."""
        # Reference: https://developer.oanda.com/rest-live-v20/account-ep/ (changes)
        params = {"sinceTransactionID": since_transaction_id}
        return parse.account_changes(self._call("GET", f"{self._acct}/changes", params=params).body)

    # -- instruments, prices, candles ------------------------------------------------------------

    def list_instruments(self, symbols: Iterable[str] | None = None) -> list[InstrumentSpec]:
        """Tradeable instruments with display and units precision; cached for order formatting."""
        # Reference: https://developer.oanda.com/rest-live-v20/account-ep/ (instruments)
        params = {"instruments": ",".join(to_broker_symbol(s) for s in symbols)} if symbols else None
        body = self._call("GET", f"{self._acct}/instruments", params=params).body
        specs = [parse.instrument_spec(i) for i in parse.req(body, "instruments")]
        for spec in specs:
            self._instruments[spec.ref.symbol] = spec
        return specs

    def instrument(self, symbol: str) -> InstrumentRef:
        """The InstrumentRef (digits, unit precision) of a platform symbol, fetched once."""
        return self.instrument_spec(symbol).ref

    def instrument_spec(self, symbol: str) -> InstrumentSpec:
        """Everything the account's instruments endpoint says about a symbol (precisions, limits), fetched once."""
        if symbol not in self._instruments:
            self.list_instruments([symbol])
        try:
            return self._instruments[symbol]
        except KeyError as e:
            raise BrokerNotFoundError(
                f"instrument {symbol} not offered on this account", reason="INSTRUMENT_UNKNOWN"
            ) from e

    def _check_trailing(self, symbol: str, distance: Decimal, *, on_fill: bool) -> None:
        """Refuse a trailing distance outside the instrument's limits before OANDA does (its reasons)."""
        spec = self.instrument_spec(symbol)
        prefix = "TRAILING_STOP_LOSS_ON_FILL_" if on_fill else ""
        if distance < spec.minimum_trailing_stop_distance:
            raise BrokerRejectedError(
                f"trailing stop distance {distance} for {symbol} is below OANDA's minimum of "
                f"{spec.minimum_trailing_stop_distance}",
                reason=f"{prefix}PRICE_DISTANCE_MINIMUM_NOT_MET",
            )
        if distance > spec.maximum_trailing_stop_distance:
            raise BrokerRejectedError(
                f"trailing stop distance {distance} for {symbol} is above OANDA's maximum of "
                f"{spec.maximum_trailing_stop_distance}",
                reason=f"{prefix}PRICE_DISTANCE_MAXIMUM_EXCEEDED",
            )

    def get_quotes(self, symbols: Iterable[str]) -> list[Quote]:
        """Current top of book for several symbols in one request."""
        # Reference: https://developer.oanda.com/rest-live-v20/pricing-ep/
        params = {"instruments": ",".join(to_broker_symbol(s) for s in symbols)}
        body = self._call("GET", f"{self._acct}/pricing", params=params).body
        return [parse.quote(p) for p in parse.req(body, "prices")]

    def get_quote(self, instrument: InstrumentRef) -> Quote:
        quotes = self.get_quotes([instrument.symbol])
        if not quotes:
            raise BrokerProtocolError(f"OANDA returned no price for {instrument.broker_symbol}")
        return quotes[0]

    def iter_candles(
        self,
        symbol: str,
        granularity: str,
        start: datetime,
        end: datetime | None = None,
        *,
        price: str = "M",
        page_size: int = 5000,
        alignment: CandleAlignment = PLATFORM_ALIGNMENT,
    ) -> Iterator[Candle]:
        """Complete candles in [start, end), oldest first, paged 5,000 at a time, cut like our bars
        (``alignment``, see ``CandleAlignment``)."""
        return iter_candles(
            self._http,
            instrument=to_broker_symbol(symbol),
            granularity=granularity,
            start=start,
            end=end,
            price=price,
            page_size=page_size,
            alignment=alignment,
        )

    # -- orders -----------------------------------------------------------------------------------

    def build_order_body(self, request: OrderRequest) -> JsonDict:
        """The v20 ``{"order": ...}`` body for a request (public so callers can log or inspect it)."""
        return orders.order_body(request)

    def submit_order(self, request: OrderRequest) -> OrderResult:
        """Send one order once. If the answer is lost, ask the broker what happened.

        Returns filled / pending / cancelled (201 with an orderCancelTransaction). Raises
        BrokerRejectedError on a 400, and BrokerUnknownOutcomeError only if the answer was lost AND the
        broker shows no trace of the order yet (call ``submit_order_idempotent`` later; never resend).
        """
        # Reference: https://developer.oanda.com/rest-live-v20/order-ep/ (POST orders)
        body = self.build_order_body(request)
        if request.trailing_distance is not None:
            self._check_trailing(request.instrument.symbol, request.trailing_distance, on_fill=True)
        marker = self._last_transaction_id or self.get_account_state().last_transaction_id
        try:
            resp = self._call("POST", f"{self._acct}/orders", body=body)
            return orders.order_result(resp.body, request.client_order_id)
        except (BrokerUnknownOutcomeError, BrokerProtocolError) as e:
            logger.warning("order %s: outcome unknown (%s); looking it up", request.client_order_id, e)
            try:
                found = self.find_order(request.client_order_id, since_transaction_id=marker)
            except BrokerError as lookup_error:
                raise BrokerUnknownOutcomeError(
                    f"order {request.client_order_id}: outcome unknown and lookup failed: {lookup_error}"
                ) from lookup_error
            if found is None:
                raise BrokerUnknownOutcomeError(
                    f"order {request.client_order_id}: outcome unknown and no trace at the broker since "
                    f"transaction {marker}; retry later with submit_order_idempotent"
                ) from e
            return found

    def submit_order_idempotent(self, request: OrderRequest, *, since_transaction_id: str | None = None) -> OrderResult:
        """Look the order up by its client id first; send it only if the broker has no trace of it.

        Use this for every retry of an intent. Pass the lastTransactionID recorded before the first
        attempt as ``since_transaction_id`` so the search covers it.
        """
        found = self.find_order(request.client_order_id, since_transaction_id=since_transaction_id)
        if found is not None:
            return found
        return self.submit_order(request)

    def find_order(self, client_order_id: str, *, since_transaction_id: str | None = None) -> OrderResult | None:
        """Where is the order with our client id? Pending orders by ``@id``, the rest from transactions."""
        # Reference: https://developer.oanda.com/rest-live-v20/order-ep/ (GET orders/{orderSpecifier})
        try:
            order = self._call("GET", f"{self._acct}/orders/@{urlquote(client_order_id, safe='')}").body
        except BrokerNotFoundError:
            order = None
        if order is not None:
            result = self._order_from_state(parse.req(order, "order"), client_order_id)
            if result is not None:
                return result
        return self._find_in_transactions(client_order_id, since_transaction_id)

    def _order_from_state(self, order: JsonDict, client_order_id: str) -> OrderResult | None:
        state = order.get("state")
        oid = str(parse.req(order, "id"))
        if state in ("PENDING", "TRIGGERED"):
            return OrderResult(
                status="pending",
                client_order_id=client_order_id,
                broker_order_id=oid,
                last_transaction_id=self._last_transaction_id or "",
            )
        return None  # filled or cancelled: the transactions tell the full story

    def _find_in_transactions(self, client_order_id: str, since: str | None) -> OrderResult | None:
        if since is None:
            last = int(self._last_transaction_id or self.get_account_state().last_transaction_id or 0)
            since = str(max(0, last - self.lookback_transactions))
        return orders.outcome_in_transactions(self._iter_transactions_since(since), client_order_id)

    def cancel_order(self, broker_order_id: str) -> None:
        """Cancel a pending order (OANDA id, or ``@client_id``). Raises BrokerNotFoundError if not pending."""
        # Reference: https://developer.oanda.com/rest-live-v20/order-ep/ (PUT orders/{spec}/cancel)
        self._call("PUT", f"{self._acct}/orders/{urlquote(broker_order_id, safe='@')}/cancel")

    def list_pending_orders(self) -> list[BrokerOrder]:
        """Pending entry orders (dependent SL/TP orders are reported on their trades)."""
        # Reference: https://developer.oanda.com/rest-live-v20/order-ep/ (pendingOrders)
        body = self._call("GET", f"{self._acct}/pendingOrders").body
        orders = (parse.pending_order(o) for o in parse.req(body, "orders"))
        return [o for o in orders if o is not None]

    # -- trades -----------------------------------------------------------------------------------

    def list_open_trades(self) -> list[BrokerTrade]:
        """Open trades; ``instance_id`` is None for trades opened outside the platform (unassigned)."""
        # Reference: https://developer.oanda.com/rest-live-v20/trade-ep/ (openTrades)
        body = self._call("GET", f"{self._acct}/openTrades").body
        return [parse.trade(t) for t in parse.req(body, "trades")]

    def list_trades(
        self, *, state: str = "CLOSED", count: int = 500, before_id: str | None = None
    ) -> list[BrokerTrade]:
        """One page of trades by state (OPEN, CLOSED, ALL), newest first."""
        params = {"state": state, "count": str(count)}
        if before_id:
            params["beforeID"] = before_id
        body = self._call("GET", f"{self._acct}/trades", params=params).body
        return [parse.trade(t) for t in parse.req(body, "trades")]

    def get_trade(self, broker_trade_id: str) -> BrokerTrade:
        body = self._call("GET", f"{self._acct}/trades/{urlquote(broker_trade_id, safe='@')}").body
        return parse.trade(parse.req(body, "trade"))

    def close_trade(
        self, broker_trade_id: str, *, units: Decimal | None = None, unit_precision: int | None = None
    ) -> OrderResult:
        """Close a trade fully, or ``units`` of it. A market-closed cancel comes back as "cancelled".

        Partial units are written with the instrument's ``tradeUnitsPrecision`` (looked up from the trade
        when ``unit_precision`` is not given); more decimals than that are refused, never rounded."""
        # Reference: https://developer.oanda.com/rest-live-v20/trade-ep/ (PUT trades/{spec}/close)
        if units is None:
            body = {"units": "ALL"}
        else:
            if units <= 0:
                raise BrokerRejectedError(
                    f"close units must be positive; was {units}", reason="CLOSE_TRADE_UNITS_INVALID"
                )
            if unit_precision is None:
                unit_precision = self.instrument(self.get_trade(broker_trade_id).symbol).unit_precision
            body = {"units": orders.fmt(units, unit_precision, exact=True)}
        resp = self._call("PUT", f"{self._acct}/trades/{urlquote(broker_trade_id, safe='@')}/close", body=body)
        return orders.order_result(resp.body, "")

    def modify_trade(
        self,
        broker_trade_id: str,
        *,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        trailing_distance: Decimal | None = None,
        digits: int | None = None,
        symbol: str | None = None,
        clear: Iterable[str] = (),
    ) -> None:
        """Set SL/TP/trailing on a trade. None leaves a value unchanged; ``clear`` names ones to cancel
        ("stop_loss", "take_profit", "trailing_stop"). Without ``digits`` (or, for a trailing distance,
        ``symbol``) the trade's instrument is looked up; a trailing distance outside its limits is refused."""
        # Reference: https://developer.oanda.com/rest-live-v20/trade-ep/ (PUT trades/{spec}/orders)
        needs_symbol = digits is None and (stop_loss, take_profit, trailing_distance) != (None, None, None)
        if symbol is None and (needs_symbol or trailing_distance is not None):
            symbol = self.get_trade(broker_trade_id).symbol
        if symbol is not None and digits is None:
            digits = self.instrument(symbol).digits
        if trailing_distance is not None and symbol is not None:
            self._check_trailing(symbol, trailing_distance, on_fill=False)
        body: JsonDict = {}
        for name in clear:
            body[_CLEARABLE[name]] = None
        if stop_loss is not None:
            body["stopLoss"] = {"price": orders.fmt_price(stop_loss, digits), "timeInForce": "GTC"}
        if take_profit is not None:
            body["takeProfit"] = {"price": orders.fmt_price(take_profit, digits), "timeInForce": "GTC"}
        if trailing_distance is not None:
            body["trailingStopLoss"] = {"distance": orders.fmt_price(trailing_distance, digits), "timeInForce": "GTC"}
        if not body:
            return
        # Setting absolute values is idempotent, so a lost answer may be retried.
        self._call(
            "PUT", f"{self._acct}/trades/{urlquote(broker_trade_id, safe='@')}/orders", body=body, idempotent=True
        )

    def list_open_positions(self) -> list[OpenPosition]:
        # Reference: https://developer.oanda.com/rest-live-v20/position-ep/ (openPositions)
        body = self._call("GET", f"{self._acct}/openPositions").body
        return [parse.open_position(p) for p in parse.req(body, "positions")]

    # -- history ----------------------------------------------------------------------------------

    def _iter_transactions_since(self, transaction_id: str) -> Iterator[JsonDict]:
        cursor = int(transaction_id)
        while True:
            body = self._call("GET", f"{self._acct}/transactions/sinceid", params={"id": str(cursor)}).body
            txns = parse.req(body, "transactions")
            if not txns:
                return
            yield from txns
            newest = int(txns[-1]["id"])
            if newest <= cursor or newest >= int(body.get("lastTransactionID", newest)):
                return
            cursor = newest  # the server capped the page; ask for the rest

    def list_events_since(self, transaction_id: str) -> list[BrokerEvent]:
        """Every transaction after ``transaction_id`` as typed events (fills carry their P/L)."""
        # Reference: https://developer.oanda.com/rest-live-v20/transaction-ep/ (sinceid)
        return [parse.event(t) for t in self._iter_transactions_since(transaction_id)]

    def list_events_range(self, first_id: str, last_id: str) -> list[BrokerEvent]:
        """Transactions first_id..last_id inclusive (keep spans <= 1000)."""
        params = {"from": first_id, "to": last_id}
        body = self._call("GET", f"{self._acct}/transactions/idrange", params=params).body
        return [parse.event(t) for t in parse.req(body, "transactions")]


def _private_pacer(requests_per_second: float, burst: int) -> LocalPacer:
    """``burst`` requests per ``burst / requests_per_second`` seconds: that average rate, that burst."""
    if requests_per_second <= 0 or burst < 1:
        raise ValueError("requests_per_second must be > 0 and burst >= 1")
    return LocalPacer(Budget(burst, burst / requests_per_second), CONNECTIONS)
