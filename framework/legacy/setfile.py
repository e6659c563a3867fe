"""MetaTrader ``.set`` presets: plain ``KEY=VALUE`` lines, read with their line numbers and written back.

There is no section header: the legacy loader treats the lines before the one starting with ``SECTION_3`` as
the main settings and the lines after it as the strategy's additional parameters. A key may carry an
optimisation suffix: ``KEY,F=1`` (optimise it), ``KEY,1=start``, ``KEY,2=step``, ``KEY,3=stop``.

Files are kept as they were read (encoding, byte-order mark, line endings, every line), so an exported file
changes only the values that changed (``SetFile.render``).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Literal

from framework.legacy.problems import LegacyProblem

Section = Literal["main", "additional"]
SUFFIXES = ("F", "1", "2", "3")


@dataclass(slots=True)
class SetLine:
    """One line: blank/comment lines have no key. ``value`` is the text after ``=`` (stripped)."""

    number: int
    text: str
    section: Section
    key: str = ""
    suffix: str = ""  # "", "F", "1", "2" or "3"
    value: str = ""
    banner: bool = False  # SECTION_n lines: layout only


@dataclass(slots=True)
class SetFile:
    """A parsed ``.set`` file that can be written back byte for byte."""

    name: str
    lines: list[SetLine]
    encoding: str = "utf-8"
    bom: bytes = b""
    newline: str = "\r\n"
    final_newline: bool = True
    problems: list[LegacyProblem] = field(default_factory=list)

    def keyed(self) -> list[SetLine]:
        """Lines that hold a key (banners included)."""
        return [line for line in self.lines if line.key]

    def render(self) -> bytes:
        """The file's bytes: every line as it is now, in its encoding and line endings."""
        text = self.newline.join(line.text for line in self.lines)
        if self.final_newline:
            text += self.newline
        return self.bom + text.encode(self.encoding)

    def set_value(self, line: SetLine, value: str) -> None:
        """Change one line's value, keeping its key text as written."""
        key_text = line.text.partition("=")[0]
        line.value = value
        line.text = f"{key_text}={value}"

    def append(self, key: str, value: str, section: Section, suffix: str = "") -> SetLine:
        """Add a line at the end of ``section`` (after its last keyed line)."""
        full = f"{key},{suffix}" if suffix else key
        new = SetLine(0, f"{full}={value}", section, key, suffix, value)
        last = max((i for i, line in enumerate(self.lines) if line.section == section and line.key), default=None)
        if last is None:
            last = len(self.lines) - 1
        self.lines.insert(last + 1, new)
        return new


def _decode(data: bytes) -> tuple[str, str, bytes]:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding), encoding, bom
    try:
        return data.decode("utf-8"), "utf-8", b""
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252", b""  # MetaTrader 4 writes ANSI


def parse_set(name: str, data: bytes) -> SetFile:
    """Read a ``.set`` file; malformed lines are recorded in ``problems`` (file, line, key, value, why)."""
    text, encoding, bom = _decode(data)
    newline = "\r\n" if "\r\n" in text else "\n"
    final_newline = text.endswith(("\n", "\r"))
    raw_lines = text.splitlines()
    result = SetFile(name, [], encoding, bom, newline, final_newline)
    section: Section = "main"
    for number, raw in enumerate(raw_lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            result.lines.append(SetLine(number, raw, section))
            continue
        left, sep, right = raw.partition("=")
        key_text = left.strip()
        value = right.strip()
        if not sep or not key_text:
            result.problems.append(LegacyProblem(name, number, key_text or stripped, value, "not a KEY=VALUE line"))
            result.lines.append(SetLine(number, raw, section))
            continue
        key, _, suffix = key_text.partition(",")
        key, suffix = key.strip().upper(), suffix.strip().upper()
        if suffix and suffix not in SUFFIXES:
            result.problems.append(
                LegacyProblem(name, number, key_text, value, "the suffix after ',' must be F, 1, 2 or 3")
            )
            result.lines.append(SetLine(number, raw, section))
            continue
        if not key.replace("_", "").isalnum():
            result.problems.append(LegacyProblem(name, number, key_text, value, "a key is letters, digits and _"))
            result.lines.append(SetLine(number, raw, section))
            continue
        banner = key.startswith("SECTION_")
        if key.startswith("SECTION_3"):
            section = "additional"
        result.lines.append(SetLine(number, raw, section, key, suffix, value, banner))
    return result


def number(value: str) -> float | None:
    """A .set value as a number (None when it is not one)."""
    try:
        parsed = float(value)
    except ValueError:
        return None
    return parsed if parsed == parsed and parsed not in (float("inf"), float("-inf")) else None


def format_number(value: float) -> str:
    """How MetaTrader writes a number in a preset (8 decimals; integers without them)."""
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return f"{value:.8f}"
