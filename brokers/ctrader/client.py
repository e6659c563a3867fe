"""A cTrader trading account over a shared Open API connection, implementing ``brokers.base.BrokerClient``.

One ``Connection`` per server carries every account of the process; a ``CTraderClient`` is one account
(``ctidTraderAccountId``) with its OAuth pair. It authorises the account on each new connection, refreshes the
pair when it nears its expiry or the server calls it expired (and hands the new pair to ``on_tokens`` at once:
the old refresh token is spent), and retries a request once after re-authorising. Orders, history and bars are
in ``orders.py`` and ``history.py``; this module holds the account, its symbols and its prices.

cTrader has no transaction ids. ``last_transaction_id`` is a time marker (Unix ms) taken before an order goes
out: a lost answer is looked up among the orders created since (``orders.find_order``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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
from brokers.ctrader import history, orders, parse
from brokers.ctrader import messages as pb
from brokers.ctrader.connection import Connection
from brokers.ctrader.convert import SymbolSpec, money_of, ms_of, price_of_int, units_of
from brokers.ctrader.errors import AccountNotAuthorizedError, TokenExpiredError
from brokers.ctrader.tokens import TokenSet
from brokers.errors import BrokerAuthError, BrokerNotFoundError, BrokerProtocolError, BrokerTemporaryError

logger = logging.getLogger("brokers.ctrader.client")

TokensCallback = Callable[[TokenSet], None]
_DETAILS_CHUNK = 50  # symbol ids per ProtoOASymbolByIdReq


class CTraderClient:
    """One cTrader account. Thread-safe: the broker_io worker sends from several threads at once."""

    def __init__(
        self,
        connection: Connection,
        *,
        account_id: int,
        tokens: TokenSet,
        on_tokens: TokensCallback | None = None,
        order_timeout: float = 15.0,
    ) -> None:
        self.connection = connection
        self.account_id = int(account_id)
        self._tokens = tokens
        self._on_tokens = on_tokens
        self.order_timeout = order_timeout
        self._authorised = -1  # the connection generation the account was authorised on
        self._auth_lock = threading.Lock()
        self._light: dict[str, Any] | None = None  # broker symbol name -> ProtoOALightSymbol
        self._specs: dict[int, SymbolSpec] = {}
        self._assets: dict[int, str] | None = None
        self._money_digits: int | None = None
        self.refreshes = 0
        self.superseded: set[str] = set()  # access tokens our refreshes replaced (a stored one may lag behind)

    def __repr__(self) -> str:
        return f"CTraderClient(account_id={self.account_id}, {self.connection!r})"

    @property
    def tokens(self) -> TokenSet:
        return self._tokens

    # -- authorisation ------------------------------------------------------------------------------

    def authorise(self) -> None:
        """Authorise the account on the current connection (refreshing an expiring or expired token)."""
        generation = self.connection.ensure_connected()
        if self._authorised == generation:
            return
        with self._auth_lock:
            generation = self.connection.ensure_connected()
            if self._authorised == generation:
                return
            if self._tokens.expiring():
                self.refresh_tokens()
            try:
                self._account_auth()
            except TokenExpiredError:
                if not self._tokens.refresh_token:
                    raise BrokerAuthError(
                        f"cTrader access token of account {self.account_id} expired and no refresh token is stored; "
                        f"enter a new token pair"
                    ) from None
                self.refresh_tokens()
                self._account_auth()
            self._authorised = generation

    def _account_auth(self) -> None:
        request = pb.oa.ProtoOAAccountAuthReq(
            ctidTraderAccountId=self.account_id, accessToken=self._tokens.access_token
        )
        self.connection.request(request)

    def refresh_tokens(self) -> TokenSet:
        """Trade the refresh token for a new pair; ``on_tokens`` stores it before anything else happens."""
        if not self._tokens.refresh_token:
            raise BrokerAuthError(f"cTrader account {self.account_id}: no refresh token to renew the access token")
        answer = self.connection.request(pb.oa.ProtoOARefreshTokenReq(refreshToken=self._tokens.refresh_token))
        fresh = TokenSet.issued(
            access_token=str(answer.accessToken),
            refresh_token=str(answer.refreshToken),
            expires_in=int(answer.expiresIn),
        )
        self.superseded.add(self._tokens.access_token)
        self._tokens = fresh
        self.refreshes += 1
        logger.info("cTrader account %s: access token refreshed", self.account_id)
        if self._on_tokens is not None:
            self._on_tokens(fresh)
        return fresh

    def call(self, message: pb.Message, *, idempotent: bool = True, timeout: float | None = None) -> pb.Message:
        """One request of this account, authorised first; re-authorised (and refreshed) once when the server
        says the session or the token is gone (an error answer means nothing was done: safe to repeat)."""
        for attempt in (1, 2):
            self.authorise()
            try:
                return self.connection.request(message, idempotent=idempotent, timeout=timeout)
            except (AccountNotAuthorizedError, TokenExpiredError) as e:
                self._authorised = -1
                if attempt == 2:
                    raise
                if isinstance(e, TokenExpiredError):
                    if not self._tokens.refresh_token:
                        raise BrokerAuthError(
                            f"{e}; no refresh token is stored to renew it: enter a new pair"
                        ) from None
                    with self._auth_lock:
                        self.refresh_tokens()
        raise AssertionError("unreachable")

    def send(self, message: pb.Message, inbox: queue.Queue[Any]) -> None:
        """Send an order request whose answers (and matching events) the caller reads from ``inbox``."""
        self.authorise()
        self.connection.send(message, inbox)

    # -- account ------------------------------------------------------------------------------------

    @property
    def last_transaction_id(self) -> str | None:
        """A time marker (Unix ms, a minute early for clock skew): orders sent after it are looked up from it."""
        return str(int(time.time() * 1000) - 60_000)

    def trader(self) -> Any:
        trader = self.call(pb.oa.ProtoOATraderReq(ctidTraderAccountId=self.account_id)).trader
        self._money_digits = int(trader.moneyDigits) if trader.HasField("moneyDigits") else 2
        return trader

    def reconcile(self) -> Any:
        """Open positions and resting orders (ProtoOAReconcileReq)."""
        return self.call(pb.oa.ProtoOAReconcileReq(ctidTraderAccountId=self.account_id))

    def unrealized(self) -> dict[int, Decimal]:
        """Net unrealised P/L per open position, in the deposit currency."""
        answer = self.call(pb.oa.ProtoOAGetPositionUnrealizedPnLReq(ctidTraderAccountId=self.account_id))
        return {
            int(p.positionId): money_of(p.netUnrealizedPnL, int(answer.moneyDigits))
            for p in answer.positionUnrealizedPnL
        }

    def get_account_state(self) -> AccountState:
        trader = self.trader()
        positions = self.reconcile().position
        pnl = self.unrealized()
        margin = sum(
            (money_of(p.usedMargin, p.moneyDigits if p.HasField("moneyDigits") else None) for p in positions),
            Decimal(0),
        )
        state = parse.account_state(
            trader, positions=len(positions), unrealized=sum(pnl.values(), Decimal(0)), margin=margin
        )
        currency = self.assets().get(int(trader.depositAssetId), "")
        return AccountState(
            currency=currency,
            balance=state.balance,
            equity=state.equity,
            margin_used=state.margin_used,
            unrealized_pl=state.unrealized_pl,
            hedging_enabled=state.hedging_enabled,
            last_transaction_id=self.last_transaction_id or "",
            open_trade_count=state.open_trade_count,
        )

    def list_trading_accounts(self) -> list[tuple[int, bool, int]]:
        """(ctidTraderAccountId, is live, login) of every account the access token may use."""
        answer = self.connection.request(
            pb.oa.ProtoOAGetAccountListByAccessTokenReq(accessToken=self._tokens.access_token)
        )
        return [(int(a.ctidTraderAccountId), bool(a.isLive), int(a.traderLogin)) for a in answer.ctidTraderAccount]

    # -- symbols ------------------------------------------------------------------------------------

    def assets(self) -> dict[int, str]:
        if self._assets is None:
            answer = self.call(pb.oa.ProtoOAAssetListReq(ctidTraderAccountId=self.account_id))
            self._assets = {int(a.assetId): str(a.name) for a in answer.asset}
        return self._assets

    def light_symbols(self) -> dict[str, Any]:
        if self._light is None:
            answer = self.call(pb.oa.ProtoOASymbolsListReq(ctidTraderAccountId=self.account_id))
            self._light = {str(s.symbolName): s for s in answer.symbol}
        return self._light

    def symbol_specs(self, names: Iterable[str] | None = None) -> list[SymbolSpec]:
        """Full specs (digits, lot size, volume limits) of the named broker symbols, or of all of them."""
        light = self.light_symbols()
        wanted = list(light) if names is None else list(names)
        missing = [n for n in wanted if n not in light]
        if missing:
            raise BrokerNotFoundError(
                f"cTrader account {self.account_id} has no symbol {', '.join(missing)}", reason="SYMBOL_NOT_FOUND"
            )
        ids = [int(light[n].symbolId) for n in wanted]
        todo = [i for i in ids if i not in self._specs]
        assets = self.assets()
        for start in range(0, len(todo), _DETAILS_CHUNK):
            chunk = todo[start : start + _DETAILS_CHUNK]
            answer = self.call(pb.oa.ProtoOASymbolByIdReq(ctidTraderAccountId=self.account_id, symbolId=chunk))
            by_id = {int(s.symbolId): s for s in light.values()}
            for detail in answer.symbol:
                self._specs[int(detail.symbolId)] = _spec(by_id[int(detail.symbolId)], detail, assets)
        return [self._specs[i] for i in ids]

    def spec(self, symbol: str) -> SymbolSpec:
        """The spec of a broker symbol name, or of the broker symbol that is our platform symbol ``symbol``
        (instruments are shared by brokers: OANDA's EUR_USD and cTrader's EURUSD are one EURUSD)."""
        light = self.light_symbols()
        if symbol not in light:
            symbol = next((name for name in light if parse.platform_symbol(name) == symbol), symbol)
        return self.symbol_specs([symbol])[0]

    def spec_by_id(self, symbol_id: int) -> SymbolSpec:
        if symbol_id not in self._specs:
            name = next((n for n, s in self.light_symbols().items() if int(s.symbolId) == symbol_id), None)
            if name is None:
                raise BrokerProtocolError(f"cTrader symbol id {symbol_id} is not in the account's symbol list")
            self.symbol_specs([name])
        return self._specs[symbol_id]

    def specs_for(self, symbol_ids: Iterable[int]) -> dict[int, SymbolSpec]:
        return {i: self.spec_by_id(i) for i in set(symbol_ids)}

    # -- prices -------------------------------------------------------------------------------------

    def get_quote(self, instrument: InstrumentRef) -> Quote:
        """The current bid/ask: the first spot event after subscribing (sent even while the market is closed)."""
        spec = self.spec_of(instrument)
        inbox: queue.Queue[Any] = queue.Queue()

        def listener(message: pb.Message) -> None:
            if message.DESCRIPTOR.name == "ProtoOASpotEvent" and int(message.symbolId) == spec.symbol_id:
                inbox.put(message)

        remove = self.connection.add_listener(listener)
        subscribe = pb.oa.ProtoOASubscribeSpotsReq(ctidTraderAccountId=self.account_id, symbolId=[spec.symbol_id])
        try:
            self.call(subscribe)
            bid = ask = None
            deadline = time.monotonic() + self.connection.timeout
            while bid is None or ask is None:
                try:
                    event = inbox.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise BrokerTemporaryError(f"cTrader sent no price for {spec.name}") from None
                bid = event.bid if event.HasField("bid") else bid
                ask = event.ask if event.HasField("ask") else ask
        finally:
            remove()
            unsubscribe = pb.oa.ProtoOAUnsubscribeSpotsReq(
                ctidTraderAccountId=self.account_id, symbolId=[spec.symbol_id]
            )
            try:
                self.call(unsubscribe)
            except Exception:  # noqa: BLE001 - the price is what was asked for; a stale subscription is harmless
                logger.info("cTrader unsubscribe of %s failed", spec.name)
        return Quote(
            symbol=instrument.symbol,
            bid=price_of_int(bid, spec.digits),
            ask=price_of_int(ask, spec.digits),
            time=datetime.now(UTC),
        )

    def spec_of(self, instrument: InstrumentRef) -> SymbolSpec:
        light = self.light_symbols()
        return self.spec(instrument.broker_symbol if instrument.broker_symbol in light else instrument.symbol)

    # -- orders, trades, history (orders.py, history.py) ---------------------------------------------

    def submit_order(self, request: OrderRequest) -> OrderResult:
        return orders.submit(self, request)

    def submit_order_idempotent(self, request: OrderRequest, *, since_transaction_id: str | None = None) -> OrderResult:
        found = orders.find(self, request.client_order_id, since=since_transaction_id)
        return found if found is not None else orders.submit(self, request)

    def find_order(self, client_order_id: str, *, since_transaction_id: str | None = None) -> OrderResult | None:
        return orders.find(self, client_order_id, since=since_transaction_id)

    def close_trade(self, broker_trade_id: str, *, units: Decimal | None = None) -> OrderResult:
        return orders.close(self, broker_trade_id, units=units)

    def modify_trade(
        self,
        broker_trade_id: str,
        *,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        trailing_distance: Decimal | None = None,
    ) -> None:
        orders.modify(self, broker_trade_id, stop_loss=stop_loss, take_profit=take_profit)

    def cancel_order(self, broker_order_id: str) -> None:
        orders.cancel(self, broker_order_id)

    def list_open_trades(self) -> list[BrokerTrade]:
        positions = self.reconcile().position
        pnl = self.unrealized() if positions else {}
        specs = self.specs_for(int(p.tradeData.symbolId) for p in positions)
        return [
            parse.trade(p, specs[int(p.tradeData.symbolId)], unrealized=pnl.get(int(p.positionId), Decimal(0)))
            for p in positions
        ]

    def list_pending_orders(self) -> list[BrokerOrder]:
        resting = self.reconcile().order
        specs = self.specs_for(int(o.tradeData.symbolId) for o in resting)
        found = (parse.pending_order(o, specs[int(o.tradeData.symbolId)]) for o in resting)
        return [o for o in found if o is not None]

    def get_trade(self, broker_trade_id: str) -> BrokerTrade:
        return history.trade(self, broker_trade_id)

    def list_events_since(self, transaction_id: str) -> list[BrokerEvent]:
        return history.events_since(self, transaction_id)

    def server_time_ms(self) -> int:
        return ms_of(datetime.now(UTC))


def _spec(light: Any, detail: Any, assets: dict[int, str]) -> SymbolSpec:
    return SymbolSpec(
        symbol_id=int(detail.symbolId),
        name=str(light.symbolName),
        digits=int(detail.digits),
        pip_position=int(detail.pipPosition),
        lot_units=units_of(detail.lotSize) if detail.HasField("lotSize") else Decimal(100000),
        min_units=units_of(detail.minVolume) if detail.HasField("minVolume") else Decimal("0.01"),
        max_units=units_of(detail.maxVolume) if detail.HasField("maxVolume") else None,
        step_units=units_of(detail.stepVolume) if detail.HasField("stepVolume") else Decimal("0.01"),
        base_asset=assets.get(int(light.baseAssetId), ""),
        quote_asset=assets.get(int(light.quoteAssetId), ""),
        description=str(light.description),
        enabled=bool(light.enabled) if light.HasField("enabled") else True,
    )
