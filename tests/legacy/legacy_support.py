"""Shared data and helpers of the legacy tests: the legacy folder, M5 history, second-library instances."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

# A Tuesday; the instrument trades every day (always_open), so only the bars matter.
NOW = datetime(2024, 3, 12, 14, 37, 5, tzinfo=UTC)
LAST_CLOSED = datetime(2024, 3, 12, 14, 30, tzinfo=UTC)  # the last closed M5 bar at NOW
M5_BARS = 48_500  # AutoBBS-like slot 5: 20 weekly bars x 1.2 x 10080 / 5 = 48,384 closed M5 bars


def forget_loaded() -> None:
    from framework.isolated import forget_library_info, isolated_close_all
    from framework.strategy import forget_framework

    isolated_close_all()
    forget_framework()
    forget_library_info()


def library_copy(sabi_path: Path, folder: Path) -> Path:
    """A copy of the library under a new path: loaded in this process it has globals of its own, as a legacy
    library's first initInstanceC fixes its config for the whole process."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(sabi_path, folder / "libsecond_abi.so"))


def folders(var: Path, mode: str):
    from framework.config import framework_folders

    return framework_folders(mode, var)  # type: ignore[arg-type]


# --- the legacy folder ------------------------------------------------------------------------------------

ATRADER = """\
[misc]
logSeverity = 2
screenLogSeverity = 4
executionTime = 30
smtp = smtp.example.org
port = 587
from = trader@example.org
to = me@example.org
user = trader
password = mail-secret

[plots]
graphicPaintingPeriod = 0
enableWebServer = False
webServerPort = 25000

[account]
accountName = Legacy portfolio
brokerName = OANDA Corporation
refBrokerName = OANDA Corporation
strategies = autobbs_eurusd, single_eurusd
login = 1234567
password = {token}
useOrderWrapper = False
hasStaticIP = False
isDemo = True
useStreaming = False
initialBalance = 10000
depositSymbol = USD
accountID = 101-004-1234567-001
isJava = False

[autobbs_eurusd]
name = AutoBBS EURUSD
setFile = autobbs_eurusd.set
pair = EURUSD
strategyId = 29
passedTimeFrame = 5
rateRequirements = 400,400,240,240,100,20
symbolRequirements = D,D,D,D,D,D
timeframeRequirements = 0,5,60,240,1440,10080

[single_eurusd]
name = Single EURUSD
setFile = single_eurusd.set
pair = EURUSD
strategyId = 7
passedTimeFrame = 5
rateRequirements = 50
symbolRequirements = D
timeframeRequirements = 15

[old_unused]
name = not listed
setFile = missing.set
"""

AUTOBBS_SET = """\
FRAMEWORK_CONFIG=./config/AsirikuyConfig.xml
USE_ORDER_WRAPPER=0
ENABLE_SCREENSHOTS=0
SECTION_1=####### main settings #######
OPERATIONAL_MODE=1
RUN_EVERY_TICK=0
STRATEGY_INSTANCE_ID=2901
STRATEGY_TIMEFRAME=5
ACCOUNT_RISK_PERCENT=0.50000000
ACCOUNT_RISK_PERCENT,F=0
ACCOUNT_RISK_PERCENT,1=0.50000000
ACCOUNT_RISK_PERCENT,2=0.00000000
ACCOUNT_RISK_PERCENT,3=0.00000000
MAX_DRAWDOWN_PERCENT=25.00000000
MAX_SPREAD_PIPS=3.00000000
MAX_OPEN_ORDERS=199
TIMED_EXIT_BARS=0
SL_ATR_MULTIPLIER=0.00000000
TP_ATR_MULTIPLIER=0.00000000
ATR_AVERAGING_PERIOD=20
UI_FONT_SIZE=10
UI_COLOR=16777215
SECTION_2=####### risk #######
USE_INSTANCE_BALANCE=0
INIT_INSTANCE_BALANCE=0
SECTION_3=####### AutoBBS #######
AUTOBBS_ADJUSTPOINTS=0.00000000
AUTOBBS_TP_MODE=1
AUTOBBS_TREND_MODE=3
AUTOBBS_TREND_MODE,F=1
AUTOBBS_TREND_MODE,1=0
AUTOBBS_TREND_MODE,2=1
AUTOBBS_TREND_MODE,3=10
AUTOBBS_RISK_CAP=2.50000000
AUTOBBS_EXECUTION_RATES=5
AUTOBBS_STARTHOUR=7
"""

