"""The fake's answers, one method per request (``on_<message name>``), with the server's error codes."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.ctrader import messages as pb
from tests.support.fake_ctrader import encode
from tests.support.fake_ctrader.broker import ACCEPTED, CANCELLED, MARKET, REPLACED, Exec, Refused
from tests.support.fake_ctrader.state import Grant, Order, now_ms

if TYPE_CHECKING:
    from tests.support.fake_ctrader import FakeCTrader
    from tests.support.fake_ctrader.server import Session

# payloadType -> class, from the official messages themselves
CLASSES: dict[int, Any] = {}
for _name in pb.oa.DESCRIPTOR.message_types_by_name:
    _cls = getattr(pb.oa, _name)
    CLASSES[int(_cls.DESCRIPTOR.fields_by_name["payloadType"].default_value)] = _cls
HEARTBEAT = 51
HISTORICAL = {"ProtoOAGetTrendbarsReq", "ProtoOAGetTickDataReq", "ProtoOADealListReq"}
NO_APP_AUTH = {"ProtoOAApplicationAuthReq", "ProtoOAVersionReq"}


class Handlers:
    def __init__(self, fake: FakeCTrader) -> None:
        self.fake = fake
        self.broker = fake.broker

    def __call__(self, session: Session, envelope: Any, msg_id: str | None) -> None:
        if int(envelope.payloadType) == HEARTBEAT:
            self.fake.heartbeats += 1
            return
        cls = CLASSES.get(int(envelope.payloadType))
        if cls is None:
            session.send(pb.common.ProtoErrorRes(errorCode="UNSUPPORTED_MESSAGE"), msg_id)
            return
        message = cls.FromString(envelope.payload)
        name = str(cls.DESCRIPTOR.name)
        session.received.append(name)
        self.fake.seen.append(name)
        server = self.fake.server
        if (fault := server.take_fault("stall", name)) is not None:
            session.stalled_until = time.monotonic() + (fault.seconds or 30.0)
            return
        if (fault := server.take_fault("latency", name)) is not None:
            time.sleep(fault.seconds)
        if server.take_fault("drop_before", name) is not None:
            session.close()
            return
        if (fault := server.take_fault("error", name)) is not None:
            self.error(session, msg_id, fault.code, "injected", message)
            return
        if server.take_fault("drop_after", name) is not None:
            session.mute = True
        if self.fake.enforce_limits and self._throttled(session, name):
            self.error(session, msg_id, "REQUEST_FREQUENCY_EXCEEDED", "more than the limit per second", message)
            return
        try:
            if name not in NO_APP_AUTH and not session.app_authorised:
                raise Refused("CH_CLIENT_NOT_AUTHENTICATED", "authorise the application first")
            with self.broker.lock:
                getattr(self, f"on_{name}")(session, message, msg_id)
        except Refused as refused:
            if name == "ProtoOANewOrderReq":
                session.send(
                    pb.oa.ProtoOAOrderErrorEvent(
                        ctidTraderAccountId=message.ctidTraderAccountId,
                        errorCode=refused.code,
                        description=refused.description,
                    ),
                    msg_id,
                )
            else:
                self.error(session, msg_id, refused.code, refused.description, message)
        except AttributeError as missing:
            if not str(missing).startswith("'Handlers' object has no attribute"):
                raise
            self.error(session, msg_id, "UNSUPPORTED_MESSAGE", name, message)

    def error(self, session: Session, msg_id: str | None, code: str, description: str, message: Any) -> None:
        answer = pb.oa.ProtoOAErrorRes(errorCode=code, description=description)
        if "ctidTraderAccountId" in message.DESCRIPTOR.fields_by_name and message.HasField("ctidTraderAccountId"):
            answer.ctidTraderAccountId = message.ctidTraderAccountId
        session.send(answer, msg_id)

    def _throttled(self, session: Session, name: str) -> bool:
        now = time.monotonic()
        while session.recent and now - session.recent[0][0] > 1.0:
            session.recent.popleft()
        session.recent.append((now, name in HISTORICAL))
        historical = sum(1 for _, h in session.recent if h)
        return len(session.recent) > 50 or (name in HISTORICAL and historical > 5)

    def _account(self, session: Session, message: Any) -> Any:
        account_id = int(message.ctidTraderAccountId)
        if account_id not in session.accounts:
            raise Refused("ACCOUNT_NOT_AUTHORIZED", f"account {account_id} is not authorised on this connection")
        grant = self.broker.grants.get(session.tokens.get(account_id, ""))
        if grant is None or grant.revoked or grant.expires_ms <= now_ms():
            session.accounts.discard(account_id)
            raise Refused("OA_AUTH_TOKEN_EXPIRED", "the access token expired")
        return self.broker.accounts[account_id]

    # -- authorisation --------------------------------------------------------------------------------

    def on_ProtoOAApplicationAuthReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        if (m.clientId, m.clientSecret) != (self.fake.client_id, self.fake.client_secret):
            raise Refused("CH_CLIENT_AUTH_FAILURE", "unknown application")
        session.app_authorised = True
        session.send(pb.oa.ProtoOAApplicationAuthRes(), msg_id)

    def on_ProtoOAVersionReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        session.send(pb.oa.ProtoOAVersionRes(version="fake-91"), msg_id)

    def on_ProtoOAAccountAuthReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        grant = self.broker.grants.get(str(m.accessToken))
        if grant is None or grant.revoked:
            raise Refused("CH_ACCESS_TOKEN_INVALID", "invalid access token")
        if grant.expires_ms <= now_ms():
            raise Refused("OA_AUTH_TOKEN_EXPIRED", "the access token expired")
        if int(m.ctidTraderAccountId) not in grant.accounts:
            raise Refused("CH_CTID_TRADER_ACCOUNT_NOT_FOUND", "the token does not open this trading account")
        session.accounts.add(int(m.ctidTraderAccountId))
        session.tokens[int(m.ctidTraderAccountId)] = grant.access_token
        session.send(pb.oa.ProtoOAAccountAuthRes(ctidTraderAccountId=m.ctidTraderAccountId), msg_id)

    def on_ProtoOARefreshTokenReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        old = next(
            (g for g in self.broker.grants.values() if g.refresh_token == m.refreshToken and not g.revoked), None
        )
        if old is None:
            raise Refused("CH_ACCESS_TOKEN_INVALID", "invalid refresh token")
        old.revoked = True
        grant = self.fake.grant(old.accounts)
        session.send(
            pb.oa.ProtoOARefreshTokenRes(
                accessToken=grant.access_token,
                tokenType="bearer",
                expiresIn=(grant.expires_ms - now_ms()) // 1000,
                refreshToken=grant.refresh_token,
            ),
            msg_id,
        )

    def on_ProtoOAGetAccountListByAccessTokenReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        grant: Grant | None = self.broker.grants.get(str(m.accessToken))
        if grant is None or grant.revoked:
            raise Refused("CH_ACCESS_TOKEN_INVALID", "invalid access token")
        answer = pb.oa.ProtoOAGetAccountListByAccessTokenRes(accessToken=m.accessToken, permissionScope=1)
        for account_id in grant.accounts:
            account = self.broker.accounts[account_id]
            answer.ctidTraderAccount.add(ctidTraderAccountId=account_id, isLive=account.live, traderLogin=account.login)
        session.send(answer, msg_id)

    # -- account, symbols -----------------------------------------------------------------------------

    def on_ProtoOATraderReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        session.send(
            pb.oa.ProtoOATraderRes(ctidTraderAccountId=m.ctidTraderAccountId, trader=encode.trader(account)), msg_id
        )

    def on_ProtoOAAssetListReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        self._account(session, m)
        answer = pb.oa.ProtoOAAssetListRes(ctidTraderAccountId=m.ctidTraderAccountId)
        for asset_id, name in self.broker.assets.items():
            answer.asset.add(assetId=asset_id, name=name, displayName=name, digits=2)
        session.send(answer, msg_id)

    def on_ProtoOASymbolsListReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        self._account(session, m)
        answer = pb.oa.ProtoOASymbolsListRes(ctidTraderAccountId=m.ctidTraderAccountId)
        answer.symbol.extend(encode.light_symbol(s, self.broker) for s in self.broker.symbols.values())
        session.send(answer, msg_id)

    def on_ProtoOASymbolByIdReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        self._account(session, m)
        answer = pb.oa.ProtoOASymbolByIdRes(ctidTraderAccountId=m.ctidTraderAccountId)
        answer.symbol.extend(encode.symbol(self.broker.symbol(int(i))) for i in m.symbolId)
        session.send(answer, msg_id)

    def on_ProtoOAReconcileReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        answer = pb.oa.ProtoOAReconcileRes(ctidTraderAccountId=m.ctidTraderAccountId)
        answer.position.extend(encode.position(p) for p in account.positions.values())
        answer.order.extend(
            encode.order(o) for o in account.orders.values() if o.status == 1 and o.order_type != MARKET
        )
        session.send(answer, msg_id)

    def on_ProtoOAGetPositionUnrealizedPnLReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        answer = pb.oa.ProtoOAGetPositionUnrealizedPnLRes(ctidTraderAccountId=m.ctidTraderAccountId, moneyDigits=2)
        for p in account.positions.values():
            gross = self.broker.unrealized(account, p)
            answer.positionUnrealizedPnL.add(positionId=p.position_id, grossUnrealizedPnL=gross, netUnrealizedPnL=gross)
        session.send(answer, msg_id)

    # -- orders ---------------------------------------------------------------------------------------

    def on_ProtoOANewOrderReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        order = Order(
            order_id=self.broker.next_id(),
            account_id=account.account_id,
            symbol_id=int(m.symbolId),
            order_type=int(m.orderType),
            side=int(m.tradeSide),
            volume=int(m.volume),
            label=str(m.label),
            comment=str(m.comment),
            client_order_id=str(m.clientOrderId),
            limit_price=_price(m, "limitPrice"),
            stop_price=_price(m, "stopPrice"),
            stop_loss=_price(m, "stopLoss"),
            take_profit=_price(m, "takeProfit"),
            expires_ms=int(m.expirationTimestamp) if m.HasField("expirationTimestamp") else None,
            time_in_force=int(m.timeInForce),
        )
        self.fake.publish(self.broker.place(account, order), session, msg_id)

    def on_ProtoOAClosePositionReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        position = account.positions.get(int(m.positionId))
        if position is None:
            raise Refused("POSITION_NOT_FOUND", f"position {m.positionId}")
        if int(m.volume) > position.volume or int(m.volume) <= 0:
            raise Refused("TRADING_BAD_VOLUME", f"volume {m.volume} of {position.volume}")
        order = self.broker.closing_order(account, position, int(m.volume))
        symbol = self.broker.symbols[position.symbol_id]
        price = symbol.bid if order.side == 2 else symbol.ask
        execs = [Exec(ACCEPTED, account.account_id, order, position), *self.broker.fill(account, order, price)]
        self.fake.publish(execs, session, msg_id)

    def on_ProtoOAAmendPositionSLTPReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        position = account.positions.get(int(m.positionId))
        if position is None:
            raise Refused("POSITION_NOT_FOUND", f"position {m.positionId}")
        position.stop_loss = _price(m, "stopLoss")  # the request sets both levels: an absent one is removed
        position.take_profit = _price(m, "takeProfit")
        order = Order(self.broker.next_id(), account.account_id, position.symbol_id, 4, position.side, position.volume)
        self.fake.publish([Exec(REPLACED, account.account_id, order, position)], session, msg_id)

    def on_ProtoOACancelOrderReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        order = account.orders.get(int(m.orderId))
        if order is None or order.status != 1 or order.order_type == MARKET:
            raise Refused("ORDER_NOT_FOUND", f"order {m.orderId} is not resting")
        order.status = 5
        self.fake.publish([Exec(CANCELLED, account.account_id, order)], session, msg_id)

    # -- history --------------------------------------------------------------------------------------

    def on_ProtoOADealListReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        deals = [d for d in account.deals if m.fromTimestamp <= d.executed_ms <= m.toTimestamp]
        limit = int(m.maxRows) if m.HasField("maxRows") and m.maxRows else len(deals)
        answer = pb.oa.ProtoOADealListRes(ctidTraderAccountId=m.ctidTraderAccountId, hasMore=len(deals) > limit)
        answer.deal.extend(encode.deal(d) for d in deals[:limit])
        session.send(answer, msg_id)

    def on_ProtoOADealListByPositionIdReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        answer = pb.oa.ProtoOADealListByPositionIdRes(ctidTraderAccountId=m.ctidTraderAccountId)
        answer.deal.extend(
            encode.deal(d)
            for d in account.deals
            if d.position_id == int(m.positionId) and m.fromTimestamp <= d.executed_ms <= m.toTimestamp
        )
        session.send(answer, msg_id)

    def on_ProtoOAOrderListReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        answer = pb.oa.ProtoOAOrderListRes(ctidTraderAccountId=m.ctidTraderAccountId, hasMore=False)
        answer.order.extend(
            encode.order(o) for o in account.orders.values() if m.fromTimestamp <= o.created_ms <= m.toTimestamp
        )
        session.send(answer, msg_id)

    def on_ProtoOAOrderDetailsReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        account = self._account(session, m)
        order = account.orders.get(int(m.orderId))
        if order is None:
            raise Refused("ORDER_NOT_FOUND", f"order {m.orderId}")
        answer = pb.oa.ProtoOAOrderDetailsRes(ctidTraderAccountId=m.ctidTraderAccountId, order=encode.order(order))
        answer.deal.extend(encode.deal(d) for d in account.deals if d.order_id == order.order_id)
        session.send(answer, msg_id)

    # -- prices ---------------------------------------------------------------------------------------

    def on_ProtoOASubscribeSpotsReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        self._account(session, m)
        symbols = [self.broker.symbol(int(i)) for i in m.symbolId]
        session.spots.setdefault(int(m.ctidTraderAccountId), set()).update(s.symbol_id for s in symbols)
        session.send(pb.oa.ProtoOASubscribeSpotsRes(ctidTraderAccountId=m.ctidTraderAccountId), msg_id)
        for s in symbols:  # the first event after subscribing carries the latest prices
            session.send(encode.spot(int(m.ctidTraderAccountId), s))

    def on_ProtoOAUnsubscribeSpotsReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        self._account(session, m)
        session.spots.get(int(m.ctidTraderAccountId), set()).difference_update(int(i) for i in m.symbolId)
        session.send(pb.oa.ProtoOAUnsubscribeSpotsRes(ctidTraderAccountId=m.ctidTraderAccountId), msg_id)

    def on_ProtoOAGetTrendbarsReq(self, session: Session, m: Any, msg_id: str | None) -> None:
        self._account(session, m)
        answer = pb.oa.ProtoOAGetTrendbarsRes(ctidTraderAccountId=m.ctidTraderAccountId, period=m.period, timestamp=0)
        for minute, o, h, lo, c, volume in self.fake.trendbars.get((int(m.symbolId), int(m.period)), []):
            if m.fromTimestamp <= minute * 60_000 < m.toTimestamp:
                low = encode.int_price(lo)
                answer.trendbar.add(
                    volume=volume,
                    period=m.period,
                    low=low,
                    deltaOpen=encode.int_price(o) - low,
                    deltaHigh=encode.int_price(h) - low,
                    deltaClose=encode.int_price(c) - low,
                    utcTimestampInMinutes=minute,
                )
        session.send(answer, msg_id)


def _price(message: Any, name: str) -> Decimal | None:
    return Decimal(repr(getattr(message, name))) if message.HasField(name) else None
