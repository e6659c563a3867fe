"""Which library is configured, and is it ours? Answered without loading a foreign library into this process."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from framework import _ffi
from framework.config import resolve_config_path


@dataclass(frozen=True, slots=True)
class LibraryInfo:
    """The configured library: its path, getFrameworkVersion and whether it is ours (framework/c)."""

    path: Path
    version: tuple[int, int, int]
    is_ours: bool

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


_lock = threading.Lock()
_cache: dict[tuple[str, int], LibraryInfo] = {}


def library_info(path: str | os.PathLike[str] | None = None) -> LibraryInfo:
    """Describe the library ASIRIKUY_FRAMEWORK_LIBRARY names (or ``path``); cached per file version.

    Our own build is loaded here (it is safe); any other library is asked in a child process that exits
    right after, so a library that crashes on load cannot take this process with it.
    """
    resolved = _ffi.resolve_library_path(path)
    try:
        stamp = resolved.stat().st_mtime_ns
    except OSError:
        stamp = -1
    key = (str(resolved), stamp)
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    if resolved == _ffi.DEFAULT_LIBRARY_PATH:
        library = _ffi.Library(resolved)
        info = LibraryInfo(resolved, library.version(), library.is_ours)
    else:
        from framework.isolated.host import IsolatedFramework

        probe = IsolatedFramework(resolved, resolve_config_path(mode="live"), call_seconds=30.0)
        try:
            probe.start()
            info = LibraryInfo(resolved, probe.version, probe.is_ours)
        finally:
            probe.close()
    with _lock:
        _cache[key] = info
    return info


def forget_library_info() -> None:
    """Forget what was learnt about libraries (after ASIRIKUY_FRAMEWORK_LIBRARY changed in this process)."""
    with _lock:
        _cache.clear()


def foreign_library() -> bool:
    """True when the configured library is not ours: its strategies are any ids, named as in .set files.

    Without ASIRIKUY_FRAMEWORK_LIBRARY the library is our build, and nothing is loaded to say so.
    """
    if _ffi.resolve_library_path() == _ffi.DEFAULT_LIBRARY_PATH:
        return False
    return not library_info().is_ours