SINGLE_SET = """\
OPERATIONAL_MODE=1
STRATEGY_INSTANCE_ID=701
STRATEGY_TIMEFRAME=15
ACCOUNT_RISK_PERCENT=0
MAX_OPEN_ORDERS=2
MAX_SPREAD_PIPS=0
SECTION_3=--- parameters ---
ADDITIONAL_PARAM_1=4
ADDITIONAL_PARAM_2=1.25000000
ADDITIONAL_PARAM_2,F=1
ADDITIONAL_PARAM_2,1=1.00000000
ADDITIONAL_PARAM_2,2=0.25000000
ADDITIONAL_PARAM_2,3=2.00000000
"""


def crlf(text: str) -> bytes:
    """Presets as MetaTrader writes them: CRLF line ends."""
    return text.replace("\n", "\r\n").encode()


def write_folder(
    root: Path, *, config: str = ATRADER, sets: dict[str, str] | None = None, token: str = "t0ken"
) -> Path:
    """A legacy folder: config/atrader.config and sets/*.set (CRLF presets)."""
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "sets").mkdir(exist_ok=True)
    (root / "config" / "atrader.config").write_text(config.replace("{token}", token))
    for name, text in (
        sets if sets is not None else {"autobbs_eurusd.set": AUTOBBS_SET, "single_eurusd.set": SINGLE_SET}
    ).items():
        (root / "sets" / name).write_bytes(crlf(text))
    return root


# --- the market ----------------------------------------------------------------------------------------------


def m5_history(count: int = M5_BARS, last_open: datetime = LAST_CLOSED) -> np.ndarray:
    """Deterministic M5 bars (BAR_DTYPE, integer points) ending with the bar that opens at ``last_open``."""
    from trading.bars.timeframes import BAR_DTYPE

    k = np.arange(count, dtype=np.int64)
    close = 110_000 + (300 * np.sin(k / 37.0) + 80 * np.sin(k / 5.0) + (k % 7) * 3).astype(np.int64)
    open_ = np.r_[close[0] - 5, close[:-1]]
    bars = np.zeros(count, dtype=BAR_DTYPE)
    bars["time"] = int(last_open.timestamp()) - 300 * (count - 1 - k)
    bars["open"], bars["close"] = open_, close
    bars["high"] = np.maximum(open_, close) + 7 + (k % 5)
    bars["low"] = np.minimum(open_, close) - 6 - (k % 3)
    bars["volume"] = 10 + k % 13
    bars["spread"] = -1
    bars["complete"] = True
    return bars


def next_bar(now: datetime, minutes: int = 5) -> datetime:
    return now + timedelta(minutes=minutes)


def foreign_instance(account, instrument, *, instance_id, strategy_id, timeframe=5, bars=50, parameters=None, **fields):
    """An instance of a second-library strategy with one slot (the pair, its TIMEFRAME, ``bars`` bars)."""
    from trading.models import LegacyInstanceConfig
    from trading.services.instances import instance_create

    instance = instance_create(
        account=account,
        instrument=instrument,
        strategy_id=strategy_id,
        name=f"second library {strategy_id}",
        timeframe=timeframe,
        parameters=parameters or {"ADDITIONAL_PARAM_1": 1},
        risk_percent=Decimal("1"),
        instance_id=instance_id,
        **fields,
    )
    LegacyInstanceConfig.objects.create(
        instance=instance,
        strategy_timeframe=timeframe,
        rates_requirements=[{"symbol": "", "timeframe": 0, "bars": bars, "fetched_timeframe": timeframe}],
    )
    return instance
