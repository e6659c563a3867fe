"""The XML configuration a legacy AsirikuyFrameworkAPI reads on its first initInstanceC, written per deployment.

The real library takes from it the folder of its per-instance files (``<id>.state``, ``<id>.ui``,
``<id>_heartBeat.hb``, RECORD_BARS' CSVs), its log folder and the folder of ``broker-tz.csv``; it crashes when
a folder is missing. So the platform writes one config per deployment under its var dir, with absolute paths
to folders it has created:

* ``<var>/framework/live/``: live runs (the supervised library process of each strategy worker). Instance state
  files stay there across restarts, as the legacy trader kept them.
* ``<var>/framework/test/``: backtests and optimisation, whose instances are initialised with ``isTesting`` (the
  library resets their state), so a backtest never reads or overwrites a live state file.

Our own library only checks that a config path is given. ``ASIRIKUY_FRAMEWORK_CONFIG`` names a config of your
own instead (then both modes use it, and its folders are yours to create).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from framework.errors import FrameworkLoadError

Mode = Literal["live", "test"]
MODES: tuple[Mode, ...] = ("live", "test")
CONFIG_DIR = Path(__file__).resolve().parent
BROKER_TZ_FILE = CONFIG_DIR / "broker-tz.csv"
REPO_ROOT = CONFIG_DIR.parents[1]


def var_dir() -> Path:
    """The platform's var dir: ASIRIKUY_VAR_DIR, else ``var/`` in the repository (as the Django settings say)."""
    env = os.environ.get("ASIRIKUY_VAR_DIR")
    return Path(env) if env else REPO_ROOT / "var"


@dataclass(frozen=True, slots=True)
class FrameworkFolders:
    """The folders and the config file of one mode."""

    root: Path
    temp: Path
    log: Path
    config: Path


def framework_folders(mode: Mode, var: Path | None = None) -> FrameworkFolders:
    """Where the generated config of ``mode`` lives and which folders it names (nothing is created)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, was {mode!r}")
    root = (var or var_dir()).resolve() / "framework" / mode
    return FrameworkFolders(root=root, temp=root / "tmp", log=root / "log", config=root / "AsirikuyConfig.xml")


def _folder(path: Path) -> str:
    # The library appends file names to these strings: they must end with a separator.
    return escape(str(path) + os.sep)


def config_xml(folders: FrameworkFolders) -> str:
    """The text of the config for ``folders``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by Asirikuy Trader (framework/config); rewritten when it differs. Paths are absolute. -->
<AsirikuyConfig>
  <RatesBufferExtension>10</RatesBufferExtension>
  <TempFileFolderPath>{_folder(folders.temp)}</TempFileFolderPath>
  <ConfigPaths>
    <ConfigFolderPath>{_folder(BROKER_TZ_FILE.parent)}</ConfigFolderPath>
    <BrokerTZFilename>{BROKER_TZ_FILE.name}</BrokerTZFilename>
    <ParamSpaceFilenameExtension>.set</ParamSpaceFilenameExtension>
  </ConfigPaths>
  <Logging>
    <Folder>{_folder(folders.log)}</Folder>
    <MaxSeverity>5</MaxSeverity>
    <EnableEquityLog>0</EnableEquityLog>
    <EnableEntryLog>0</EnableEntryLog>
    <barsToLog>0</barsToLog>
  </Logging>
  <NTP>
    <UpdateInterval>3000</UpdateInterval>
    <Timeout>5000</Timeout>
    <TotalReferenceTimes>4</TotalReferenceTimes>
  </NTP>
  <TradingWeekBoundaries>
    <CropMondayHours>4</CropMondayHours>
    <CropFridayHours>4</CropFridayHours>
  </TradingWeekBoundaries>
</AsirikuyConfig>
"""


def framework_config_ensure(mode: Mode, var: Path | None = None) -> Path:
    """Create the folders of ``mode`` and write its config (atomically, only when it differs); its path."""
    folders = framework_folders(mode, var)
    try:
        for folder in (folders.temp, folders.log):
            folder.mkdir(parents=True, exist_ok=True)
        text = config_xml(folders)
        if not folders.config.is_file() or folders.config.read_text(encoding="utf-8") != text:
            partial = folders.config.with_name(f".{folders.config.name}.{os.getpid()}")
            partial.write_text(text, encoding="utf-8")
            partial.replace(folders.config)
    except OSError as e:
        raise FrameworkLoadError(f"cannot write the framework config under {folders.root}: {e}") from e
    return folders.config


def resolve_config_path(config_path: str | os.PathLike[str] | None = None, *, mode: Mode = "test") -> Path:
    """The config passed to initInstanceC: the argument, ASIRIKUY_FRAMEWORK_CONFIG, else the generated one."""
    if config_path is not None:
        return Path(config_path)
    env = os.environ.get("ASIRIKUY_FRAMEWORK_CONFIG")
    return Path(env) if env else framework_config_ensure(mode)


def temp_folder(config_path: Path) -> Path:
    """The TempFileFolderPath a config names (relative paths are taken from the working directory, as the
    library does); where a library writes ``<id>.ui`` and ``<id>_heartBeat.hb``."""
    try:
        root = ET.parse(config_path).getroot()
    except (OSError, ET.ParseError) as e:
        raise FrameworkLoadError(f"cannot read the framework config {config_path}: {e}") from e
    text = (root.findtext("TempFileFolderPath") or "").strip()
    if not text:
        raise FrameworkLoadError(f"{config_path} names no TempFileFolderPath")
    return Path(text).resolve()


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip().lower() or default
    if value not in choices:
        raise FrameworkLoadError(f"{name}={os.environ.get(name)!r}: must be one of {', '.join(choices)}")
    return value


def live_ntp_enabled() -> bool:
    """ASIRIKUY_FRAMEWORK_NTP: ``off`` (default) or ``on``.

    With IS_BACKTESTING = 0 the legacy library checks the broker time against NTP servers (``*.pool.ntp.org``)
    and retries them without end when none answers. ``off`` passes IS_BACKTESTING = 1 on live calls of a
    foreign library, which skips that check (initInstanceC still gets isTesting = 0: state files are loaded);
    ``on`` passes 0, for hosts that reach NTP (or resolve those names to servers of your own).
    """
    return _env_choice("ASIRIKUY_FRAMEWORK_NTP", "off", ("off", "on")) == "on"


def call_time_limit() -> float:
    """ASIRIKUY_FRAMEWORK_CALL_SECONDS (default 30): the longest one call of a foreign library may take."""
    raw = os.environ.get("ASIRIKUY_FRAMEWORK_CALL_SECONDS", "").strip()
    if not raw:
        return 30.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.1 <= value <= 3600:
        raise FrameworkLoadError(f"ASIRIKUY_FRAMEWORK_CALL_SECONDS={raw!r}: must be a number of seconds in 0.1..3600")
    return value


def broker_tz_names() -> set[str]:
    """The broker names of broker-tz.csv (a legacy library knows no other time zone)."""
    names = set()
    for number, line in enumerate(BROKER_TZ_FILE.read_text(encoding="utf-8").splitlines()):
        if number and line.strip():
            names.add(line.split(";", 1)[0].strip().strip('"'))
    return names
