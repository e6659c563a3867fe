"""Trained models of Python strategies: stored by the platform, loaded by reference, checked by hash.

A strategy refers to a model by id (a parameter such as MODEL_ID); ``load_artifact`` fetches it from the
store the platform registered (the database: backtests.services.artifacts) and refuses bytes whose SHA-256
differs from the recorded one. Loaded artifacts are kept per process by id (they never change).
"""

from __future__ import annotations

import hashlib
import platform
import threading
from dataclasses import dataclass, field
from importlib import metadata
from typing import Protocol

from framework.errors import InvalidParameterError


@dataclass(frozen=True)
class Artifact:
    """A stored model: its id, the payload's SHA-256, the payload and what it was trained on."""

    id: int
    sha256: str
    payload: bytes
    metadata: dict[str, object] = field(default_factory=dict)


class ArtifactStore(Protocol):
    """Where artifacts are read from (the platform registers one)."""

    def load(self, artifact_id: int) -> Artifact | None: ...


_store: ArtifactStore | None = None
_cache: dict[int, Artifact] = {}
_lock = threading.Lock()


def set_artifact_store(store: ArtifactStore | None) -> None:
    """Register the store ``load_artifact`` reads from."""
    global _store
    with _lock:
        _store = store
        _cache.clear()


def content_hash(payload: bytes) -> str:
    """SHA-256 of a payload, hex."""
    return hashlib.sha256(payload).hexdigest()


def load_artifact(artifact_id: int) -> Artifact:
    """The artifact ``artifact_id``; InvalidParameterError when there is none or its bytes were altered."""
    got = _cache.get(artifact_id)
    if got is not None:
        return got
    if _store is None:
        raise InvalidParameterError(f"no model store is registered to load model {artifact_id}")
    artifact = _store.load(artifact_id)
    if artifact is None:
        raise InvalidParameterError(f"model {artifact_id} does not exist")
    if content_hash(artifact.payload) != artifact.sha256:
        raise InvalidParameterError(f"model {artifact_id}: its bytes do not match its SHA-256 {artifact.sha256}")
    with _lock:
        _cache[artifact_id] = artifact
    return artifact


def library_versions(*names: str) -> dict[str, str]:
    """Versions of Python and of the named distributions (recorded with every trained model)."""
    versions = {"python": platform.python_version()}
    for name in ("numpy", *names):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
