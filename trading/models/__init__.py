"""Models of the platform: the database holds the truth about accounts, bars, orders and trades."""

from trading.models.accounts import AccountSnapshot, BrokerAccount
from trading.models.bars import Bar
from trading.models.enums import (
    FINAL_EXECUTION_STATUSES,
    Broker,
    BrokerEnvironment,
    CloseReason,
    ExecutionStatus,
    OperationalMode,
    OrderIntent,
    OrderStatus,
    OrderType,
    Side,
    Timeframe,
    TradeState,
)
from trading.models.executions import Execution
from trading.models.instances import StrategyInstance
from trading.models.instruments import Instrument, InstrumentKind
from trading.models.legacy import LegacyImport, LegacyInstanceConfig
from trading.models.orders import PENDING_TICKET_OFFSET, Order, Trade
from trading.models.reconciliation import (
    Discrepancy,
    DiscrepancyAction,
    DiscrepancyKind,
    DiscrepancyStatus,
    OrderSubmission,
)
from trading.models.sharing import AccountRole, AccountShare

__all__ = [
    "FINAL_EXECUTION_STATUSES",
    "PENDING_TICKET_OFFSET",
    "AccountRole",
    "AccountShare",
    "AccountSnapshot",
    "Bar",
    "Broker",
    "BrokerAccount",
    "BrokerEnvironment",
    "CloseReason",
    "Discrepancy",
    "DiscrepancyAction",
    "DiscrepancyKind",
    "DiscrepancyStatus",
    "Execution",
    "ExecutionStatus",
    "Instrument",
    "InstrumentKind",
    "LegacyImport",
    "LegacyInstanceConfig",
    "OperationalMode",
    "Order",
    "OrderIntent",
    "OrderStatus",
    "OrderSubmission",
    "OrderType",
    "Side",
    "StrategyInstance",
    "Timeframe",
    "Trade",
    "TradeState",
]
