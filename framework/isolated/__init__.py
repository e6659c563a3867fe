"""A library we did not write runs in a supervised child process, so it cannot take a worker down.

``IsolatedFramework`` offers Framework's calls; each goes to a child process (``python -m
framework.isolated.child``) that loads the library, and comes back within a time limit. A segfault or an abort
kills only the child: the call raises LibraryCrashError naming the signal; a call past the limit kills the
child and raises LibraryTimeoutError. The next call starts a new child (its instances are initialised again;
a live library reloads their state files). One child per worker process (shard) and library.
"""

from __future__ import annotations

from framework.isolated.host import IsolatedFramework, isolated_close_all, isolated_framework
from framework.isolated.probe import LibraryInfo, foreign_library, forget_library_info, library_info

__all__ = [
    "IsolatedFramework",
    "LibraryInfo",
    "foreign_library",
    "forget_library_info",
    "isolated_close_all",
    "isolated_framework",
    "library_info",
]
