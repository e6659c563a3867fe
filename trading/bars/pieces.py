"""A file of bars as pieces cut after newlines, for the streamed import: from a string, or read on demand
from a file on disk (so a big upload is never held in memory whole)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Pieces(Protocol):
    """What the streamed import reads: a list of strings, or a FilePieces."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int, /) -> str: ...


class NotFast(Exception):
    """A piece of the file does not fit the fast path, or fails a check: import it the per-line way."""


def text_pieces(text: str, size: int) -> list[str]:
    """``text`` cut after newlines into pieces of about ``size`` characters (the last one up to 1.5×)."""
    pieces, start = [], 0
    while len(text) - start > size * 3 // 2:
        cut = text.find("\n", start + size) + 1
        if cut <= 0:
            break
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


class FilePieces:
    """A file on disk as pieces of about ``size`` bytes cut after newlines, read (and decoded) on demand."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        total = path.stat().st_size
        self.bounds = [0]
        self.newlines = 0
        with path.open("rb") as handle:
            while total - self.bounds[-1] > size * 3 // 2:
                handle.seek(self.bounds[-1] + size)
                handle.readline()
                cut = handle.tell()
                if cut >= total:
                    break
                self.bounds.append(cut)
            handle.seek(0)
            while chunk := handle.read(1 << 20):
                self.newlines += chunk.count(b"\n")
        self.bounds.append(total)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def __getitem__(self, index: int) -> str:
        with self.path.open("rb") as handle:
            handle.seek(self.bounds[index])
            data = handle.read(self.bounds[index + 1] - self.bounds[index])
        try:
            return data.decode("utf-8-sig" if index == 0 else "utf-8")
        except UnicodeDecodeError:
            raise NotFast from None  # the whole-file read that follows names the byte
