"""The framework as this worker process sees it: each instance initialised once, re-initialised on change.

Framework state lives in the process that runs the instance (pinned queues keep it there). When an
instance's settings change, the next run here re-initialises it, so stale library state never leaks.
"""

from __future__ import annotations

import hashlib
import threading

from framework import StrategySettings, get_framework
from framework.strategy import Framework

_lock = threading.Lock()
_fingerprints: dict[int, str] = {}


def framework_prepare(instance_id: int, settings: StrategySettings, *, is_testing: bool = False) -> Framework:
    fw = get_framework()
    fingerprint = hashlib.sha1(settings.to_array().tobytes()).hexdigest()
    with _lock:
        known = _fingerprints.get(instance_id)
        if known is None:
            fw.ensure_instance(instance_id, is_testing=is_testing)
        elif known != fingerprint:
            fw.reset_instance(instance_id, is_testing=is_testing)
        _fingerprints[instance_id] = fingerprint
    return fw


def framework_instance_forget(instance_id: int) -> None:
    with _lock:
        if _fingerprints.pop(instance_id, None) is not None:
            get_framework().deinit_instance(instance_id)
