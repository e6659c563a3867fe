"""Template filters for numbers people read (``{% load trading_format %}``); the rules are in dashboard.display."""

from __future__ import annotations

from typing import Any

from django import template

from trading.dashboard import display
from trading.selectors.catalog import strategy_names

register = template.Library()


@register.filter
def money(value: Any, currency: str = "") -> str:
    return display.money(value, currency)


@register.filter
def pct(value: Any) -> str:
    return display.percent(value)


@register.filter
def ratio(value: Any, places: int = 2) -> str:
    return display.ratio(value, int(places))


@register.filter
def price(value: Any, digits: int = 5) -> str:
    return display.price(value, digits)


@register.filter
def units(value: Any) -> str:
    return display.units(value)


@register.filter
def tf(value: Any) -> str:
    return display.timeframe_name(value)


@register.filter
def duration(value: Any) -> str:
    return display.duration(value)


@register.filter
def stat(value: Any, key: str) -> str:
    return display.statistic_value(key, value)


@register.filter
def strategy(strategy_id: Any) -> str:
    """The catalog name of a strategy id (``unknown strategy 7``: not in this process's catalog)."""
    try:
        return strategy_names().get(int(strategy_id), f"unknown strategy {strategy_id}")
    except (TypeError, ValueError):
        return display.DASH


@register.filter
def signed(value: Any) -> str:
    """``pos``/``neg``/empty: the CSS class colouring a P/L."""
    number = display._decimal(value)
    if number is None or number == 0:
        return ""
    return "pos" if number > 0 else "neg"


@register.simple_tag(takes_context=True)
def sort_url(context: Any, key: str) -> str:
    """The current URL sorted by ``key`` (toggling the direction when it already is), page reset."""
    request = context["request"]
    params = request.GET.copy()
    current = params.get("sort", "")
    params["sort"] = f"-{key}" if current == key else key
    params.pop("page", None)
    return "?" + params.urlencode()


@register.simple_tag(takes_context=True)
def page_url(context: Any, number: int) -> str:
    params = context["request"].GET.copy()
    params["page"] = number
    return "?" + params.urlencode()


@register.filter
def held(trade: Any) -> str:
    """How long a trade was (or has been) open, humanised."""
    end = getattr(trade, "close_time", None)
    if end is None or getattr(trade, "open_time", None) is None:
        return display.DASH
    return display.duration(end - trade.open_time)


@register.filter
def statname(key: str) -> str:
    """A statistic's MetaTrader name (or its own), never a bare key."""
    return display.statistic_name(key)
