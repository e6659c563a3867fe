"""The framework as this worker process sees it: instances initialised on first use, re-initialised on change,
and released when the process needs their slot.

Framework state lives in the process that runs the instance (pinned queues keep it there). When an
instance's settings change, the next run here re-initialises it, so stale library state never leaks.

A library holds at most ``FRAMEWORK_INSTANCE_SLOTS`` (200 for the Asirikuy ABI) instances per process,
and one worker serves the accounts of many users. So a slot is never kept for good: when a new instance
needs one and none is free, instances that were deleted or disabled are released first, then the least
recently run ones (their state is re-created by the next run's init). Only when every slot is held by
something this module cannot release (e.g. a backtest in the same process) does the run fail, and then
with :class:`FrameworkSlotsExhausted` on that instance's own execution, never on another user's.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from django.conf import settings as django_settings

from framework import StrategySettings, get_framework
from framework.config import temp_folder
from framework.errors import TooManyInstancesError
from framework.isolated import IsolatedFramework, isolated_framework
from framework.strategy import Framework
from framework.types import DroppedSignal, OrderSignal
from trading.bars.brokertime import framework_time
from trading.legacy.status import legacy_files_record
from trading.models import LegacyInstanceConfig, StrategyInstance
from trading.services.execution.inputs import BROKER_TZ, legacy_config
from trading.services.instance_validation import strategy_is_foreign

_lock = threading.Lock()
# instance id -> settings fingerprint, least recently run first.
_fingerprints: OrderedDict[int, str] = OrderedDict()


class FrameworkSlotsExhausted(RuntimeError):
    """Every framework slot of this worker is held by work that cannot be released now; retry later."""


def _capacity() -> int:
    return int(getattr(django_settings, "FRAMEWORK_INSTANCE_SLOTS", 200))


def _release(fw: Framework, instance_id: int) -> None:
    _fingerprints.pop(instance_id, None)
    fw.deinit_instance(instance_id)


def _release_idle(fw: Framework, keep: int, *, needed: int) -> int:
    """Release up to ``needed`` slots: deleted or disabled instances first, then the least recently run."""
    from trading.models import StrategyInstance

    candidates = [i for i in _fingerprints if i != keep]
    if not candidates:
        return 0
    live = set(StrategyInstance.objects.filter(pk__in=candidates, enabled=True).values_list("pk", flat=True))
    order = [i for i in candidates if i not in live] + [i for i in candidates if i in live]
    released = 0
    for instance_id in order[:needed]:
        _release(fw, instance_id)
        released += 1
    return released


def _init(fw: Framework, instance_id: int, *, is_testing: bool, reset: bool) -> None:
    """Init (or re-init) ``instance_id``, releasing idle slots when the library has none free."""
    overflow = len(_fingerprints) + (0 if instance_id in _fingerprints else 1) - _capacity()
    if overflow > 0:
        # An eighth of the slots at once: a worker serving more instances than it has slots then looks up which
        # are disabled once per many runs, not on every run.
        _release_idle(fw, instance_id, needed=max(overflow, _capacity() // 8))
    for _ in range(2):
        try:
            if reset:
                fw.reset_instance(instance_id, is_testing=is_testing)
            else:
                fw.ensure_instance(instance_id, is_testing=is_testing)
            return
        except TooManyInstancesError:
            # Slots held outside this module (or a capacity set above the library's): free one of ours.
            _fingerprints.pop(instance_id, None)
            reset = False
            if not _release_idle(fw, instance_id, needed=1):
                break
    raise FrameworkSlotsExhausted(
        f"instance {instance_id}: all framework slots of this worker are in use by runs that cannot be released "
        "now; it will run at a later bar"
    )


def framework_prepare(instance_id: int, settings: StrategySettings, *, is_testing: bool = False) -> Framework:
    """The framework, with ``instance_id`` initialised for ``settings`` (its slot marked as just used)."""
    fw = get_framework()
    fingerprint = hashlib.sha1(settings.to_array().tobytes()).hexdigest()
    with _lock:
        known = _fingerprints.get(instance_id)
        if known is None:
            _init(fw, instance_id, is_testing=is_testing, reset=False)
        elif known != fingerprint:
            _init(fw, instance_id, is_testing=is_testing, reset=True)
        _fingerprints[instance_id] = fingerprint
        _fingerprints.move_to_end(instance_id)
    return fw


class ForeignRun:
    """One live call of a foreign library's strategy, in this worker's supervised library process.

    It passes the broker time of ``now`` (the wall clock when the bar close ran; the legacy library checks it
    against NTP when IS_BACKTESTING is 0) and the instance's reference broker, and afterwards keeps what the
    library wrote for the instance (UI values, heartbeat) on its row. A crash or hang of the library raises a
    ForeignLibraryError for this instance only.
    """

    def __init__(self, host: IsolatedFramework, legacy: LegacyInstanceConfig, now: datetime) -> None:
        self.host, self.legacy, self.now = host, legacy, now

    def run(self, **call: Any) -> list[OrderSignal]:
        call["current_time"] = framework_time(self.now, BROKER_TZ)
        call["ref_broker_name"] = self.legacy.ref_broker_name
        try:
            return self.host.run(**call, is_testing=False)
        finally:
            legacy_files_record(
                instance_id=self.legacy.instance_id,
                temp=temp_folder(self.host.config_path),
                library_version=".".join(map(str, self.host.version)),
            )

    def last_dropped(self) -> list[DroppedSignal]:
        return []


def framework_for(instance: StrategyInstance, settings: StrategySettings, *, now: datetime) -> Framework | ForeignRun:
    """What runs ``instance`` live: our library in this process, or a foreign library's supervised process."""
    if strategy_is_foreign(instance.strategy_id):
        return ForeignRun(isolated_framework("live"), legacy_config(instance), now)
    return framework_prepare(instance.instance_id, settings)


def framework_instance_forget(instance_id: int) -> None:
    """Release ``instance_id``'s slot in this process (if it holds one)."""
    with _lock:
        if instance_id in _fingerprints:
            _release(get_framework(), instance_id)


def framework_slots_held() -> list[int]:
    """Instance ids holding a slot in this process, least recently run first."""
    with _lock:
        return list(_fingerprints)
