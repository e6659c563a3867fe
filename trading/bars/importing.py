"""Import bar files: parse (any supported format), validate every row, then upsert in one transaction.

``on_error="stop"`` raises :class:`BarImportError` with the FIRST bad row and writes nothing;
``on_error="skip"`` writes the good rows and reports every bad one. Re-importing an overlapping range
updates the bars that changed instead of duplicating them (see :func:`trading.bars.store.bars_upsert`).

Three paths, fastest first; each falls through to the next, having written nothing, when the file does
not fit it or ANY row fails a check, so error reports always come from the exact per-line path:

1. streamed (PostgreSQL, CSV/MetaTrader/HistData files of 8 MB+ with a known timeframe): numpy parses
   ~4 MB pieces (:mod:`trading.bars.formats.fast`) and each goes out on one COPY stream while the next is
   parsed; a bad piece aborts the COPY and rolls back. A file given by path (the command, and uploads, which
   Django spools to a temporary file) is read piece by piece from disk, so a well-formed file of any size is
   never held in memory whole;
2. whole-file fast parse of the same formats, then one upsert;
3. the per-line parsers and :func:`trading.bars.validation.build_bars`, which name file, line, field
   and value of every bad row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
from django.db import connection, transaction

from trading.bars import formats
from trading.bars.brokertime import NY_ROLL
from trading.bars.formats import fast
from trading.bars.pieces import FilePieces, NotFast, Pieces, text_pieces
from trading.bars.store import bars_upsert, bars_upsert_stream
from trading.bars.validation import BarImportError, RawBars, RowError, assemble_clean, build_bars
from trading.models import Instrument

BULK = 100_000  # imports of at least this many bars commit without waiting for the WAL flush
FAST_FORMATS = ("csv", "metatrader", "histdata")
PIECE_CHARS = 4_000_000  # big files are parsed and sent in pieces of about this size (~80k M1 bars)
HEAD_LINES = 64  # the per-line parse of this many lines settles the layout for the fast path
HEAD_BYTES = 1 << 20  # read from the start of a file on disk to find those lines
Progress = Callable[[str, int, int], None]


@dataclass
class ImportReport:
    file: str
    format: str
    instrument: str
    timeframe: int
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    dropped: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.file}: {self.format}, {self.instrument} {self.timeframe}m: {self.rows_read} rows read, "
            f"{self.inserted} inserted, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped} skipped with errors, {self.dropped} dropped (filler bars)"
        )


def upload_source(upload: Any) -> str | IO:
    """What to import from an uploaded file: the temporary file Django spooled a big upload to (read from disk
    piece by piece), or the small in-memory upload itself."""
    path = getattr(upload, "temporary_file_path", None)
    return path() if path is not None else upload


def _read(source: str | Path | IO) -> tuple[str, str]:
    if isinstance(source, str | Path):
        path = Path(source)
        return path.read_text(encoding="utf-8-sig"), str(path)
    data = source.read()
    name = getattr(source, "name", "<upload>")
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    return data, str(name)


def bars_import(
    *,
    source: str | Path | IO,
    fmt: str | None,
    instrument: Instrument,
    timeframe: int | None,
    on_error: Literal["stop", "skip"] = "stop",
    align_tz: str = NY_ROLL,
    progress: Progress | None = None,
    name: str | None = None,
    **format_options,
) -> ImportReport:
    """Import one file of bars for ``instrument``; see the module docstring for the error policy.

    ``name`` is how reports call the file (an upload's own name rather than its temporary path).
    """
    if on_error not in ("stop", "skip"):
        raise ValueError(f"on_error must be 'stop' or 'skip', was {on_error!r}")
    if isinstance(source, str | Path) and connection.vendor == "postgresql":
        path = Path(source)
        if path.is_file() and path.stat().st_size >= 2 * PIECE_CHARS:
            streamed = _fast_stream_file(
                path,
                fmt=fmt,
                file=name or str(path),
                instrument=instrument,
                timeframe=timeframe,
                align_tz=align_tz,
                progress=progress,
                **format_options,
            )
            if streamed is not None:
                return streamed
    text, file = _read(source)
    file = name or file
    if progress:
        progress("parse", 0, 1)
    streamed = _fast_stream(
        text,
        fmt=fmt,
        file=file,
        instrument=instrument,
        timeframe=timeframe,
        align_tz=align_tz,
        progress=progress,
        **format_options,
    )
    if streamed is not None:
        return streamed
    quick = _fast_bars(
        text, fmt=fmt, file=file, instrument=instrument, timeframe=timeframe, align_tz=align_tz, **format_options
    )
    if quick is not None:
        return _write(*quick, instrument, progress)
    name, raw = formats.parse(text, fmt=fmt, file=file, **format_options)
    if not len(raw.lines) and not raw.errors:
        raise BarImportError(f"{file}: no bars in the file (nothing was imported)")
    if progress:
        progress("validate", 0, 1)
    bars, _, timeframe, errors = build_bars(raw, digits=instrument.digits, timeframe=timeframe, align_tz=align_tz)
    report = ImportReport(
        file=file,
        format=name,
        instrument=instrument.symbol,
        timeframe=timeframe,
        rows_read=len(raw.lines) + len({e.line for e in raw.errors}),
        dropped=raw.dropped,
        errors=errors,
        notes=dict(raw.notes, source_tz=raw.source_tz),
    )
    report.skipped = len({e.line for e in errors})
    if errors and on_error == "stop":
        first = errors[0]
        raise BarImportError(f"{first}; nothing was imported", [first])
    return _write(report, bars, instrument, progress)


def _head(text: str, lines: int) -> str:
    """The first ``lines`` lines of ``text`` (all of it when shorter)."""
    end = -1
    for _ in range(lines):
        end = text.find("\n", end + 1)
        if end < 0:
            return text
    return text[:end]


def _fast_head(text: str, *, fmt: str | None, file: str, **format_options) -> tuple[str, RawBars] | None:
    """(format, per-line parse of the first lines) when the file may take the fast path, else None."""
    head_text = _head(text, HEAD_LINES)
    return _fast_head_of(head_text, longer=head_text is not text, fmt=fmt, file=file, **format_options)


def _fast_head_of(
    head_text: str, *, longer: bool, fmt: str | None, file: str, **format_options
) -> tuple[str, RawBars] | None:
    name = fmt or formats.detect_format(head_text, file)
    if name not in FAST_FORMATS:
        return None
    try:
        _, head = formats.parse(head_text, fmt=name, file=file, **format_options)
    except BarImportError:
        return None
    if head.errors or (longer and len(head.lines) < HEAD_LINES - 10):
        return None  # the head must decide delimiter, header and date format as the whole file would
    return name, head


def _fast_stream(
    text: str,
    *,
    fmt: str | None,
    file: str,
    instrument: Instrument,
    timeframe: int | None,
    align_tz: str,
    progress: Progress | None,
    **format_options,
) -> ImportReport | None:
    """Import a big well-formed file piece by piece, each piece going out on the COPY stream (PostgreSQL)
    while the next is parsed. None, with nothing written, when the file is small, the timeframe is not
    known up front, or any piece does not fit the fast path or fails a check (the per-line path follows).
    """
    if connection.vendor != "postgresql" or len(text) < 2 * PIECE_CHARS:
        return None
    found = _fast_head(text, fmt=fmt, file=file, **format_options)
    if found is None:
        return None
    return _stream(
        text_pieces(text, PIECE_CHARS),
        text.count("\n"),
        found,
        file=file,
        instrument=instrument,
        timeframe=timeframe,
        align_tz=align_tz,
        progress=progress,
    )


def _fast_stream_file(
    path: Path,
    *,
    fmt: str | None,
    file: str,
    instrument: Instrument,
    timeframe: int | None,
    align_tz: str,
    progress: Progress | None,
    **format_options,
) -> ImportReport | None:
    """_fast_stream for a file on disk, read one piece at a time (None, nothing written, as _fast_stream)."""
    with path.open("rb") as handle:
        start = handle.read(HEAD_BYTES)
    try:
        head_text = start[: start.rfind(b"\n") + 1].decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    found = _fast_head_of(_head(head_text, HEAD_LINES), longer=True, fmt=fmt, file=file, **format_options)
    if found is None:
        return None
    pieces = FilePieces(path, PIECE_CHARS)
    return _stream(
        pieces,
        pieces.newlines,
        found,
        file=file,
        instrument=instrument,
        timeframe=timeframe,
        align_tz=align_tz,
        progress=progress,
    )


def _stream(
    pieces: Pieces,
    expected: int,
    found: tuple[str, RawBars],
    *,
    file: str,
    instrument: Instrument,
    timeframe: int | None,
    align_tz: str,
    progress: Progress | None,
) -> ImportReport | None:
    """Send ``pieces`` of a file that fits the fast path out on one COPY stream (see _fast_stream)."""
    name, head = found
    if timeframe is not None and head.timeframe is not None and timeframe != head.timeframe:
        return None
    timeframe = timeframe or head.timeframe
    if timeframe is None:
        return None  # detected from every time of the file: use the whole-file path

    def bars_of(index: int) -> np.ndarray:
        columns = fast.read_delimited(
            pieces[index],
            head,
            digits=instrument.digits,
            header=bool(head.layout and head.layout["header"]) and index == 0,
        )
        done = (
            None
            if columns is None
            else assemble_clean(
                columns["seconds"],
                columns["points"],
                columns["volume"],
                columns["spread"],
                source_tz=head.source_tz,
                timeframe=timeframe,
                file_timeframe=head.timeframe,
                align_tz=align_tz,
            )
        )
        if done is None:
            raise NotFast
        return done[0]

    try:
        ends = {0: bars_of(0), len(pieces) - 1: bars_of(len(pieces) - 1)}
    except NotFast:
        return None
    first, last = int(ends[0]["time"][0]), int(ends[len(pieces) - 1]["time"][-1])

    def chunks():
        previous = None
        for index in range(len(pieces)):
            bars = ends[index] if index in ends else bars_of(index)
            if previous is not None and bars["time"][0] <= previous:
                raise NotFast
            previous = bars["time"][-1]
            yield bars

    report = ImportReport(
        file=file,
        format=name,
        instrument=instrument.symbol,
        timeframe=timeframe,
        notes=dict(head.notes, source_tz=head.source_tz),
    )
    if progress:
        progress("write", 0, expected)
    try:
        with transaction.atomic():
            if expected >= BULK:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            written = bars_upsert_stream(
                instrument_id=instrument.id,
                timeframe=timeframe,
                first=first,
                last=last,
                count=expected,
                chunks=chunks(),
                progress=(lambda done, total: progress("write", done, total)) if progress else None,
            )
    except NotFast:
        return None  # rolled back: nothing was written
    report.rows_read = written.rows
    report.inserted, report.updated, report.unchanged = written.inserted, written.updated, written.unchanged
    if progress:
        progress("write", written.rows, written.rows)
    return report


def _fast_bars(
    text: str,
    *,
    fmt: str | None,
    file: str,
    instrument: Instrument,
    timeframe: int | None,
    align_tz: str,
    **format_options,
) -> tuple[ImportReport, np.ndarray] | None:
    """The report and bars of a well-formed delimited file read by :mod:`trading.bars.formats.fast`.

    None when the format has no fast path, the file does not fit it, or any row fails a check: the caller
    then runs the per-line path, which reports the errors exactly.
    """
    found = _fast_head(text, fmt=fmt, file=file, **format_options)
    if found is None:
        return None
    name, head = found
    columns = fast.read_delimited(text, head, digits=instrument.digits)
    if columns is None:
        return None
    done = assemble_clean(
        columns["seconds"],
        columns["points"],
        columns["volume"],
        columns["spread"],
        source_tz=head.source_tz,
        timeframe=timeframe,
        file_timeframe=head.timeframe,
        align_tz=align_tz,
    )
    if done is None:
        return None
    bars, timeframe = done
    report = ImportReport(
        file=file,
        format=name,
        instrument=instrument.symbol,
        timeframe=timeframe,
        rows_read=columns["rows"],
        notes=dict(head.notes, source_tz=head.source_tz),
    )
    return report, bars


def _write(report: ImportReport, bars: np.ndarray, instrument: Instrument, progress: Progress | None) -> ImportReport:
    if progress:
        progress("write", 0, len(bars))
    with transaction.atomic():
        if connection.vendor == "postgresql" and len(bars) >= BULK:
            # A lost import (crash right after commit) is re-run, not corrupted: don't wait for the WAL flush.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        # One upsert: one range check, one COPY stream, one ANALYZE and one cache invalidation.
        part = bars_upsert(
            instrument_id=instrument.id,
            timeframe=report.timeframe,
            bars=bars,
            progress=(lambda done, total: progress("write", done, total)) if progress else None,
        )
        report.inserted += part.inserted
        report.updated += part.updated
        report.unchanged += part.unchanged
    if progress:
        progress("write", len(bars), len(bars))
    return report
