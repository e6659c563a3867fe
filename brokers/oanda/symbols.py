"""Platform symbols (EURUSD) to OANDA instrument names (EUR_USD) and back."""

from __future__ import annotations

# Symbols whose base is not three letters (CFDs, metals with long codes) cannot be split by position.
_SPECIAL: dict[str, str] = {
    "DE30EUR": "DE30_EUR",
    "US30USD": "US30_USD",
    "SPX500USD": "SPX500_USD",
    "NAS100USD": "NAS100_USD",
    "UK100GBP": "UK100_GBP",
    "JP225USD": "JP225_USD",
    "BCOUSD": "BCO_USD",
    "WTICOUSD": "WTICO_USD",
}
_SPECIAL_REVERSE = {v: k for k, v in _SPECIAL.items()}


def to_broker_symbol(symbol: str) -> str:
    """Return OANDA's instrument name for a platform symbol: EURUSD -> EUR_USD."""
    s = symbol.strip().upper().replace("/", "").replace("_", "")
    if s in _SPECIAL:
        return _SPECIAL[s]
    if len(s) == 6 and s.isalpha():
        return f"{s[:3]}_{s[3:]}"
    if len(s) > 3:
        # Fall back to "everything but the last three letters is the base" (XAGUSD -> XAG_USD).
        return f"{s[:-3]}_{s[-3:]}"
    raise ValueError(f"cannot map symbol {symbol!r} to an OANDA instrument")


def from_broker_symbol(instrument: str) -> str:
    """Return the platform symbol for an OANDA instrument name: EUR_USD -> EURUSD."""
    if instrument in _SPECIAL_REVERSE:
        return _SPECIAL_REVERSE[instrument]
    return instrument.replace("_", "")


def split_instrument(instrument: str) -> tuple[str, str]:
    """Return (base, quote) of an OANDA instrument name."""
    base, _, quote = instrument.rpartition("_")
    return base, quote
