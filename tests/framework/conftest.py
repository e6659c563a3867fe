"""Fixtures for the framework tests: build the library once, load it once."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Without pytest-django (which adds the manage.py folder) the repo root is not importable and
# "framework" would resolve to this tests folder as a namespace package.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from framework import Framework, load_framework  # noqa: E402
from framework._ffi import DEFAULT_LIBRARY_PATH, resolve_library_path  # noqa: E402

C_DIR = REPO_ROOT / "framework" / "c"
_instance_ids = itertools.count(1000)


@pytest.fixture(scope="session")
def library_path() -> Path:
    """The library under test (ASIRIKUY_FRAMEWORK_LIBRARY or ours, built with make when missing)."""
    path = resolve_library_path()
    if path == DEFAULT_LIBRARY_PATH and not path.is_file():
        subprocess.run(["make", "-C", str(C_DIR)], check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def fw(library_path: Path) -> Framework:
    return load_framework(str(library_path))


_ours: dict[Path, bool] = {}


def library_is_ours(path: Path) -> bool:
    """Whether the library under test is framework/c (recognised by its own exports, so a sanitizer build is ours)."""
    if path not in _ours:
        from framework._ffi import Library

        _ours[path] = path == DEFAULT_LIBRARY_PATH or Library(path).is_ours
    return _ours[path]


@pytest.fixture(autouse=True)
def _ours_only(request: pytest.FixtureRequest) -> None:
    """Skip tests marked ``ours_only`` when ASIRIKUY_FRAMEWORK_LIBRARY names another library (e.g. the real one):
    they hold our library to rules a legacy library does not have (validation, no NULL reads, our exports)."""
    if request.node.get_closest_marker("ours_only") is None:
        return
    path = request.getfixturevalue("library_path")
    if not library_is_ours(path):
        pytest.skip(f"holds only for our library (framework/c); the library under test is {path}")


@pytest.fixture
def instance_id(fw: Framework) -> Iterator[int]:
    """A fresh registered instance id per test."""
    new_id = next(_instance_ids)
    fw.ensure_instance(new_id, is_testing=True)
    yield new_id
    fw.deinit_instance(new_id)
