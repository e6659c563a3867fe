"""Units, prices, money and times between cTrader's wire and our Decimal / UTC values: the one place they are
converted (Spotware's OpenApiModelMessages.proto comments give each unit).

- Volumes are in cents of a unit (``1000`` = 10.00 units); ``lotSize``, ``minVolume``, ``stepVolume`` too.
- Prices of spot events, trend bars and relative stops are integers in 1/100,000 of a price unit; prices of
  orders, positions and deals are doubles, rounded here to the symbol's digits.
- Money (balance, P/L, swap, commission) is an integer scaled by 10^moneyDigits (2 when absent).
- Times are Unix milliseconds (trend bars: minutes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from brokers.errors import BrokerRejectedError

PRICE_SCALE = 5  # integer prices are in 1/10^5
MAX_CLIENT_ORDER_ID = 50  # ProtoOANewOrderReq.clientOrderId MaxLength
LABEL_PREFIX = "asirikuy:"


@dataclass(frozen=True)
class SymbolSpec:
    """One symbol as the account's broker defines it (ProtoOALightSymbol + ProtoOASymbol)."""

    symbol_id: int
    name: str  # the broker's name, e.g. EURUSD
    digits: int
    pip_position: int
    lot_units: Decimal  # units in one lot (the contract size)
    min_units: Decimal
    max_units: Decimal | None
    step_units: Decimal
    base_asset: str = ""
    quote_asset: str = ""
    description: str = ""
    enabled: bool = True

    @property
    def unit_precision(self) -> int:
        """Decimals a volume step needs (0 for a step of 1,000 units, 2 for 0.01)."""
        exponent = self.step_units.normalize().as_tuple().exponent
        return max(0, -exponent) if isinstance(exponent, int) else 0


def volume_of(units: Decimal, spec: SymbolSpec | None = None) -> int:
    """Positive units → cTrader volume (cents), refusing what the symbol's volume step does not allow."""
    if units <= 0:
        raise BrokerRejectedError(f"units must be positive, was {units}", reason="UNITS_INVALID")
    volume = units * 100
    if volume != volume.to_integral_value():
        raise BrokerRejectedError(f"{units} units is finer than 0.01 of a unit", reason="UNITS_PRECISION_EXCEEDED")
    if spec is not None:
        if units < spec.min_units:
            raise BrokerRejectedError(
                f"{units} units of {spec.name} is below the broker's minimum {spec.min_units}", reason="UNITS_MINIMUM"
            )
        if spec.step_units > 0 and units % spec.step_units != 0:
            raise BrokerRejectedError(
                f"{units} units of {spec.name} is not a multiple of the broker's volume step {spec.step_units}",
                reason="UNITS_STEP",
            )
    return int(volume)


def units_of(volume: int) -> Decimal:
    """cTrader volume (cents) → units: ``100000`` → ``Decimal("1000")``, ``150`` → ``Decimal("1.5")``."""
    units = Decimal(int(volume)).scaleb(-2)
    return units.quantize(Decimal(1)) if units == units.to_integral_value() else units.normalize()


def price_of_int(value: int, digits: int) -> Decimal:
    """An integer price in 1/100,000 → Decimal at ``digits``."""
    return Decimal(int(value)).scaleb(-PRICE_SCALE).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)


def price_of_double(value: float, digits: int) -> Decimal:
    """A double price → Decimal at ``digits`` (the shortest repr of the double, then rounded)."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)


def double_of(price: Decimal, digits: int) -> float:
    """A Decimal price → the double the wire takes, rounded to the symbol's digits first."""
    return float(price.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN))


def relative_of(distance: Decimal) -> int:
    """A positive price distance → integer 1/100,000 of a price unit (relative stop loss / take profit)."""
    return int((abs(distance) * 10**PRICE_SCALE).to_integral_value(rounding=ROUND_HALF_EVEN))


def money_of(value: int, money_digits: int | None) -> Decimal:
    return Decimal(int(value)).scaleb(-(money_digits if money_digits else 2))


def time_of_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def ms_of(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} is naive; cTrader times are UTC")
    return int(moment.timestamp() * 1000)


def wire_client_order_id(client_order_id: str) -> str:
    """Our client order id as cTrader takes it (at most 50 characters; longer ids become a stable digest)."""
    if len(client_order_id) <= MAX_CLIENT_ORDER_ID:
        return client_order_id
    return "h" + hashlib.sha256(client_order_id.encode()).hexdigest()[: MAX_CLIENT_ORDER_ID - 1]


def label_of(instance_id: int) -> str:
    """The order label that carries the magic number (MaxLength 100)."""
    return f"{LABEL_PREFIX}{instance_id}"


def instance_of_label(label: str) -> int | None:
    if label.startswith(LABEL_PREFIX) and label[len(LABEL_PREFIX) :].isdigit():
        return int(label[len(LABEL_PREFIX) :])
    return None


def comment_of(instance_id: int, client_order_id: str) -> str:
    """The order comment, kept by the position it opens: instance and our client order id, readable by people."""
    return f"asirikuy instance {instance_id} order {client_order_id}"


def client_order_id_of_comment(comment: str) -> str:
    _, found, rest = comment.partition(" order ")
    return rest.strip() if found and comment.startswith("asirikuy instance ") else ""
