"""What an import reports about a line: not understood (a problem, which blocks the import) or understood and
deliberately not used (ignored, with the reason)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LegacyProblem:
    """A line (or a whole file or section) the importer cannot use.

    ``skip_name()`` is what a user names to skip it: ``file:line`` (that line is left out) or, for what no
    single line can fix (``item``), a strategy section of atrader.config (that instance is left out).
    ``section`` is the strategy section it belongs to: skipping the section drops it.
    """

    file: str
    line: int | None
    key: str
    value: str
    why: str
    item: str = ""
    section: str = ""

    def skip_name(self) -> str:
        """The name that skips this problem's line (``file:line``), or its item when it has one."""
        if self.item:
            return self.item
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        what = f" {self.key}={self.value}" if self.key else ""
        return f"{where}:{what} {self.why}"


@dataclass(frozen=True, slots=True)
class LegacyIgnored:
    """A line that was understood and is deliberately not imported (``why`` says where it went instead)."""

    file: str
    line: int | None
    key: str
    value: str
    why: str

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.key}={self.value} ignored: {self.why}"
